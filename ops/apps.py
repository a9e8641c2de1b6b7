from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.core.signals import request_finished


class OpsConfig(AppConfig):
    """The site's runtime shared by every app, wired once at start-up: the pool gauges
    refreshed after every request, the OpenAPI description of the authentication and the
    site's system checks."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ops import checks, metrics, openapi  # noqa: F401 (checks and openapi register)

        # Connected after Django's own close_old_connections, so the request's connection is
        # already back in the pool when the gauges are read.
        request_finished.connect(metrics.update_pool_gauges, dispatch_uid="journal_pool_gauges")


class OpsAdminConfig(AdminConfig):
    """Django's admin, with the project's site: its login page is rate limited
    (``ops.admin_login``)."""

    default_site = "ops.admin_login.ThrottledAdminSite"
