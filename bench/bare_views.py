"""The ceiling for bench/api.py: plain Django views that run the same SQL as the API's
endpoints and return the same JSON, with no DRF, no serializers and no ORM query building.
Mounted at /bench/bare/ by bench/urls.py (bench.settings only); never in production."""

import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse

from tokens.access import InvalidAccessToken, decode_access_token, encode_access_token, new_jti

USER_COLUMNS = "id, provider, email, display_name, created_at, is_active"
ENTRY_COLUMNS = "id, content, size_bytes, created_at, updated_at"


def _json(data, status=200):
    return HttpResponse(json.dumps(data), content_type="application/json", status=status)


def _unauthorized():
    return JsonResponse({"detail": "unauthorized", "code": "not_authenticated"}, status=401)


def _uuid(value) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite's are naive UTC


def _time(value) -> str:
    return _aware(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _param(value):
    """A value as the backend stores it (uuid as hex on SQLite, datetimes as Django writes)."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _authenticate(request):
    """The API's checks: the JWT, then its live session with the user in one query by primary
    key on the primary, and the revoked-JTI list only while the session says a token of the
    user was revoked on its own."""
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(header) != 2 or header[0] != "Bearer":
        return None
    try:
        claims = decode_access_token(header[1])
    except InvalidAccessToken:
        return None
    now = datetime.now(UTC)
    columns = ", ".join(f"u.{c}" for c in USER_COLUMNS.split(", "))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, s.access_revoked_until FROM tokens_session s"  # noqa: S608
            " JOIN accounts_user u ON u.id = s.user_id"
            " WHERE s.id = %s AND s.user_id = %s AND s.revoked_at IS NULL AND s.expires_at > %s"
            " AND s.created_at > %s LIMIT 1",
            [
                _param(claims.session_id),
                _param(claims.user_id),
                _param(now),
                _param(now - timedelta(days=settings.SESSION_MAX_AGE_DAYS)),
            ],
        )
        row = cursor.fetchone()
        if row is None or not row[5]:
            return None
        if row[-1] is not None and _aware(row[-1]) > now:
            cursor.execute("SELECT 1 FROM tokens_revokedjti WHERE jti = %s", [claims.jti])
            if cursor.fetchone() is not None:
                return None
    return row


def _user_data(row):
    return {
        "id": _uuid(row[0]),
        "provider": row[1],
        "email": row[2],
        "display_name": row[3],
        "created_at": _time(row[4]),
    }


def _entry_data(row):
    return {
        "id": _uuid(row[0]),
        "content": row[1],
        "size_bytes": row[2],
        "created_at": _time(row[3]),
        "updated_at": _time(row[4]),
    }


def me(request):
    user = _authenticate(request)
    if user is None:
        return _unauthorized()
    return _json(_user_data(user))


def entries(request):
    user = _authenticate(request)
    if user is None:
        return _unauthorized()
    if request.method == "POST":
        return _create_entry(request, user)
    limit = min(int(request.GET.get("limit", 20)), 100)
    offset = int(request.GET.get("offset", 0))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {ENTRY_COLUMNS} FROM journal_journalentry WHERE user_id = %s"  # noqa: S608
            " ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s",
            [_param(user[0]), limit + 1, offset],
        )
        rows = cursor.fetchall()
        if len(rows) <= limit and (rows or offset == 0):  # the last page: counted already
            count = offset + len(rows)
        else:
            cursor.execute(
                "SELECT COUNT(*) FROM journal_journalentry WHERE user_id = %s", [_param(user[0])]
            )
            count = cursor.fetchone()[0]
            rows = rows[:limit]
    base = request.build_absolute_uri(request.path)
    next_url = f"{base}?limit={limit}&offset={offset + limit}" if offset + limit < count else None
    previous_url = None
    if offset > 0:
        previous = max(offset - limit, 0)
        previous_url = f"{base}?limit={limit}" + (f"&offset={previous}" if previous else "")
    return _json(
        {
            "count": count,
            "next": next_url,
            "previous": previous_url,
            "results": [_entry_data(row) for row in rows],
        }
    )


def _create_entry(request, user):
    content = json.loads(request.body).get("content")
    if not isinstance(content, str) or not content:
        return JsonResponse({"detail": "invalid", "code": "invalid"}, status=400)
    size = len(content.encode("utf-8"))
    if size > settings.JOURNAL_MAX_ENTRY_BYTES:
        return JsonResponse({"detail": "too large", "code": "entry_too_large"}, status=413)
    user_id = _param(user[0])
    now = datetime.now(UTC)
    entry_id = uuid.uuid4()
    floor = min(settings.JOURNAL_QUOTA_FREE_BYTES, settings.JOURNAL_QUOTA_PREMIUM_BYTES)
    with transaction.atomic(), connection.cursor() as cursor:
        # The usage row as the lock, the quota check and the count, then the insert.
        cursor.execute(
            "UPDATE journal_journalusage SET bytes_used = bytes_used + %s, entries = entries + 1"
            " WHERE user_id = %s AND bytes_used <= %s",
            [size, user_id, floor - size],
        )
        if not cursor.rowcount:  # a first write or past the floor: not what is measured
            return JsonResponse({"detail": "quota", "code": "quota_exceeded"}, status=403)
        cursor.execute(
            "INSERT INTO journal_journalentry (id, user_id, content, size_bytes, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s)",
            [_param(entry_id), user_id, content, size, _param(now), _param(now)],
        )
    data = {
        "id": str(entry_id),
        "content": content,
        "size_bytes": size,
        "created_at": _time(now),
        "updated_at": _time(now),
    }
    return _json(data, status=201)


def refresh(request):
    raw = json.loads(request.body).get("refresh")
    if not isinstance(raw, str) or not raw:
        return JsonResponse({"detail": "invalid", "code": "invalid"}, status=400)
    token_hash = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    now = datetime.now(UTC)
    refused = JsonResponse({"detail": "refused", "code": "invalid_refresh_token"}, status=401)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.id, t.rotated_at, s.id, s.user_id, s.fingerprint, s.expires_at,"
            " s.revoked_at, u.is_active FROM tokens_refreshtoken t"
            " JOIN tokens_session s ON s.id = t.session_id"
            " JOIN accounts_user u ON u.id = s.user_id WHERE t.token_hash = %s LIMIT 1",
            [token_hash],
        )
        row = cursor.fetchone()
        if row is None or row[1] is not None or row[6] is not None or not row[7]:
            return refused
        if _aware(row[5]) <= now or row[4]:
            return refused
        cursor.execute(
            "UPDATE tokens_refreshtoken SET rotated_at = %s WHERE id = %s AND rotated_at IS NULL",
            [_param(now), row[0]],
        )
        if cursor.rowcount != 1:
            return refused
        cursor.execute(
            "UPDATE tokens_session SET last_used_at = %s, expires_at = %s WHERE id = %s",
            [_param(now), _param(now + timedelta(days=settings.REFRESH_TOKEN_TTL_DAYS)), row[2]],
        )
        new_raw = secrets.token_urlsafe(32)
        jti = new_jti()
        cursor.execute(
            "INSERT INTO tokens_refreshtoken"
            " (session_id, token_hash, access_jti, created_at, rotated_at)"
            " VALUES (%s, %s, %s, %s, NULL)",
            [row[2], hashlib.sha256(new_raw.encode()).hexdigest(), jti, _param(now)],
        )
    session_id = row[2] if isinstance(row[2], uuid.UUID) else uuid.UUID(row[2])
    user_id = row[3] if isinstance(row[3], uuid.UUID) else uuid.UUID(row[3])
    return _json(
        {
            "access": encode_access_token(user_id=user_id, session_id=session_id, jti=jti),
            "refresh": new_raw,
            "token_type": "Bearer",
            "expires_in": settings.ACCESS_TOKEN_TTL_SECONDS,
        }
    )
