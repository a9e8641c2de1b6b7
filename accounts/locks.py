"""Row locks on users: the one place that takes them, so every writer locks the same way."""

import uuid

from accounts.models import User
from config.database import DB_DEFAULT


def lock_user(*, user_id: uuid.UUID) -> None:
    """Lock the user's row until the surrounding transaction ends. Writes that check a
    per-user limit take it first, so two of them cannot both pass the check. (SQLite has no
    row locks, and Django leaves ``FOR UPDATE`` out there; its IMMEDIATE transactions already
    run writers one at a time.)"""
    list(User.objects.using(DB_DEFAULT).select_for_update().filter(pk=user_id).values_list("pk"))
