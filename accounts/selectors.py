"""Reads of users."""

import uuid

from accounts.models import User


def get_user_by_provider(*, provider: str, provider_subject: str) -> User | None:
    return User.objects.filter(provider=provider, provider_subject=provider_subject).first()


def get_user_by_id(*, user_id: uuid.UUID) -> User | None:
    return User.objects.filter(pk=user_id).first()
