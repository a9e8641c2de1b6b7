"""Reads of users."""

import uuid

from django.db import DEFAULT_DB_ALIAS

from accounts.models import User


def get_user_by_provider(*, provider: str, provider_subject: str) -> User | None:
    return User.objects.filter(provider=provider, provider_subject=provider_subject).first()


def get_user_by_id(*, user_id: uuid.UUID) -> User | None:
    """The user, read from the primary: it authenticates every request, and a deleted or
    disabled account must stop working at once, not after replica lag."""
    return User.objects.using(DEFAULT_DB_ALIAS).filter(pk=user_id).first()


def count_app_users() -> int:
    """Users who came through an identity provider (staff accounts are not counted)."""
    return User.objects.filter(provider__isnull=False).count()
