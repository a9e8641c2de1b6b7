"""Row locks on users: the one place that takes them, so every writer locks the same way."""

from django.db import connections

from accounts.models import User
from config.database import DB_DEFAULT


def lock_user(*, user_id) -> None:
    """Lock the user's row until the surrounding transaction ends. Writes that check a
    per-user limit take it first, so two of them cannot both pass the check. (SQLite has no
    row locks; its IMMEDIATE transactions already run writers one at a time.) The SQL is
    written out: every journal write runs it, and the ORM took longer to build it than the
    database to run it."""
    connection = connections[DB_DEFAULT]
    quote = connection.ops.quote_name
    pk = User._meta.pk
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(pk.column)} FROM {quote(User._meta.db_table)}"  # noqa: S608
            f" WHERE {quote(pk.column)} = %s{lock}",
            [pk.get_db_prep_value(user_id, connection)],
        )
        cursor.fetchone()
