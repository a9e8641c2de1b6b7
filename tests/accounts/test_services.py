import uuid

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import create_user, delete_user, delete_users, upsert_user
from journal.models import JournalEntry
from journal.services import insert_journal_entry
from ops.errors import Unauthenticated
from tokens.models import RefreshToken, Session
from tokens.selectors import hash_refresh_token

pytestmark = pytest.mark.django_db


# create_user


def test_create_user_stores_the_provider_identity(db):
    user = create_user(
        provider="google", provider_subject="s-1", email="a@example.com", display_name="A"
    )

    stored = User.objects.get(pk=user.pk)
    assert (stored.provider, stored.provider_subject) == ("google", "s-1")
    assert (stored.email, stored.display_name) == ("a@example.com", "A")
    assert stored.username is None


def test_create_user_gives_no_usable_password(db):
    user = create_user(provider="google", provider_subject="s-1")

    stored = User.objects.get(pk=user.pk)
    assert not stored.has_usable_password()
    assert not stored.check_password("")


def test_database_refuses_a_second_user_with_the_same_provider_and_subject(db):
    create_user(provider="google", provider_subject="s-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        create_user(provider="google", provider_subject="s-1", email="other@example.com")

    assert User.objects.filter(provider="google", provider_subject="s-1").count() == 1


def test_same_subject_at_two_providers_is_two_users(db):
    first = create_user(provider="google", provider_subject="s-1")
    second = create_user(provider="apple", provider_subject="s-1")

    assert first.pk != second.pk


# upsert_user


def test_upsert_user_creates_the_user_once(db):
    first = upsert_user(provider="google", provider_subject="s-1", email="a@example.com")
    second = upsert_user(provider="google", provider_subject="s-1", email="a@example.com")

    assert first.pk == second.pk
    assert User.objects.count() == 1


def test_upsert_user_finds_the_user_by_provider_and_subject(db):
    created = upsert_user(provider="google", provider_subject="s-1", email="a@example.com")
    upsert_user(provider="google", provider_subject="s-2", email="a@example.com")

    found = upsert_user(provider="google", provider_subject="s-1", email="new@example.com")

    assert found.pk == created.pk


def test_upsert_user_updates_email_and_display_name(db):
    created = upsert_user(
        provider="google", provider_subject="s-1", email="a@example.com", display_name="A"
    )

    upsert_user(provider="google", provider_subject="s-1", email="b@example.com", display_name="B")

    stored = User.objects.get(pk=created.pk)
    assert (stored.email, stored.display_name) == ("b@example.com", "B")


def test_same_email_from_two_providers_gives_two_users(db):
    google = upsert_user(provider="google", provider_subject="g-1", email="a@example.com")
    apple = upsert_user(provider="apple", provider_subject="a-1", email="a@example.com")

    assert google.pk != apple.pk
    assert User.objects.filter(email="a@example.com").count() == 2


def test_empty_email_and_name_do_not_wipe_stored_ones(db):
    created = upsert_user(
        provider="google", provider_subject="s-1", email="a@example.com", display_name="A"
    )

    upsert_user(provider="google", provider_subject="s-1", email="", display_name="")

    stored = User.objects.get(pk=created.pk)
    assert (stored.email, stored.display_name) == ("a@example.com", "A")


# delete_user


def test_delete_user_removes_the_user_its_sessions_and_refresh_tokens(user, other_user, login):
    first = login(user)
    login(user, fingerprint="device-2")
    kept = login(other_user)

    delete_user(user=user)

    assert not User.objects.filter(pk=user.pk).exists()
    assert not Session.objects.filter(user_id=user.pk).exists()
    assert not RefreshToken.objects.filter(session_id=first.session.pk).exists()
    assert not RefreshToken.objects.filter(token_hash=hash_refresh_token(first.refresh)).exists()
    assert Session.objects.filter(pk=kept.session.pk).exists()
    assert RefreshToken.objects.filter(token_hash=hash_refresh_token(kept.refresh)).exists()


def test_delete_users_deletes_the_accounts_given_and_skips_ids_of_none(user, other_user, login):
    login(user)

    assert delete_users(user_ids=[user.pk, uuid.uuid4()]) == 1

    assert list(User.objects.all()) == [other_user]
    assert not Session.objects.filter(user_id=user.pk).exists()


def test_a_write_that_waited_for_a_deleted_account_is_refused_as_unauthenticated(user):
    deleted = User.objects.get(pk=user.pk)
    delete_user(user=deleted)

    with pytest.raises(Unauthenticated):
        insert_journal_entry(user=user, content="too late")
    assert not JournalEntry.objects.exists()
