"""HTTP methods as the site sorts them (RFC 9110): the safe ones only read; the unsafe ones
may write, so maintenance refuses them, the write rate counts them and an Idempotency-Key
guards them."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
