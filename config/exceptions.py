"""One shape for every API error: ``{"detail": str, "code": str}``.

Validation errors keep DRF's field -> messages map beside ``detail`` and ``code``, so a client
can show the first problem without walking the map.
"""

from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service temporarily unavailable, try again later."
    default_code = "service_unavailable"


def _first_message(data) -> str:
    if isinstance(data, dict):
        for field, messages in data.items():
            message = _first_message(messages)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {"detail": _first_message(fields), "code": "invalid", **fields}
    elif isinstance(exc, exceptions.APIException) and isinstance(exc.detail, str):
        response.data = {"detail": str(exc.detail), "code": exc.detail.code}
    return response


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
