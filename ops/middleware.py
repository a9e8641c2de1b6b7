"""Middleware of the whole site: the request id (a malformed one refused), the request body
limit, requests whose address or cookies hold a NUL, and fields in the body of an operation
that defines none."""

import re
import uuid
from urllib.parse import unquote

from django.conf import settings
from django.http import JsonResponse

from ops import logs
from ops.http import REQUEST_ID_HEADER, REQUEST_ID_PATTERN
from ops.parsers import UnreadableJSON, load_json
from ops.responses import error_response, validation_body
from ops.serializers import UNKNOWN_FIELD

_SANE_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)


def incoming_request_id(value: str | None) -> str | None:
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


class RequestIdMiddleware:
    """Names each request: the caller's ``X-Request-ID``, else a new id. The id is on every
    log line written while the request is served and in the response header.

    A request whose ``X-Request-ID`` breaks the pattern is refused with 400 (under a new id):
    the schema declares the pattern, and a caller that sent an id means to find its request
    in the logs by it, which a silently replaced id would defeat."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER)
        sane = incoming_request_id(incoming)
        rid = sane or uuid.uuid4().hex
        request.request_id = rid
        token = logs.request_id.set(rid)
        try:
            if incoming is not None and sane is None:
                response = error_response(
                    400,
                    f"{REQUEST_ID_HEADER} must be 1 to 128 letters, digits and ._:- starting "
                    "with a letter or digit.",
                    "invalid_request_id",
                )
            else:
                response = self.get_response(request)
        finally:
            logs.request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response


class RequestBodyLimitMiddleware:
    """Refuses a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413 before anything
    reads it. Django's own check answers 400, and only where ``request.body`` is read (DRF's
    parsers read the stream and skip it), so the limit is enforced here, for every view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "Content-Length is not a number.", "bad_content_length")
        if limit is not None and length > limit:
            return error_response(
                413, f"Request body is larger than {limit} bytes.", "request_too_large"
            )
        return self.get_response(request)


class UnreadableRequestMiddleware:
    """Refuses with 400 a request whose path, query string or cookies hold a NUL character,
    before any view reads them: PostgreSQL cannot compare text holding one, so an admin
    search for it, or a session cookie holding it, would otherwise be a 500. (Django decodes
    the path and the query string as UTF-8 with replacement, so they never hold a lone
    surrogate; JSON bodies are the parser's business, ``ops.parsers``.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        for where, verb, raw in (
            ("path", "holds", meta.get("PATH_INFO", "")),
            ("query string", "holds", meta.get("QUERY_STRING", "")),
            ("cookies", "hold", meta.get("HTTP_COOKIE", "")),
        ):
            if "\x00" in raw or "\x00" in unquote(raw):
                return error_response(
                    400, f"The request's {where} {verb} a NUL character.", "invalid"
                )
        return self.get_response(request)


# A route's converters, as the OpenAPI schema spells its path: <uuid:entry_id> -> {entry_id}.
_ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


class UndefinedBodyMiddleware:
    """An unsafe request to an operation that defines no request body (``auth/logout-all``,
    the DELETEs) whose JSON body holds a field anyway is refused with 400 naming the field,
    before the view runs, as ``ops.serializers.InputSerializer`` refuses an undefined field
    where a body is defined; an unreadable JSON body is a 400 there as everywhere. An empty
    body, or ``{}``, is fine. Which operations define no body is read from the OpenAPI schema
    (``ops.openapi.operations_without_a_body``), so the server and the schema agree."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from ops.openapi import operations_without_a_body

        match = request.resolver_match
        if match is None or not match.route or request.content_type != "application/json":
            return None
        path = "/" + _ROUTE_PARAMETER.sub(r"{\1}", match.route)
        if (path, request.method) not in operations_without_a_body() or not request.body:
            return None
        try:
            body = load_json(request.body)
        except UnreadableJSON as exc:
            return error_response(400, f"JSON parse error - {exc}", "parse_error")
        if isinstance(body, dict) and body:
            return JsonResponse(
                validation_body({name: [UNKNOWN_FIELD] for name in body}), status=400
            )
        return None
