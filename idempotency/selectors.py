"""Reads of idempotency keys."""

import uuid

from django.db import DEFAULT_DB_ALIAS

from idempotency.models import IdempotencyKey


def find_idempotency_key(*, user_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    """The user's key and its answer, if a request that carried it has finished. Read from the
    primary: a replica that has not replayed the first answer yet would let a retry run again
    (the claim would then stop it, at the cost of a wasted transaction)."""
    return IdempotencyKey.objects.using(DEFAULT_DB_ALIAS).filter(user_id=user_id, key=key).first()
