"""Row locks on users: the one place that takes them, so every writer locks the same way."""

import uuid

from django.db import DEFAULT_DB_ALIAS

from accounts.models import User


def lock_user(*, user_id: uuid.UUID) -> bool:
    """Lock the user's row until the surrounding transaction ends; False when there is no such
    user (deleted meanwhile). Writes that check a per-user limit take it first, so two of them
    cannot both pass the check. The lock is ``FOR NO KEY UPDATE``: it excludes the other
    lockers, but not the foreign key checks of a transaction that adds a child row of the user
    and commits meanwhile (a journal write, under its usage row's lock, which the deletion of
    the user waits for). (SQLite has no row locks, and Django leaves the clause out there; its
    IMMEDIATE transactions already run writers one at a time.)"""
    users = User.objects.using(DEFAULT_DB_ALIAS).select_for_update(no_key=True)
    return bool(list(users.filter(pk=user_id).values_list("pk")))
