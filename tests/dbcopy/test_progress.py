"""Progress as an operator sees it: drawn through the command's ``OutputWrapper``, a bar
redrawn in place on a terminal, plain lines elsewhere."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.core.management.color import color_style

from dbcopy.progress import StreamProgress
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import fill


class Terminal(StringIO):
    def isatty(self):
        return True


def terminal():
    out = Terminal()
    wrapper = OutputWrapper(out)
    wrapper.style_func = color_style(force_color=True).ERROR  # as a command's stderr is
    return out, wrapper


def finished_lines(text: str) -> list[str]:
    """What stays on the screen: per line, what the last carriage return left."""
    return [line.rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")[:-1]]


def test_a_terminal_bar_redraws_in_place_and_leaves_one_line_per_table():
    out, stderr = terminal()
    progress = StreamProgress(stderr, is_tty=stderr.isatty(), interval=0)

    progress.table_started("accounts_user", 4)
    for done in range(1, 5):
        progress.rows("accounts_user", done, 4)
    progress.table_done("accounts_user")
    progress.table_started("django_session", 0)
    progress.table_done("django_session")

    text = out.getvalue()
    assert text.count("\n") == 2  # a 4-row table: one line, however many redraws
    # Drawn at the start, at each of the 4 counts and when done; the empty table twice.
    assert text.count("\r") == 6 + 2
    assert "\x1b[" not in text  # not in stderr's red
    assert re.search(r"\[#{12}\.{12}\] +2/4 rows  50%", text)
    assert re.search(r"rows/s  ETA \d+:\d\d", text)
    first, second = finished_lines(text)
    assert re.search(r"\[#{24}\] +4/4 rows 100%", first)
    assert re.search(r"rows/s  in \d+:\d\d$", first)
    assert second.startswith("django_session") and "0/0 rows 100%" in second


def test_a_shorter_redraw_wipes_what_the_longer_one_left():
    out, stderr = terminal()
    progress = StreamProgress(stderr, is_tty=True, interval=0)

    progress.start("rebuilding", 10, "steps")
    progress._drawn = 200  # a previous, longer line
    progress.update(5)

    assert out.getvalue().split("\r")[-1].endswith(" " * 50)


def test_plain_progress_has_no_carriage_return_and_one_line_per_table_when_done():
    out = StringIO()
    stderr = OutputWrapper(out)
    progress = StreamProgress(stderr, is_tty=stderr.isatty())  # every 5 s, then when done

    progress.table_started("journal_journalentry", 10_000)
    progress.rows("journal_journalentry", 5_000, 10_000)
    progress.rows("journal_journalentry", 10_000, 10_000)
    progress.table_done("journal_journalentry")
    progress.message("rebuilding")

    assert "\r" not in out.getvalue()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "10,000/10,000 rows 100%" in lines[0] and "rows/s  in 0:00" in lines[0]
    assert lines[1] == "rebuilding"


def test_plain_progress_prints_periodic_lines_with_counts_and_rate():
    out = StringIO()
    progress = StreamProgress(OutputWrapper(out), is_tty=False, interval=0)

    progress.table_started("journal_journalentry", 10_000)
    progress.rows("journal_journalentry", 5_000, 10_000)
    progress.table_done("journal_journalentry")

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "5,000/10,000 rows  50%" in lines[0] and "ETA" in lines[0]
    assert "5,000/10,000 rows  50%" in lines[1] and " in " in lines[1]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("command", ["copy_from_sqlite", "verify_copy"])
def test_commands_draw_tables_rebuild_and_verification_on_a_terminal(source, command):
    fill(FILL)
    if command == "verify_copy":
        call_command("copy_from_sqlite", str(source), stderr=StringIO(), stdout=StringIO())
    err = Terminal()

    call_command(command, str(source), stderr=err, stdout=StringIO())

    text = err.getvalue()
    assert "\r" in text
    lines = finished_lines(text)
    tables = [line for line in lines if re.match(r"\w+ +\[#+\] +\d+/\d+ rows 100%", line)]
    verifying = [line for line in lines if line.startswith("verifying ")]
    assert len(verifying) == 1 and "rows 100%" in verifying[0]
    if command == "copy_from_sqlite":
        assert len(tables) == 18  # 17 tables, then the verification
        assert sum("journal_journalentry" in line for line in lines) == 1
        rebuilt = [line for line in lines if line.startswith("rebuilding keys")]
        assert len(rebuilt) == 1 and "steps 100%" in rebuilt[0]
        assert len(lines) == 17 + 3  # and "setting constraints and indexes aside"
    else:
        assert lines == verifying


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_no_progress_gives_plain_lines_even_on_a_terminal(source):
    fill(FILL)
    err = Terminal()

    call_command("copy_from_sqlite", str(source), "--no-progress", stderr=err, stdout=StringIO())

    text = err.getvalue()
    assert "\r" not in text and "[" not in text
    lines = text.splitlines()
    assert sum(line.startswith("journal_journalentry ") for line in lines) == 1
    assert len(lines) == 17 + 3
