import pytest
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from accounts.exceptions import SignInRefused
from accounts.models import User
from accounts.services import create_user, delete_user, sign_in, upsert_user
from config.exceptions import ServiceUnavailable
from tokens.access import decode_access_token
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


# sign_in


def test_sign_in_creates_the_user_and_returns_a_token_pair(idp):
    token = idp.id_token(sub="alice-sub", email="alice@example.com", name="Alice")

    user, pair = sign_in(provider="google", id_token=token, fingerprint="device-1")

    assert (user.provider, user.provider_subject) == ("google", "alice-sub")
    assert (user.email, user.display_name) == ("alice@example.com", "Alice")
    assert decode_access_token(pair.access).user_id == user.pk
    session = Session.objects.get(user=user)
    assert session.fingerprint == "device-1"
    assert RefreshToken.objects.get(session=session).token_hash == hash_refresh_token(pair.refresh)


def test_sign_in_again_finds_the_same_user_and_starts_another_session(idp):
    first, _ = sign_in(provider="google", id_token=idp.id_token(sub="alice-sub"))
    second, _ = sign_in(provider="google", id_token=idp.id_token(sub="alice-sub"))

    assert first.pk == second.pk
    assert User.objects.count() == 1
    assert Session.objects.filter(user=first).count() == 2


def test_sign_in_of_a_disabled_user_is_refused(idp):
    user = upsert_user(provider="google", provider_subject="alice-sub", email="a@example.com")
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(SignInRefused):
        sign_in(provider="google", id_token=idp.id_token(sub="alice-sub", email="new@example.com"))

    assert not Session.objects.filter(user=user).exists()
    assert User.objects.get(pk=user.pk).email == "a@example.com"


def test_sign_in_with_an_invalid_token_is_refused(idp):
    with pytest.raises(SignInRefused):
        sign_in(provider="google", id_token=idp.id_token(aud="someone-else"))

    assert not User.objects.exists()


def test_sign_in_with_an_unknown_provider_is_a_validation_error(idp):
    with pytest.raises(ValidationError) as caught:
        sign_in(provider="myspace", id_token=idp.id_token())

    assert "provider" in caught.value.detail


def test_sign_in_while_the_provider_is_unreachable_is_service_unavailable(idp):
    idp.down = True

    with pytest.raises(ServiceUnavailable):
        sign_in(provider="google", id_token=idp.id_token())
