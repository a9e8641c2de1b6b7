"""One shape for every error the site answers: ``{"detail": str, "code": str}``, built here
for the views (``ops.exceptions``), the middleware and Django's error views alike.

Validation errors keep DRF's field -> messages map beside ``detail`` and ``code``, so a client
can show the first problem without walking the map. No DRF import: the middleware loads
before the views' settings are read.
"""

from django.http import JsonResponse


def error_body(detail: str, code: str) -> dict[str, str]:
    return {"detail": detail, "code": code}


def validation_body(fields: dict) -> dict:
    """A validation error's body: the field -> messages map, then ``detail`` (the first
    problem) and ``code`` last, so that a body field named "detail" or "code" cannot take
    their place."""
    return {**fields, **error_body(_first_message(fields), "invalid")}


def error_response(
    status_code: int, detail: str, code: str, *, retry_after: int | None = None
) -> JsonResponse:
    """An error answered outside the views (middleware, Django's handlers)."""
    response = JsonResponse(error_body(detail, code), status=status_code)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _first_message(data) -> str:
    if isinstance(data, dict):
        for field, messages in data.items():
            message = _first_message(messages)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)
