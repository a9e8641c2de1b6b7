from django.apps import AppConfig
from django.core.signals import request_finished
from django.db.models.signals import post_migrate


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
        # Behind PgBouncer, migrate sets the statement timeout as the role's setting.
        from ops.pooler import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="journal_pooler_timeout")
