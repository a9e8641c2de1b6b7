"""Rate limits (DRF throttling): per client address on the endpoints anyone can call, per user
on journal writes.

DRF's own throttles keep a list of timestamps per client in Django's cache, read and written
whole on every request. Shared between gunicorn's workers through a file cache that cost about
0.25 ms a request (a third of a token refresh), and in each worker's memory it let a client
have workers x the rate. Here the counts are two integers per client and scope in the shared
state store (``ops.shared_state``: Redis, a host's SQLite file, or memory), which fails safe:
a broken store never means no limit. A client is its address, an IPv6 one its /64
(``client_ident``): a host is given a /64, so counting single IPv6 addresses would give it
2**64 rates.
"""

import ipaddress
import math

from django.conf import settings
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from ops.http import SAFE_METHODS
from ops.shared_state import shared_state


def client_ident(request) -> str:
    """Who a request counts against when no user is known: the client's address as DRF's
    throttles see it (``NUM_PROXIES``), an IPv6 address as its /64 and an IPv4-mapped one as
    the IPv4 address."""
    ident = BaseThrottle().get_ident(request)
    try:
        address = ipaddress.ip_address(ident)
    except ValueError:
        return ident
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return ident


class ClientAddressThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` with its counts kept as above: a view's
    ``throttle_scope`` names its rate in ``settings.THROTTLE_RATES``, counted per user when the
    request is authenticated and else per client (``client_ident``). The rates are read on each
    request, not once at import as DRF's own class does, so a changed setting applies at once;
    over the rate, DRF answers 429 with ``Retry-After``."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802 (the name DRF looks up)
        return settings.THROTTLE_RATES

    def get_ident(self, request):
        return client_ident(request)

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, self._wait_seconds = shared_state().hit(
            key, self.num_requests, self.duration, self.timer()
        )
        return allowed

    def wait(self):
        # At least one second: Retry-After is whole seconds, and 0 would invite a retry storm.
        return max(math.ceil(self._wait_seconds), 1)


class UserWriteThrottle(ClientAddressThrottle):
    """The same, for the writes (unsafe methods) of a view whose reads are not limited: a
    journal's writes per user (``throttle_scope = "write"``)."""

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
