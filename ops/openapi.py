"""Pieces of the OpenAPI description shared by every app's ``@extend_schema``: the error
shape, the errors that any endpoint may answer, and the bearer authentication scheme."""

import functools
import inspect
import threading

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import (
    build_basic_type,
    build_bearer_security_scheme_object,
    build_choice_field,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from ops.http import REQUEST_ID_HEADER, REQUEST_ID_PATTERN, UNSAFE_METHODS


class ErrorSerializer(serializers.Serializer):
    """Every error of the API. A validation error (400 ``invalid``) also maps each field to its
    messages, beside ``detail`` (the first problem) and ``code``."""

    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="What went wrong, for a program (stable).")


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


UNAUTHORIZED = error(
    "No valid access token: missing, malformed, expired, revoked or of a disabled account."
)
THROTTLED = error(
    "Too many requests from this client address (`throttled`); `Retry-After` says when to "
    "try again."
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)

# Unsafe operations that honour Idempotency-Key declare it with ``IDEMPOTENCY_KEY``; the hook
# below adds the answers it brings (CONTRACT.md, "Idempotent requests").
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="1 to 255 printable ASCII characters chosen by the client, one per intended "
    "write. The first request with a key runs and its answer (below 500) is kept for "
    "`IDEMPOTENCY_KEY_RETENTION_HOURS`; the same key again with the same method, path and "
    "body gets that answer again without running anything, marked `Idempotent-Replayed: "
    "true`. An answer of 500 or more keeps nothing: its retry runs.",
    pattern=r"^[ -~]{1,255}$",
)
_IDEMPOTENT_REPLAYED_HEADER = {
    "description": "`true` when this answer is the kept answer of an earlier request with the "
    "same `Idempotency-Key` (nothing ran).",
    "schema": {"type": "string", "enum": ["true"]},
}
_BAD_IDEMPOTENCY_KEY = (
    "`Idempotency-Key` is not 1 to 255 printable ASCII characters (`invalid_idempotency_key`)."
)
_KEY_IN_USE = (
    "A request with this `Idempotency-Key` is still running (`idempotency_key_in_use`); "
    "`Retry-After` says when to try again."
)
_KEY_REUSED = (
    "This `Idempotency-Key` was used for another method, path or body (`idempotency_key_reused`)."
)

# Answered by middleware before any view runs, so added to every operation by the hook below.
_MAINTENANCE = (
    "Maintenance mode (`maintenance`): the API is read-only for a moment; `Retry-After` says "
    "when to try again."
)
_HELD_TOO_LONG = (
    "During a one-step database move (`--switch`) a request is held until the app has moved; "
    "held longer than the server's `CUTOVER_HOLD_SECONDS`, it is refused (`maintenance`), "
    "`Retry-After` says when to try again."
)
_BODY_TOO_LARGE = "The request body is larger than the server accepts (`request_too_large`)."
_REQUEST_ID_HEADER_SCHEMA = {
    "description": "The id of this request in the server's logs: the caller's, if it sent "
    "one, else a new one.",
    "schema": {"type": "string"},
}
_REQUEST_ID_PARAMETER = {
    "in": "header",
    "name": "X-Request-ID",
    "required": False,
    "description": "An id for this request in the server's logs: 1-128 letters, digits and "
    "`._:-`, starting with a letter or digit; any other value is refused with 400 "
    "(`invalid_request_id`). Without it the server makes one.",
    "schema": {"type": "string", "maxLength": 128, "pattern": f"^{REQUEST_ID_PATTERN}$"},
}
_BAD_REQUEST_ID = "The `X-Request-ID` header breaks its pattern (`invalid_request_id`)."
# What JSON Schema cannot say about a body: the parser's limits (ops.parsers) hold for every
# value, in the fields an endpoint reads and in those it ignores (the webhook's).
_READABLE_BODY = (
    "The whole body must be JSON the API can read, or it is refused with 400: no integer past "
    "64 bits, no NUL or lone surrogate in any text (keys included), nested at most 64 levels."
)


def _add_error(responses: dict, status: str, description: str, *, retry_after=False) -> None:
    if status in responses:
        responses[status]["description"] += f" Also: {description}"
    else:
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if retry_after:
        responses[status].setdefault("headers", {})["Retry-After"] = {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer"},
        }


