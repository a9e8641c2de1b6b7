"""Writes of idempotency keys. A key is claimed inside the transaction of the request it
guards (``idempotency.views.IdempotentMixin`` opens it) and its answer recorded just before
that transaction commits, so the key and the effect are kept together or not at all."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from idempotency.exceptions import IdempotencyKeyInUse
from idempotency.models import IdempotencyKey
from ops.batches import delete_in_batches

# What PostgreSQL says when a statement waited too long for another transaction's lock.
_WAIT_CUT = (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable)


def claim_idempotency_key(
    *, user_id: uuid.UUID, key: str, method: str, path: str, body_sha256: str
) -> IdempotencyKey:
    """Insert the key, unanswered, in the caller's transaction. A twin request that holds the
    same key uncommitted makes the insert wait for it (PostgreSQL; SQLite runs writers one at
    a time): then ``IntegrityError`` once the twin committed, or the insert succeeds if the
    twin rolled back. A wait cut by the statement timeout is ``IdempotencyKeyInUse``."""
    try:
        return IdempotencyKey.objects.create(
            user_id=user_id, key=key, method=method, path=path, body_sha256=body_sha256, status=0
        )
    except OperationalError as exc:
        if isinstance(exc.__cause__, _WAIT_CUT):
            raise IdempotencyKeyInUse() from exc
        raise


def record_idempotent_answer(*, claim: IdempotencyKey, status: int, body: str) -> None:
    """Keep the answer of the request that claimed the key (in its transaction). A request
    that deleted its own user (``DELETE me``) took the key with it: nothing is left to keep."""
    IdempotencyKey.objects.filter(pk=claim.pk).update(status=status, body=body)


def purge_idempotency_keys(
    *,
    batch_size: int = 1000,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_RETENTION_HOURS``, ``batch_size`` rows per
    transaction (by the index on their creation time), so no lock is held for long; returns
    how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)
    expired = IdempotencyKey.objects.filter(created_at__lt=cutoff).order_by("created_at")
    return delete_in_batches(expired, batch_size, progress)
