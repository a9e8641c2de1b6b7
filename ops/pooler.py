"""Running behind PgBouncer in transaction mode (``DB_POOLER=pgbouncer``).

PgBouncer refuses the startup parameter that carries ``statement_timeout`` to the server, and
hands each transaction whichever server connection is free, so a session ``SET`` would land
on one connection and not the next. The timeout is therefore the app role's own setting in
its database (``ALTER ROLE CURRENT_USER IN DATABASE ... SET statement_timeout``), which every
new server connection starts with: ``migrate`` applies it (``post_migrate``), so a changed
``DB_STATEMENT_TIMEOUT_MS`` takes effect with the next ``migrate``. Server connections that
PgBouncer opened before keep the value they started with: the idle ones are ended (PgBouncer
opens new ones on demand), and the one ``migrate`` used gets it for its session.
"""

import logging
from typing import cast

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Count, F, Func

from config.database import DB_DEFAULT, POOLER_PGBOUNCER
from ops.backends.postgresql.base import DatabaseSchemaEditor
from ops.models import ServerConnection, ServerSetting

logger = logging.getLogger(__name__)


def statement_timeout_setting() -> str:
    return f"{settings.DB_STATEMENT_TIMEOUT_MS}ms"


def apply_statement_timeout(alias: str = DB_DEFAULT) -> None:
    """Make ``DB_STATEMENT_TIMEOUT_MS`` the app role's ``statement_timeout`` in its database."""
    wrapper = connections[alias]
    timeout = statement_timeout_setting()
    # A role's setting in a database is DDL: the schema editor of ops.backends.postgresql.
    with wrapper.schema_editor(atomic=False) as editor:
        cast(DatabaseSchemaEditor, editor).alter_role_setting("statement_timeout", timeout)
    # This connection's own session: an UPDATE of pg_settings is PostgreSQL's SET.
    ServerSetting.objects.using(alias).filter(name="statement_timeout").update(setting=timeout)
    # The server connections PgBouncer keeps idle started with the old value: ended, they
    # are opened afresh on demand.
    ServerConnection.objects.using(alias).filter(
        datname=Func(template="current_database()"),
        usename=Func(template="current_user"),
        state="idle",
    ).exclude(pid=Func(template="pg_backend_pid()")).aggregate(
        ended=Count(Func(F("pid"), function="pg_terminate_backend"))
    )


def on_post_migrate(sender, using=DB_DEFAULT, **kwargs) -> None:
    """After ``migrate`` on default behind PgBouncer: the statement timeout (connected with the
    ops app as sender, so once per run)."""
    if settings.DB_POOLER != POOLER_PGBOUNCER or using != DB_DEFAULT:
        return
    if connections[using].vendor != "postgresql":  # a SQLite file migrated in this environment
        return
    if kwargs.get("plan") is None:  # flush sends the signal too, without a migration plan
        return
    try:
        apply_statement_timeout(using)
    except DatabaseError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.warning(
            "statement_timeout not set for the app role (%s); set it as its owner: "
            "ALTER ROLE <role> IN DATABASE <db> SET statement_timeout = '%s'",
            first,
            statement_timeout_setting(),
        )