def _add_idempotency_answers(responses: dict) -> None:
    # Any answer below 500 but those given before the key is looked at may be a replay.
    for status, response in responses.items():
        if status.isdigit() and int(status) < 500 and status not in ("401", "429"):
            response.setdefault("headers", {})["Idempotent-Replayed"] = _IDEMPOTENT_REPLAYED_HEADER
    _add_error(responses, "400", _BAD_IDEMPOTENCY_KEY)
    _add_error(responses, "409", _KEY_IN_USE, retry_after=True)
    _add_error(responses, "422", _KEY_REUSED)


def add_site_wide_behaviour(result, generator, request, public):
    """drf-spectacular postprocessing hook: what the middleware does to every request."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if method.upper() in UNSAFE_METHODS:
                _add_error(responses, "503", _MAINTENANCE, retry_after=True)
            _add_error(responses, "503", _HELD_TOO_LONG, retry_after=True)
            _add_error(responses, "400", _BAD_REQUEST_ID)
            if "requestBody" in operation:
                _add_error(responses, "413", _BODY_TOO_LARGE)
                parts = [operation["requestBody"].get("description"), _READABLE_BODY]
                operation["requestBody"]["description"] = " ".join(filter(None, parts))
            parameters = operation.setdefault("parameters", [])
            if any(p.get("name") == IDEMPOTENCY_KEY_HEADER for p in parameters):
                _add_idempotency_answers(responses)
            for response in responses.values():
                response.setdefault("headers", {})[REQUEST_ID_HEADER] = _REQUEST_ID_HEADER_SCHEMA
            parameters.append(_REQUEST_ID_PARAMETER)
    return result


_schema_generation = threading.Lock()


def operations_without_a_body() -> frozenset[tuple[str, str]]:
    """(path as the schema spells it, upper-case method) of every unsafe operation that
    defines no request body: read from the schema the server publishes (generated once per
    process, in a few tens of milliseconds), so the server refuses what the schema leaves out
    (``ops.middleware.UndefinedBodyMiddleware``). Generated by one thread at a time:
    drf-spectacular's generator is not safe to run in two threads at once (a worker's first
    concurrent requests answered 500)."""
    with _schema_generation:
        return _operations_without_a_body()


@functools.cache
def _operations_without_a_body() -> frozenset[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return frozenset(
        (path, method.upper())
        for path, operations in schema.get("paths", {}).items()
        for method, operation in operations.items()
        if method.upper() in UNSAFE_METHODS and "requestBody" not in operation
    )


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.authentication.AccessTokenAuthentication"
    name = "accessToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="JWT"
        )


class OffsetDateTimeFieldSchema(OpenApiSerializerFieldExtension):
    """The webhook's times: ISO 8601 strings that must carry a UTC offset."""

    target_class = "subscriptions.serializers.OffsetDateTimeField"

    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.DATETIME)
        schema["description"] = "ISO 8601 with a UTC offset (Z or +00:00)."
        return schema


class InputSerializerSchema(OpenApiSerializerExtension):
    """Request bodies (``ops.serializers.InputSerializer``): ``additionalProperties`` says
    what the server does with a field the body does not define: false, refused with 400
    naming it; true (the webhook's events), ignored."""

    target_class = "ops.serializers.InputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        allowed = self.target.allow_unknown_fields
        schema["additionalProperties"] = allowed
        # The body's own docstring, not the base class's (which speaks of the server's code);
        # a body that allows unknown fields says why in its own.
        own = type(self.target).__dict__.get("__doc__")
        own = inspect.cleandoc(own) if own else ""
        if not allowed:
            own = f"{own} A field it does not define is refused with 400, naming the field."
        elif not own:
            own = "Fields it does not define are ignored."
        schema["description"] = own.strip()
        return schema


class ProviderFieldSchema(OpenApiSerializerFieldExtension):
    """Sign-in's ``provider``: an enum of the configured providers. With none configured, a
    string (an empty enum is not valid OpenAPI) whose description says that every value is
    refused (``tokens.serializers.ProviderField``)."""

    target_class = "tokens.serializers.ProviderField"

    def map_serializer_field(self, auto_schema, direction):
        if self.target.choices:
            return build_choice_field(self.target)
        return build_basic_type(OpenApiTypes.STR)
