"""Row locks on users: the one place that takes them, so every writer locks the same way."""

import uuid
from collections.abc import Iterable

from accounts.exceptions import AccountDeleted
from accounts.models import User
from config.database import DB_DEFAULT


def _lock(user_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Lock these users' rows, in primary key order (so two lockers cannot deadlock), until
    the surrounding transaction ends; returns the ids of those that exist. (SQLite has no row
    locks, and Django leaves ``FOR UPDATE`` out there; its IMMEDIATE transactions already run
    writers one at a time.)"""
    return list(
        User.objects.using(DB_DEFAULT)
        .select_for_update()
        .filter(pk__in=list(user_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_user(*, user_id: uuid.UUID) -> None:
    """Lock the user's row until the surrounding transaction ends. Writes that check a
    per-user limit take it first, so two of them cannot both pass the check, and the account
    deletion takes it too: a write that waited for it while the account was deleted raises
    ``AccountDeleted`` instead of adding a row whose owner is gone."""
    if not _lock([user_id]):
        raise AccountDeleted()


def lock_user_if_present(*, user_id: uuid.UUID) -> bool:
    """``lock_user`` for a writer that accepts an id of no account (the payment provider's
    webhook): False if there is none."""
    return bool(_lock([user_id]))


def lock_users(*, user_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Lock several users' rows in primary key order; returns the ids of those that exist."""
    return _lock(user_ids)
