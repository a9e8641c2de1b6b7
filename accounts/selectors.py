"""Reads of users."""

import uuid

from django.db import connections

from accounts.models import User
from config.database import DB_DEFAULT
from config.rows import instance_from_row, select_columns


def get_user_by_provider(*, provider: str, provider_subject: str) -> User | None:
    return User.objects.filter(provider=provider, provider_subject=provider_subject).first()


def get_user_by_id(*, user_id: uuid.UUID) -> User | None:
    """The user, read from the primary: it authenticates every request, and a deleted or
    disabled account must stop working at once, not after replica lag. The SQL is written out:
    the ORM took longer to build the query than the database took to answer it."""
    connection = connections[DB_DEFAULT]
    quote = connection.ops.quote_name
    pk = User._meta.pk
    sql = (
        f"SELECT {select_columns(User, User._meta.db_table, connection)}"  # noqa: S608
        f" FROM {quote(User._meta.db_table)} WHERE {quote(pk.column)} = %s LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk.get_db_prep_value(user_id, connection)])
        row = cursor.fetchone()
    return None if row is None else instance_from_row(User, DB_DEFAULT, connection, row)
