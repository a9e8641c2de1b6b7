"""Writes of users: creation (and its upsert on each sign-in), deletion."""

from django.db import IntegrityError, transaction

from accounts.locks import lock_user
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
    """Delete the account and everything it owns, in one transaction."""
    with transaction.atomic():
        # Writers of the user's data lock this row first: none can add a row mid-delete.
        lock_user(user_id=user.pk)
        user.delete()
