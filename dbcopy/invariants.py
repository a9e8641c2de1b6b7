"""What the app relies on and the database may not enforce everywhere: every foreign key
resolves, ``size_bytes`` is the UTF-8 length of the content, each user's journal usage row
holds the sum and count of their entries. Checked after every copy, on the database that was
written."""

from dbcopy.tables import Table
from dbcopy.values import quote
from journal.models import JournalEntry, JournalUsage


def _queries(tables: list[Table], byte_length: str) -> list[tuple[str, str]]:
    queries = []
    names = {t.name for t in tables}
    for table in tables:
        for column, parent, parent_column in table.foreign_keys:
            if parent not in names:
                continue
            queries.append(
                (
                    f"{table.name}.{column} points at missing {parent} rows",
                    f"SELECT count(*) FROM {quote(table.name)} c"
                    f" WHERE c.{quote(column)} IS NOT NULL"
                    f" AND NOT EXISTS (SELECT 1 FROM {quote(parent)} p"
                    f" WHERE p.{quote(parent_column)} = c.{quote(column)})",
                )
            )
    entries = quote(JournalEntry._meta.db_table)
    queries.append(
        (
            "journal entries whose size_bytes is not the UTF-8 length of their content",
            f"SELECT count(*) FROM {entries} WHERE size_bytes <> {byte_length}",
        )
    )
    if JournalUsage._meta.db_table in names:
        usage = quote(JournalUsage._meta.db_table)
        # A user with entries has a row that matches them; a user without entries has none,
        # or one at zero.
        queries.append(
            (
                "users whose journal usage row is not the sum and count of their entries",
                "SELECT (SELECT count(*) FROM (SELECT user_id, sum(size_bytes) AS b,"
                f" count(*) AS n FROM {entries} GROUP BY user_id) t"
                f" LEFT JOIN {usage} u ON u.user_id = t.user_id"
                " WHERE u.user_id IS NULL OR u.bytes_used <> t.b OR u.entries <> t.n)"
                f" + (SELECT count(*) FROM {usage} u WHERE (u.bytes_used <> 0 OR u.entries <> 0)"
                f" AND NOT EXISTS (SELECT 1 FROM {entries} e WHERE e.user_id = u.user_id))",
            )
        )
    return queries


def _run(cursor, queries) -> list[str]:
    failures = []
    for description, sql in queries:
        cursor.execute(sql)
        count = cursor.fetchone()[0]
        if count:
            failures.append(f"invariant broken: {count} {description}")
    return failures


def check_postgres(pg, tables: list[Table]) -> list[str]:
    with pg.cursor() as cursor:
        return _run(cursor, _queries(tables, "octet_length(content)"))


def check_sqlite(conn, tables: list[Table]) -> list[str]:
    return _run(conn.cursor(), _queries(tables, "length(CAST(content AS BLOB))"))
