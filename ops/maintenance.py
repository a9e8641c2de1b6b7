"""Maintenance mode: while the flag file exists the API is read-only. A file, so that every
worker process of every server sees the switch at once without a restart."""

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.http import JsonResponse

RETRY_AFTER_SECONDS = 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def flag_path() -> Path:
    return Path(settings.MAINTENANCE_FLAG_PATH)


def is_on() -> bool:
    return flag_path().exists()


def since() -> str | None:
    try:
        return flag_path().read_text().strip() or "unknown"
    except FileNotFoundError:
        return None


def turn_on() -> None:
    path = flag_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(datetime.now(UTC).isoformat(timespec="seconds") + "\n")


def turn_off() -> None:
    flag_path().unlink(missing_ok=True)


class MaintenanceModeMiddleware:
    """Answers every unsafe method with 503 ``maintenance`` while the flag is set; reads go on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and is_on():
            response = JsonResponse(
                {
                    "detail": "The service is read-only for maintenance; try again shortly.",
                    "code": "maintenance",
                },
                status=503,
            )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return self.get_response(request)
