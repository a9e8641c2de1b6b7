"""The search for a wrong value, on kinds the app's own tables do not use: it needs no
PostgreSQL, so it holds on both legs."""

import random
import sqlite3
from calendar import isleap

import pytest

from dbcopy.kinds import VALUE_KINDS
from dbcopy.sqlite import _all_utf8, bad_value, problem_values
from dbcopy.tables import Column, Table


def example_table(name: str, **kinds: str) -> Table:
    """A table ``example_<name>`` keyed by an integer ``id``, with columns of these kinds."""
    columns = (Column("id", "int"), *(Column(c, kind) for c, kind in kinds.items()))
    return Table(f"example.{name.title()}", f"example_{name}", "id", columns, ())


TABLE = example_table("row", price="decimal", day="date", at="time", took="duration", data="binary")
GOOD = {"price": 1.5, "day": "2024-02-29", "at": "23:59:59.123456", "took": 90, "data": b"\x00"}


def database(**row):
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE example_row (id integer PRIMARY KEY, price decimal, day date,"
        " at time, took bigint, data blob)"
    )
    for key, values in enumerate([GOOD, {**GOOD, **row}], start=1):
        conn.execute(
            "INSERT INTO example_row VALUES (?, ?, ?, ?, ?, ?)", [key, *(values[c] for c in GOOD)]
        )
    return conn


def test_values_as_django_stores_them_are_fine():
    assert bad_value(database(), TABLE) is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"price": "twelve"}, "example_row.price of the row with id = 2: not a decimal number"),
        ({"day": "2026-02-29"}, "example_row.day of the row with id = 2: not a date as Django"),
        ({"day": "2026-1-02"}, "example_row.day of the row with id = 2: not a date as Django"),
        ({"at": "24:00:00"}, "example_row.at of the row with id = 2: not a time of day"),
        # SQLite's GLOB and length() stop at a NUL: what follows one must not pass unseen.
        ({"day": "2024-02-29\x00x"}, "example_row.day of the row with id = 2: not a date as"),
        ({"at": "23:59:59\x00.123456"}, "example_row.at of the row with id = 2: not a time of"),
        ({"took": "1 day"}, "example_row.took of the row with id = 2: not a duration"),
        ({"data": "text"}, "example_row.data of the row with id = 2: not binary data"),
    ],
)
def test_a_wrong_value_is_named_with_its_key(row, reason):
    bad = bad_value(database(**row), TABLE)

    assert bad is not None and str(bad).startswith(reason)


def test_texts_decoded_together_decode_exactly_when_each_does():
    split = [(1, "caf\u00e9".encode()[:-1]), (2, "caf\u00e9".encode()[-1:])]  # é cut in two
    assert not _all_utf8(split)
    assert not _all_utf8([(1, b"ok", b"\xed\xa0\x80")])  # an encoded surrogate
    assert _all_utf8([(1, "caf\u00e9".encode(), None), (2, "\U0001f331".encode(), b"")])


NOTES = example_table("note", title="text", body="text")


