"""The API's exception handler and Django's error views: every error in one shape
(``ops.responses``). The domain's errors (``ops.errors``) get their status here, each kind
in ``STATUS_OF_KIND``; DRF's own exceptions keep theirs.
"""

import logging
import re

import psycopg
from django.db import InterfaceError, InternalError, OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from ops import errors
from ops.responses import error_body, error_response, validation_body
from ops.text import first_line

logger = logging.getLogger(__name__)

# psycopg's words for replies it cannot pair with the command it sent.
UNPAIRED_REPLIES = re.compile(r"received \d+ results from command ")


class DatabaseUnavailable(errors.Unavailable):
    """The database could not answer: unreachable, no free connection in the pool within
    DB_POOL_TIMEOUT_SECONDS, a statement cut by DB_STATEMENT_TIMEOUT_MS, a connection lost.
    The request's transaction was rolled back, so a retry is safe."""

    message = "The database is unavailable or busy; try again shortly."
    code = "database_unavailable"
    retry_after = 5


# The status of each kind of the domain's errors (the most specific kind of an error wins).
STATUS_OF_KIND: dict[type[errors.DomainError], int] = {
    errors.Invalid: status.HTTP_400_BAD_REQUEST,
    errors.Unauthenticated: status.HTTP_401_UNAUTHORIZED,
    errors.Refused: status.HTTP_403_FORBIDDEN,
    errors.NotFound: status.HTTP_404_NOT_FOUND,
    errors.Conflict: status.HTTP_409_CONFLICT,
    errors.TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    errors.Unprocessable: status.HTTP_422_UNPROCESSABLE_ENTITY,
    errors.Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def status_of(error: errors.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF_KIND:
            return STATUS_OF_KIND[kind]
    return status.HTTP_400_BAD_REQUEST


def _domain_error_response(error: errors.DomainError, context) -> Response:
    set_rollback()  # as DRF does for its own exceptions under ATOMIC_REQUESTS
    status_code = status_of(error)
    response = Response(error_body(error.message, error.code), status=status_code)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    view = context.get("view")
    if status_code == status.HTTP_401_UNAUTHORIZED and view is not None:
        # As DRF answers its own 401s: the scheme the view's authentication asks for.
        authenticate = view.get_authenticate_header(context["request"])
        if authenticate:
            response["WWW-Authenticate"] = authenticate
    return response


def connection_failed(exc: BaseException) -> bool:
    """The database could not answer on this connection: the server or the pool failed it
    (``OperationalError``, ``InterfaceError``), or the driver got more replies than its command
    asks for. Behind PgBouncer, a server connection killed as it is handed out leaves its error
    ahead of the next command's reply, and psycopg raises its own ``InternalError`` (no
    SQLSTATE): "received 2 results from command 'BEGIN'" (or 'COMMIT'), then closes the
    connection. A server's ``InternalError`` (a SQLSTATE, such as an aborted transaction's) and
    psycopg's other ones (a value it cannot dump) are faults of the request, not of the
    connection."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    cause = exc.__cause__
    return (
        isinstance(exc, InternalError)
        and isinstance(cause, psycopg.InternalError)
        and cause.sqlstate is None
        and UNPAIRED_REPLIES.match(str(cause)) is not None
    )


def api_exception_handler(exc, context):
    if connection_failed(exc):
        logger.warning("database unavailable: %s", first_line(exc))
        exc = DatabaseUnavailable()
    if isinstance(exc, errors.DomainError):
        return _domain_error_response(exc, context)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = validation_body(fields)
    elif isinstance(exc, exceptions.APIException) and isinstance(exc.detail, str):
        response.data = error_body(str(exc.detail), exc.detail.code)
    return response


def not_found(request, exception=None):
    return error_response(404, "Not found.", "not_found")


def server_error(request):
    return error_response(500, "Server error.", "server_error")


def bad_request(request, exception=None):
    # Django answers here for requests it refuses before any view: a Host not in
    # ALLOWED_HOSTS, a malformed body or too many form fields.
    return error_response(400, "Bad request.", "bad_request")


def permission_denied(request, exception=None):
    return error_response(403, "Permission denied.", "permission_denied")
