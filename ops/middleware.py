"""Middleware of the whole site: the request id, the request body limit, and requests whose
address or cookies hold a NUL."""

import re
import uuid
from urllib.parse import unquote

from django.conf import settings
from django.http import JsonResponse

from ops import logs

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain: it is echoed in a header and written
# to every log line, so nothing that could split a line or a header gets through.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def incoming_request_id(value: str | None) -> str | None:
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


class RequestIdMiddleware:
    """Names each request: the caller's ``X-Request-ID`` when it is sane, else a new one. The id
    is on every log line written while the request is served and in the response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = incoming_request_id(request.headers.get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
        request.request_id = rid
        token = logs.request_id.set(rid)
        try:
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
            return JsonResponse(
                {"detail": "Content-Length is not a number.", "code": "bad_content_length"},
                status=400,
            )
        if limit is not None and length > limit:
            return JsonResponse(
                {
                    "detail": f"Request body is larger than {limit} bytes.",
                    "code": "request_too_large",
                },
                status=413,
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
                return JsonResponse(
                    {"detail": f"The request's {where} {verb} a NUL character.", "code": "invalid"},
                    status=400,
                )
        return self.get_response(request)
