"""Deleting many rows without holding a lock for long: the purges of expired sessions, tokens
and idempotency keys."""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet


def delete_in_batches(
    queryset: QuerySet[Any],
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete the rows of ``queryset``, ``batch_size`` per transaction (in the queryset's
    order: order it by an indexed column and each batch is found cheaply); ``progress`` gets
    the running total after each batch. Returns how many were deleted."""
    total = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not pks:
                return total
            queryset.model.objects.filter(pk__in=pks).delete()
        total += len(pks)
        if progress is not None:
            progress(total)
