"""The payment provider's webhook: checking the signature, then reading the event.

Header ``X-Webhook-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``; each ``v1`` is
HMAC-SHA256(secret, "<t>.<raw body>"). The body is only read once the signature is good, so
an unauthenticated caller cannot make the server parse anything.
"""

import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rest_framework import serializers

from ops.parsers import UnreadableJSON, load_json
from ops.responses import first_problem
from subscriptions.exceptions import InvalidSignature, MalformedEvent, WebhookNotConfigured
from subscriptions.serializers import WebhookEventSerializer

SIGNATURE_HEADER = "X-Webhook-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class WebhookEvent:
    """One validated event, as the services need it."""

    event_id: str
    type: str
    created: datetime
    provider: str
    user_id: uuid.UUID
    subscription_id: str
    plan: str
    status: str
    current_period_end: datetime | None
    payload: dict


def _parse_signature_header(header: str | None) -> tuple[str, list[bytes]]:
    """The timestamp (as sent: it is part of the signed text) and the ``v1`` signatures."""
    if not header:
        raise InvalidSignature(f"Missing {SIGNATURE_HEADER} header.", code="missing_signature")
    garbled = InvalidSignature(f"Malformed {SIGNATURE_HEADER} header.", code="malformed_signature")
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise garbled
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                raise garbled
            timestamp = value
        elif key == "v1":
            value = value.lower()
            if not _SHA256_HEX.fullmatch(value):
                raise garbled
            signatures.append(value.encode("ascii"))
        # Other schemes (a future v2, a test-mode v0) are skipped, as providers document.
    if timestamp is None or not signatures:
        raise garbled
    return timestamp, signatures


def verify_signature(
    *, header: str | None, body: bytes, secrets: Sequence[str], now: float | None = None
) -> None:
    """Accept the request only if one ``v1`` signature matches one of the configured secrets
    (several are configured while a secret is rotated) and its timestamp is fresh."""
    if not secrets:
        raise WebhookNotConfigured()
    timestamp, signatures = _parse_signature_header(header)
    signed = timestamp.encode("ascii") + b"." + body
    expected = [
        hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode("ascii")
        for secret in secrets
    ]
    # Every pair is compared, in constant time, so timing tells nothing about which failed.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise InvalidSignature("Webhook signature does not match.", code="invalid_signature")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidSignature(
            f"Webhook signature timestamp is more than {SIGNATURE_TOLERANCE_SECONDS} s away.",
            code="stale_signature",
        )


def parse_event(body: bytes) -> WebhookEvent:
    """Read a (signature-checked) body into a ``WebhookEvent``; anything else is malformed."""
    # The limits of every other JSON body: the payload is stored, so it must be storable.
    try:
        payload = load_json(body)
    except UnreadableJSON as exc:
        raise MalformedEvent(f"Webhook body cannot be read: {exc}.") from None
    if not isinstance(payload, dict):
        raise MalformedEvent("Webhook body must be a JSON object.")
    serializer = WebhookEventSerializer(data=payload)
    try:
        serializer.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        raise MalformedEvent(f"Webhook event is malformed: {first_problem(exc.detail)}") from None
    data = serializer.validated_data
    state = data["subscription"]
    return WebhookEvent(
        event_id=data["id"],
        type=data["type"],
        created=datetime.fromtimestamp(data["created"], tz=UTC),
        provider=data["provider"],
        user_id=data["user_id"],
        subscription_id=state["id"],
        plan=state["plan"],
        status=state["status"],
        current_period_end=state["current_period_end"],
        payload=payload,
    )
