"""Writes of users: creation (and its upsert on each sign-in), deletion."""

import uuid
from collections.abc import Iterable

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.locks import lock_user, lock_users
from accounts.models import User
from accounts.selectors import get_user_by_provider


def create_user(
    *, provider: str, provider_subject: str, email: str = "", display_name: str = ""
) -> User:
    """A new app user, known by (provider, subject); it has no usable password."""
    user = User(
        provider=provider,
        provider_subject=provider_subject,
        email=email,
        display_name=display_name,
    )
    user.set_unusable_password()
    user.save()
    return user


def upsert_user(
    *, provider: str, provider_subject: str, email: str = "", display_name: str = ""
) -> User:
    """Find the user by (provider, subject), creating it on first sign-in, and bring its email
    and name up to date. Email is never the key: two providers may share one."""
    for _ in range(2):
        user = get_user_by_provider(provider=provider, provider_subject=provider_subject)
        if user is None:
            try:
                with transaction.atomic():
                    return create_user(
                        provider=provider,
                        provider_subject=provider_subject,
                        email=email,
                        display_name=display_name,
                    )
            except IntegrityError:
                continue  # A concurrent first sign-in created it: read it back.
        updates = {
            field: value
            for field, value in (("email", email), ("display_name", display_name))
            if value and getattr(user, field) != value
        }
        if updates:
            for field, value in updates.items():
                setattr(user, field, value)
            user.save(update_fields=[*updates, "updated_at"])
        return user
    raise IntegrityError("user could not be created or found")


def delete_user(*, user: User) -> None:
    """Delete the account and everything it owns, in one transaction: its rows in every app
    (CASCADE) and the admin's change history of it. ``AccountDeleted`` if it is already gone."""
    with transaction.atomic():
        # Writers of the user's data lock this row first: none can add a row mid-delete.
        lock_user(user_id=user.pk)
        _erase_admin_history(users=[user])
        user.delete()


def delete_users(*, user_ids: Iterable[uuid.UUID]) -> int:
    """Delete these accounts as ``delete_user`` does, in one transaction (staff, in the
    admin); returns how many were deleted. Their rows are locked in primary key order, so two
    such deletions, or one and a user's own writes, cannot deadlock; an id of no account (one
    deleted meanwhile) is skipped."""
    with transaction.atomic():
        present = lock_users(user_ids=user_ids)
        # Read under the locks, so the deletion collects every row committed before it.
        users = list(User.objects.filter(pk__in=present).order_by("pk"))
        _erase_admin_history(users=users)
        for user in users:
            user.delete()
        return len(users)


def _erase_admin_history(*, users: list[User]) -> None:
    """The admin's log entries about these accounts, or whose text names one of them (its id,
    dashed or not, in any case; its email); the entries staff made as one of them go by
    CASCADE."""
    if not users:
        return
    user_type = ContentType.objects.get_for_model(User, for_concrete_model=False)
    naming = Q()
    for user in users:
        spellings = [str(user.pk), user.pk.hex]
        naming |= Q(content_type=user_type, object_id__in=spellings)
        for spelling in spellings:
            naming |= Q(object_repr__icontains=spelling) | Q(change_message__icontains=spelling)
        if user.email:
            # An account's entries show its email (``User.__str__``); exact, so that another
            # address containing this one keeps its history.
            naming |= Q(object_repr__iexact=user.email)
    LogEntry.objects.filter(naming).delete()
