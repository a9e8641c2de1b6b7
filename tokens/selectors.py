"""Reads of tokens and sessions."""

import hashlib

from django.db import connections, router
from django.utils import timezone

from config.database import DB_DEFAULT
from config.rows import instance_from_row, select_columns
from tokens.models import RefreshToken, RevokedJti, Session


def hash_refresh_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()


def find_valid_refresh_token(*, raw_token: str) -> RefreshToken | None:
    """The current token with this value, of a live session (not revoked, not expired)."""
    return (
        RefreshToken.objects.select_related("session", "session__user")
        .filter(
            token_hash=hash_refresh_token(raw_token),
            rotated_at__isnull=True,
            session__revoked_at__isnull=True,
            session__expires_at__gt=timezone.now(),
        )
        .first()
    )


def find_refresh_token(*, raw_token: str) -> RefreshToken | None:
    """The token with this value whatever its state (rotation needs to see reuse), with its
    session and the session's user loaded. One join, written out: every refresh runs it, and
    the ORM took longer to build it than the database to answer it."""
    alias = router.db_for_read(RefreshToken)
    connection = connections[alias]
    quote = connection.ops.quote_name
    user_model = Session._meta.get_field("user").related_model
    models = (RefreshToken, Session, user_model)
    columns = [select_columns(m, a, connection) for m, a in zip(models, "tsu", strict=True)]
    sql = (
        f"SELECT {', '.join(columns)}"  # noqa: S608
        f" FROM {quote(RefreshToken._meta.db_table)} t"
        f" JOIN {quote(Session._meta.db_table)} s"
        f" ON s.{quote(Session._meta.pk.column)} = t.{quote('session_id')}"
        f" JOIN {quote(user_model._meta.db_table)} u"
        f" ON u.{quote(user_model._meta.pk.column)} = s.{quote('user_id')}"
        f" WHERE t.{quote('token_hash')} = %s LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [hash_refresh_token(raw_token)])
        row = cursor.fetchone()
    if row is None:
        return None
    objects, start = [], 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        objects.append(instance_from_row(model, alias, connection, row[start:end]))
        start = end
    token, session, user = objects
    session.user = user
    token.session = session
    return token


def is_jti_revoked(*, jti: str) -> bool:
    """Whether the access token was revoked. Read from the primary: a logout must kill its
    token at once, not after replica lag. Every authenticated request runs it, so the SQL is
    written out: building it with the ORM took longer than the query itself."""
    connection = connections[DB_DEFAULT]
    table = connection.ops.quote_name(RevokedJti._meta.db_table)
    column = connection.ops.quote_name(RevokedJti._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE {column} = %s LIMIT 1", [jti])  # noqa: S608
        return cursor.fetchone() is not None


def list_sessions(*, user) -> list[Session]:
    """The user's live logins, most recently used first."""
    return list(
        Session.objects.filter(
            user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).order_by("-last_used_at", "-created_at")
    )
