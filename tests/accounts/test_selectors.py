import uuid

import pytest

from accounts.selectors import get_user_by_id, get_user_by_provider

pytestmark = pytest.mark.django_db


def test_get_user_by_provider_finds_the_user(user, other_user):
    assert get_user_by_provider(provider="google", provider_subject="alice-sub") == user
    assert get_user_by_provider(provider="apple", provider_subject="bob-sub") == other_user


def test_get_user_by_provider_needs_both_provider_and_subject_to_match(user, other_user):
    assert get_user_by_provider(provider="apple", provider_subject="alice-sub") is None
    assert get_user_by_provider(provider="google", provider_subject="bob-sub") is None


def test_get_user_by_provider_with_an_unknown_identity_is_none(db):
    assert get_user_by_provider(provider="google", provider_subject="nobody") is None


def test_get_user_by_id_finds_the_user(user, other_user):
    assert get_user_by_id(user_id=user.pk) == user
    assert get_user_by_id(user_id=other_user.pk) == other_user


def test_get_user_by_id_with_an_unknown_id_is_none(user):
    assert get_user_by_id(user_id=uuid.uuid4()) is None
