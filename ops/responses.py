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
    return {**fields, **error_body(first_problem(fields), "invalid")}


def error_response(
    status_code: int, detail: str, code: str, *, retry_after: int | None = None
) -> JsonResponse:
    """An error answered outside the views (middleware, Django's handlers)."""
    response = JsonResponse(error_body(detail, code), status=status_code)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def first_problem(detail, path: str = "") -> str:
    """The first problem of DRF's (maybe nested) error map, named by its field's path:
    ``subscription.status: "x" is not a valid choice.``; errors of no field have no path."""
    if isinstance(detail, dict) and detail:
        field, messages = next(iter(detail.items()))
        if field != "non_field_errors":
            path = f"{path}.{field}" if path else field
        return first_problem(messages, path)
    if isinstance(detail, list) and detail:
        return first_problem(detail[0], path)
    return f"{path}: {detail}" if path else str(detail)
