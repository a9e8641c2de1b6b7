"""Row locks on users: the one place that takes them, so every writer locks the same way."""

import uuid
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS

from accounts.exceptions import AccountDeleted
from accounts.models import User


def _locked(user_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Lock these users' rows, in primary key order (so two lockers cannot deadlock), until
    the surrounding transaction ends; the ids of those that exist. (SQLite has no row locks,
    and Django leaves the clause out there; its IMMEDIATE transactions already run writers
    one at a time.)"""
    users = User.objects.using(DEFAULT_DB_ALIAS).select_for_update(no_key=True)
    return list(users.filter(pk__in=list(user_ids)).order_by("pk").values_list("pk", flat=True))


def lock_user(*, user_id: uuid.UUID) -> bool:
    """Lock the user's row until the surrounding transaction ends; True once it holds it.
    Writes that check a per-user limit take it first, so two of them cannot both pass the
    check. The lock is ``FOR NO KEY UPDATE``: it excludes the other lockers and the account's
    deletion (``lock_users``), not the foreign key checks of child rows. A write that waited
    while the account was deleted raises ``AccountDeleted`` (401) instead of adding a row
    whose owner is gone."""
    if not _locked([user_id]):
        raise AccountDeleted()
    return True


def lock_user_if_present(*, user_id: uuid.UUID) -> bool:
    """``lock_user`` for a writer that accepts an id of no account (the payment provider's
    webhook): False if there is none."""
    return bool(_locked([user_id]))


def lock_users(*, user_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Lock these users' rows for their deletion, in primary key order, as ``lock_user`` does
    (``FOR NO KEY UPDATE``: a journal write in flight holds its usage row, which the deletion
    waits for before it collects the rows, and commits its entry; with ``FOR UPDATE`` that
    entry's foreign key check would wait for the deletion, and the deletion for the entry's
    usage row); returns the ids of those that exist."""
    return _locked(user_ids)
