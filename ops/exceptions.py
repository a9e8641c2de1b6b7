"""One shape for every API error: ``{"detail": str, "code": str}``.

Validation errors keep DRF's field -> messages map beside ``detail`` and ``code``, so a client
can show the first problem without walking the map.
"""

import logging
import re

import psycopg
from django.db import InterfaceError, InternalError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from ops.text import first_line

logger = logging.getLogger(__name__)

# psycopg's words for replies it cannot pair with the command it sent.
UNPAIRED_REPLIES = re.compile(r"received \d+ results from command ")


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service temporarily unavailable, try again later."
    default_code = "service_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database could not answer: unreachable, no free connection in the pool within
    DB_POOL_TIMEOUT_SECONDS, a statement cut by DB_STATEMENT_TIMEOUT_MS, a connection lost.
    The request's transaction was rolled back, so a retry is safe."""

    default_detail = "The database is unavailable or busy; try again shortly."
    default_code = "database_unavailable"
    wait = 5  # DRF sends it as Retry-After


def _first_message(data) -> str:
    if isinstance(data, dict):
        for field, messages in data.items():
            message = _first_message(messages)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)


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
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        # Last, so that a body field named "detail" or "code" cannot take their place.
        response.data = {**fields, "detail": _first_message(fields), "code": "invalid"}
    elif isinstance(exc, exceptions.APIException) and isinstance(exc.detail, str):
        response.data = {"detail": str(exc.detail), "code": exc.detail.code}
    return response


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)


def bad_request(request, exception=None):
    # Django answers here for requests it refuses before any view: a Host not in
    # ALLOWED_HOSTS, a malformed body or too many form fields.
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "Permission denied.", "code": "permission_denied"}, status=403)
