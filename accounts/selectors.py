"""Reads of users."""

import uuid

from django.db import connections

from accounts.models import User
from config.database import DB_DEFAULT


def get_user_by_provider(*, provider: str, provider_subject: str) -> User | None:
    return User.objects.filter(provider=provider, provider_subject=provider_subject).first()


def get_user_by_id(*, user_id: uuid.UUID) -> User | None:
    """The user, read from the primary: it authenticates every request, and a deleted or
    disabled account must stop working at once, not after replica lag. The SQL is written out
    (a raw query, which still builds a ``User``): the ORM took longer to build the query than
    the database took to answer it."""
    connection = connections[DB_DEFAULT]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in User._meta.concrete_fields)
    pk = User._meta.pk
    sql = (
        f"SELECT {columns} FROM {quote(User._meta.db_table)}"  # noqa: S608
        f" WHERE {quote(pk.column)} = %s LIMIT 1"
    )
    params = [pk.get_db_prep_value(user_id, connection)]
    return next(iter(User.objects.db_manager(DB_DEFAULT).raw(sql, params)), None)
