"""Structured logs: one JSON object per line, each carrying the id of the request it belongs
to, with anything that looks like a credential masked.

``request_id`` is set by ``ops.middleware.RequestIdMiddleware`` for the duration of a
request; ``RequestIdFilter`` copies it onto every record, so a log line written anywhere while
a request is served names that request. The same formatter renders gunicorn's own logs and its
access log (``GunicornLogger``), so the whole process writes one format.
"""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

from gunicorn import glogging

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

REDACTED = "[redacted]"
# Credentials must never reach a log line, wherever they come from: a JWT (access or ID token,
# always three base64url parts starting with a JSON header), a bearer credential, or the value
# of a parameter whose name says it is secret (in a query string or a repr of a dict).
_SECRET_PATTERNS = [
    re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)(bearer\s+)[^\s,;\"']+"),
    re.compile(
        r"(?i)((?<![a-z0-9])(?:access_token|refresh_token|id_token|token|access|refresh"
        r"|password|secret|signature)[\"']?\s*[=:]\s*[\"']?)[^&\s,;\"'}]+"
    ),
]
# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(
            lambda m: (m.group(1) if m.groups() else "") + REDACTED,
            text,
        )
    return text


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # Django logs a 4xx/5xx response after the middleware has finished, with the
            # request attached: its id is on the request.
            attached = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = request_id.get() or attached
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...extra, "exception"?}``.

    Only plain values given in ``extra=`` are kept: objects such as Django's ``request`` are
    left out, because their text can hold a query string with a token in it."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES or key.startswith("_"):
                continue
            if isinstance(value, str):
                entry[key] = redact(value)
            elif value is None or isinstance(value, bool | int | float):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(level: str) -> dict:
    """The ``LOGGING`` dict: everything to stderr as JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
        "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


class GunicornLogger(glogging.Logger):
    """gunicorn's error and access logs as JSON lines. The access line takes the request id
    from the response header (the request's context is gone by the time gunicorn logs)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        headers = {name.lower(): value for name, value in resp.headers}
        query = environ.get("QUERY_STRING", "")
        self.access_log.info(
            "%s %s %s",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            resp.status_code,
            extra={
                "request_id": headers.get("x-request-id"),
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "query": redact(query) if query else None,
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
            },
        )
