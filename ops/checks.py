"""System checks of the site's own settings (``manage.py check``, ``check --deploy``, and with
``--database default`` or in ``migrate``, the database's)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS

from ops.pooler import statement_timeout_problem

W001 = Warning(
    "HTTPS=1 with NUM_PROXIES=0: behind the TLS proxy every client has the proxy's address, so "
    "every client shares one throttle bucket.",
    hint="Set NUM_PROXIES to the number of proxies in front of the app that append to "
    "X-Forwarded-For (usually 1).",
    id="ops.W001",
)


@register(Tags.security, deploy=True)
def check_client_addresses(app_configs, **kwargs):
    """Served behind a proxy (``HTTPS=1``) the client address is in X-Forwarded-For, which
    ``NUM_PROXIES=0`` ignores."""
    if settings.HTTPS and settings.REST_FRAMEWORK.get("NUM_PROXIES", 0) == 0:
        return [W001]
    return []


@register(Tags.database)
def check_statement_timeout(app_configs, databases=None, **kwargs):
    """Behind PgBouncer the statement timeout is PgBouncer's to set (``ops.pooler``): say when
    the server connection in force has another one than ``DB_STATEMENT_TIMEOUT_MS``."""
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    problem = statement_timeout_problem(DEFAULT_DB_ALIAS)
    if problem is None:
        return []
    return [
        Warning(
            problem,
            hint="The app cannot set it through PgBouncer: docs/operations.md, "
            "'Behind PgBouncer', shows where it goes.",
            id="ops.W002",
        )
    ]