def notes(bodies: dict[int, bytes]) -> sqlite3.Connection:
    """Twenty notes of well-formed text, the bodies of some keys replaced (bytes stored as
    they are, as text)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE example_note (id integer PRIMARY KEY, title text, body text)")
    for key in range(1, 21):
        body = bodies.get(key, f"caf\u00e9 {key}".encode())
        conn.execute(
            "INSERT INTO example_note VALUES (?, 'na\u00efve', CAST(? AS TEXT))", [key, body]
        )
    return conn


def test_the_whole_table_search_names_each_text_that_is_not_utf8_among_good_rows(monkeypatch):
    """Unordered, the table is decoded a part at a time (here 3 rows); a part that does not
    decode is read row by row, and only its wrong texts are named."""
    monkeypatch.setattr("dbcopy.sqlite.TEXT_PART_ROWS", 3)
    conn = notes({8: b"caf\xe9", 9: "\u00e9".encode()[:1], 17: b"a\x00b"})

    found = [(b.key, b.column, b.reason) for b in problem_values(conn, NOTES, ordered=False)]

    assert sorted(found) == [
        (8, "body", "text that is not UTF-8"),
        (9, "body", "text that is not UTF-8"),
        (17, "body", "holds a NUL character, which PostgreSQL refuses"),
    ]
    in_key_order = [(b.key, b.column, b.reason) for b in problem_values(conn, NOTES)]
    assert sorted(in_key_order) == sorted(found)  # what the copy's own search finds


def test_the_whole_table_search_passes_well_formed_text(monkeypatch):
    monkeypatch.setattr("dbcopy.sqlite.TEXT_PART_ROWS", 3)
    conn = notes({5: "\U0001f331".encode(), 6: b""})

    assert list(problem_values(conn, NOTES, ordered=False)) == []


@pytest.mark.parametrize(
    "create",
    [
        "CREATE TABLE example_note (id integer PRIMARY KEY, title text, body text, rowid int)",
        "CREATE TABLE example_note (id integer PRIMARY KEY, title, body, rowid, _rowid_, oid)",
        "CREATE TABLE example_note (id integer PRIMARY KEY, title text, body text) WITHOUT ROWID",
    ],
    ids=["a column named rowid", "columns taking every name", "WITHOUT ROWID"],
)
def test_a_table_without_a_rowid_to_read_by_is_searched_row_by_row(monkeypatch, create):
    monkeypatch.setattr("dbcopy.sqlite.TEXT_PART_ROWS", 3)
    conn = sqlite3.connect(":memory:")
    conn.execute(create)
    for key in range(1, 21):
        body = b"caf\xe9" if key == 8 else b"ok"
        conn.execute(
            "INSERT INTO example_note (id, title, body) VALUES (?, 'x', CAST(? AS TEXT))",
            [key, body],
        )

    found = [(b.key, b.column, b.reason) for b in problem_values(conn, NOTES, ordered=False)]

    assert found == [(8, "body", "text that is not UTF-8")]


IDS = example_table("link", ref="uuid", other="uuid")
UUID = "0123456789abcdef" * 2


def links(monkeypatch) -> tuple[sqlite3.Connection, list[str]]:
    """Ten rows of right UUIDs (``other`` NULL), searched a part of 3 rows at a time; and the
    statements SQLite runs from now on."""
    monkeypatch.setattr("dbcopy.sqlite.FETCH_ROWS", 3)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE example_link (id integer PRIMARY KEY, ref char(32), other char(32))")
    for key in range(1, 11):
        conn.execute("INSERT INTO example_link VALUES (?, ?, ?)", [key, UUID, None])
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    return conn, statements


@pytest.mark.parametrize(
    "wrong",
    [
        UUID.upper(),
        UUID[:-1],
        UUID + "0",
        UUID[:16] + "-" + UUID[17:],
        UUID[:-1] + "g",
        UUID[:-1] + "\x00",
        UUID[:-2] + "\u00e9",  # 32 characters, 33 bytes
        UUID.encode(),  # the same bytes, stored as a blob
        1234567890123456789,
        1.5e31,
    ],
    ids=repr,
)
def test_the_whole_table_search_names_each_wrong_uuid_as_the_copy_does(monkeypatch, wrong):
    """Unordered, a UUID column is first told right or not by Python, a part at a time (here 3
    rows); a column with a wrong value is searched by SQL, which names it as the copy's own
    search, in key order, does. The other column, all right, is not searched."""
    conn, statements = links(monkeypatch)
    conn.execute("UPDATE example_link SET ref = ?, other = ? WHERE id = 8", [wrong, UUID])

    found = [(b.key, b.column, b.reason) for b in problem_values(conn, IDS, ordered=False)]

    assert found == [(8, "ref", "not a UUID as Django stores it (32 lowercase hex digits)")]
    searched = " ".join(s for s in statements if " GLOB " in s)
    assert '"ref" GLOB' in searched and '"other" GLOB' not in searched
    assert [(b.key, b.column, b.reason) for b in problem_values(conn, IDS)] == found


def test_the_whole_table_search_passes_uuids_as_django_stores_them(monkeypatch):
    conn, statements = links(monkeypatch)

    assert list(problem_values(conn, IDS, ordered=False)) == []
    assert not [s for s in statements if " GLOB " in s]


def generated_values(kind: str, count: int, seed: int) -> list[str]:
    """Dates (and times) near and past every limit: month and day 0 to 32, Februaries of
    leap and common years, hour 24, minute and second 60, every fraction's shape; a third of
    them then edited a character or three (digits, separators, a NUL, non-ASCII)."""
    rng = random.Random(seed)
    years = [0, 1, 4, 100, 300, 400, 1900, 2000, 2024, 2100, 2400, 9999]
    values = []
    for _ in range(count):
        year = rng.choice([rng.randint(0, 9999), *years])
        day = rng.choice([rng.randint(0, 32), 28, 29, 29, 30, 31])
        value = f"{year:04d}-{rng.choice([rng.randint(0, 13), 2, 2]):02d}-{day:02d}"
        if kind == "datetime":
            hour, minute, second = rng.randint(0, 24), rng.randint(0, 60), rng.randint(0, 60)
            digits = "".join(rng.choice("0123456789") for _ in range(6))
            fraction = rng.choice(["", f".{digits}", ".000000", ".000001", ".5", ".1234567"])
            value += f" {hour:02d}:{minute:02d}:{second:02d}{fraction}"
        if rng.random() < 0.3:
            chars = list(value)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(chars))
                chars[at : at + rng.randint(0, 1)] = rng.choice("0123456789-: .T,\x00\u00e9\u0663")
            value = "".join(chars)
        values.append(value)
    return values


@pytest.mark.parametrize("kind", ["datetime", "date"])
def test_a_shape_python_matches_is_exactly_a_value_sqls_check_passes(kind):
    """What lets a whole table's search skip SQL's check of a column: over generated values,
    a text matches the kind's shape exactly when the check finds nothing wrong with it."""
    value_kind = VALUE_KINDS[kind]
    wrong, _ = value_kind.sqlite_checks('"v"', Column("v", kind))[0]
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE t (v {kind})")
    conn.executemany("INSERT INTO t VALUES (?)", [(v,) for v in generated_values(kind, 20_000, 1)])

    judged = conn.execute(f"SELECT v, ({wrong}) FROM t").fetchall()

    assert 2_000 < sum(1 for _, w in judged if not w) < 18_000  # both answers well represented
    assert all(w for v, w in judged if not isinstance(v, str))  # digits alone, kept as numbers
    texts = [(v, w) for v, w in judged if isinstance(v, str)]
    assert [v for v, w in texts if (value_kind.shapes.fullmatch(v) is not None) == bool(w)] == []


