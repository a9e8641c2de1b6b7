"""Reads of idempotency keys."""

import uuid

from django.db import DEFAULT_DB_ALIAS

from idempotency.models import IdempotencyKey


def find_idempotency_key(*, user_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    """The user's key and its answer, if a request that carried it has finished. Read from the
    primary, where the claim that just collided with it found it (a replica may lag)."""
    return IdempotencyKey.objects.using(DEFAULT_DB_ALIAS).filter(user_id=user_id, key=key).first()
