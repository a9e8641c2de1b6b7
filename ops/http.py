"""What the site's HTTP layer and its OpenAPI description both say: HTTP methods as the site
sorts them (RFC 9110): the safe ones only read; the unsafe ones may write, so maintenance
refuses them, the write rate counts them and an Idempotency-Key guards them; and the form of a
request id."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming X-Request-ID must be short and plain: it is echoed in a header and written to
# every log line, so nothing that could split a line or a header gets through
# (``ops.middleware``); the OpenAPI description declares the same pattern (``ops.openapi``).
REQUEST_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"