def test_every_day_of_every_february_is_judged_as_the_gregorian_calendar_does():
    """SQLite's date functions take 0300-02-29 for a day; PostgreSQL refuses it."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (v date)")
    days = [f"{year:04d}-02-{day}" for year in range(1, 10_000) for day in (28, 29, 30)]
    conn.executemany("INSERT INTO t VALUES (?)", [(d,) for d in days])
    wrong, _ = VALUE_KINDS["date"].sqlite_checks('"v"', Column("v", "date"))[0]

    right = {v for v, w in conn.execute(f"SELECT v, ({wrong}) FROM t") if not w}

    assert right == {
        d for d in days if d.endswith("28") or (d.endswith("29") and isleap(int(d[:4])))
    }
    assert right == {d for d in days if VALUE_KINDS["date"].shapes.fullmatch(d)}


EVENTS = example_table("event", at="datetime", on="date")


@pytest.mark.parametrize(
    "wrong",
    [
        "2024-02-30 10:00:00",
        "2023-02-29 10:00:00.123456",
        "2024-01-01 24:00:00",
        "2024-01-01 10:00:00.000000",
        "0000-01-01 10:00:00",
        "2024-01-01T10:00:00",
        "2024-01-01 10:00:00\x00",
        "2024-01-01 10:00:00,2024-01-01 10:00:00",
        b"2024-01-01 10:00:00",
        20240101100000,
    ],
    ids=repr,
)
def test_the_whole_table_search_names_each_wrong_time_as_the_copy_does(monkeypatch, wrong):
    """As for UUIDs: a date or time column is told by Python, and only a column with a wrong
    value is searched by SQL (here ``at``, never ``on``), which names it as the copy does."""
    monkeypatch.setattr("dbcopy.sqlite.FETCH_ROWS", 3)
    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE example_event (id integer PRIMARY KEY, "at" datetime, "on" date)')
    for key in range(1, 11):
        conn.execute(
            "INSERT INTO example_event VALUES (?, ?, ?)", [key, "2024-02-29 23:59:59.999999", None]
        )
    conn.execute("UPDATE example_event SET at = ?, \"on\" = '2000-02-29' WHERE id = 8", [wrong])
    statements = []
    conn.set_trace_callback(statements.append)

    found = [(b.key, b.column, b.reason) for b in problem_values(conn, EVENTS, ordered=False)]

    reason = "not a date and time as Django stores it (UTC 'YYYY-MM-DD HH:MM:SS[.ffffff]')"
    assert found == [(8, "at", reason)]
    assert not [s for s in statements if 'CASE WHEN "on" IS NULL' in s]  # told by Python
    assert [(b.key, b.column, b.reason) for b in problem_values(conn, EVENTS)] == found


def test_a_whole_table_is_read_in_parts_across_gaps_up_to_the_largest_rowid(monkeypatch):
    """Parts are ranges of rowids: a gap costs one step, and the last rowid SQLite can give is
    read too."""
    conn, _ = links(monkeypatch)
    conn.execute("UPDATE example_link SET other = ? WHERE id = 3", [UUID])
    for key, ref, body in [(2**62, UUID.upper(), b"ok"), (2**63 - 1, UUID, b"caf\xe9")]:
        conn.execute("INSERT INTO example_link VALUES (?, ?, ?)", [key, ref, UUID])
        conn.execute("UPDATE example_link SET other = CAST(? AS TEXT) WHERE id = ?", [body, key])
    conn.set_trace_callback(None)

    found = sorted((b.key, b.column) for b in problem_values(conn, IDS, ordered=False))

    assert found == [(2**62, "other"), (2**62, "ref"), (2**63 - 1, "other")]
    notes_conn = notes({})
    for key in (2**40, 2**63 - 1):
        notes_conn.execute(
            "INSERT INTO example_note VALUES (?, 'x', CAST(? AS TEXT))", [key, b"\xe9"]
        )
    monkeypatch.setattr("dbcopy.sqlite.TEXT_PART_ROWS", 3)

    found = [(b.key, b.reason) for b in problem_values(notes_conn, NOTES, ordered=False)]

    assert sorted(found) == [(key, "text that is not UTF-8") for key in (2**40, 2**63 - 1)]
