"""Errors of the domain: what a service (or a check before one) refuses, with a stable code and
one sentence, and no HTTP in them. Each error is of one kind below; the API's exception
handler (``ops.exceptions``) gives each kind its status in one table, and builds the body every
error has, ``{"detail": message, "code": code}``.

An app declares its errors as subclasses of a kind with their own ``code`` and ``message``
(``journal.exceptions.QuotaExceeded(Refused)``); a raise may give a more precise message.
"""


class DomainError(Exception):
    code = "error"
    message = "The request was refused."
    #: Seconds after which the same request may succeed (sent as ``Retry-After``), if known.
    retry_after: int | None = None

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class Invalid(DomainError):
    """The request is malformed or names something that cannot be."""

    code = "invalid"


class Unauthenticated(DomainError):
    """The credentials are missing, wrong, or no longer name anyone."""

    code = "not_authenticated"


class Refused(DomainError):
    """The request is understood and not allowed."""

    code = "permission_denied"


class NotFound(DomainError):
    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    """Another request holds what this one needs; it may succeed later."""

    code = "conflict"


class TooLarge(DomainError):
    code = "too_large"


class Unprocessable(DomainError):
    """Well formed, but it contradicts what was asked before."""

    code = "unprocessable"


class Unavailable(DomainError):
    """Something the request needs does not answer now; a retry may succeed."""

    code = "service_unavailable"
    message = "Service temporarily unavailable, try again later."
