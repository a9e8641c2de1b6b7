from io import StringIO

from dbcopy.progress import StreamProgress


def test_plain_progress_prints_a_line_per_table_with_counts_and_rate():
    out = StringIO()
    progress = StreamProgress(out, is_tty=False, interval=0)

    progress.table_started("journal_journalentry", 10_000)
    progress.rows("journal_journalentry", 5_000, 10_000)
    progress.rows("journal_journalentry", 10_000, 10_000)
    progress.table_done("journal_journalentry")

    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "\r" not in out.getvalue()
    assert "5,000/10,000 rows" in lines[0] and "50%" in lines[0]
    assert "10,000/10,000 rows" in lines[-1] and "100%" in lines[-1]
    assert lines[-1].endswith("rows/s")


def test_terminal_progress_redraws_one_bar_per_table():
    out = StringIO()
    progress = StreamProgress(out, is_tty=True, interval=0)

    progress.table_started("accounts_user", 4)
    progress.rows("accounts_user", 2, 4)
    progress.table_done("accounts_user")
    progress.table_started("django_session", 0)
    progress.table_done("django_session")

    text = out.getvalue()
    assert text.count("\n") == 2  # one finished line per table
    assert "\r" in text
    assert "[############............]" in text  # half the bar at 2 of 4
    assert "0/0 rows 100%" in text
