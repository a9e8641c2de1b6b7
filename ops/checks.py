"""System checks of the site's own settings (``manage.py check``, ``check --deploy``)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

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
