"""Rate limits per client address (DRF throttling) on the endpoints anyone can call."""

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle


class ClientAddressThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle``: a view's ``throttle_scope`` names its rate in
    ``settings.THROTTLE_RATES``, counted per client address (``NUM_PROXIES`` says which
    address that is). The rates are read on each request, not once at import as DRF's own
    class does, so a changed setting applies at once; over the rate, DRF answers 429 with
    ``Retry-After``."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802 (the name DRF looks up)
        return settings.THROTTLE_RATES
