import pytest

from accounts.models import User
from accounts.services import upsert_user
from ops.errors import Invalid, Unavailable
from tokens.access import decode_access_token
from tokens.exceptions import SignInRefused
from tokens.models import RefreshToken, Session
from tokens.selectors import hash_refresh_token
from tokens.services import sign_in

pytestmark = pytest.mark.django_db


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


def test_sign_in_with_an_unknown_provider_is_refused_as_invalid_and_stores_nothing(idp):
    with pytest.raises(Invalid) as caught:
        sign_in(provider="myspace", id_token=idp.id_token())

    assert caught.value.code == "unknown_provider"
    assert "myspace" in caught.value.message
    assert not User.objects.exists()


def test_sign_in_while_the_provider_is_unreachable_is_service_unavailable(idp):
    idp.down = True

    with pytest.raises(Unavailable):
        sign_in(provider="google", id_token=idp.id_token())
