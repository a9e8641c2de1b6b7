"""Row locks on users: the one place that takes them, so every writer locks the same way."""

from accounts.models import User


def lock_user(*, user_id) -> None:
    """Lock the user's row until the surrounding transaction ends. Writes that check a
    per-user limit take it first, so two of them cannot both pass the check. (SQLite has no
    row locks; its IMMEDIATE transactions already run writers one at a time.)"""
    User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()
