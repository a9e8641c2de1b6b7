"""The provider key cache: how often the provider's JWKS endpoint is asked, and what happens
when it cannot answer. ``idp.requests`` counts the requests that reach the fake provider."""

import time

import pytest

from accounts.identity import (
    InvalidIdToken,
    ProviderUnavailable,
    forget_provider_keys,
    verify_id_token,
)
from tests.idp import new_rsa_key

PAST_ONE_SECOND = 1.1

stranger_key = new_rsa_key()


def verify(token: str):
    return verify_id_token(provider="google", id_token=token)


def refused_unknown_kids(idp, count: int) -> None:
    """Present ``count`` tokens signed with keys the provider never published."""
    for n in range(count):
        with pytest.raises(InvalidIdToken, match="unknown key"):
            verify(idp.id_token(kid=f"unknown-{n}", key=stranger_key, alg="RS256"))


@pytest.fixture
def short_cooldown(idp, settings):
    settings.AUTH_JWKS_COOLDOWN_SECONDS = 1
    forget_provider_keys()


@pytest.fixture
def short_lifespan(idp, settings):
    settings.AUTH_JWKS_LIFESPAN_SECONDS = 1
    forget_provider_keys()


def test_many_verifications_with_a_known_key_fetch_the_keys_once(idp):
    for _ in range(25):
        verify(idp.id_token())

    assert idp.requests == 1


def test_unknown_key_ids_right_after_a_fetch_cause_no_refetch(idp, settings):
    settings.AUTH_JWKS_COOLDOWN_SECONDS = 30
    forget_provider_keys()

    refused_unknown_kids(idp, 20)

    # The first token fetched the set; the cooldown that fetch started held back the rest.
    assert idp.requests == 1


def test_unknown_key_ids_cause_at_most_one_refetch_per_cooldown(idp, short_cooldown):
    verify(idp.id_token())
    assert idp.requests == 1

    refused_unknown_kids(idp, 20)
    assert idp.requests <= 2
    before = idp.requests

    time.sleep(PAST_ONE_SECOND)
    refused_unknown_kids(idp, 20)

    assert idp.requests == before + 1


def test_a_rotated_key_is_usable_after_the_cooldown(idp, short_cooldown):
    verify(idp.id_token())
    idp.add_key("key-2")

    time.sleep(PAST_ONE_SECOND)
    identity = verify(idp.id_token(kid="key-2", sub="alice-sub"))

    assert identity.subject == "alice-sub"
    assert idp.requests == 2


def test_old_keys_keep_working_after_rotation(idp, short_cooldown):
    verify(idp.id_token())
    idp.add_key("key-2")
    time.sleep(PAST_ONE_SECOND)
    verify(idp.id_token(kid="key-2"))

    assert verify(idp.id_token(kid="key-1", sub="alice-sub")).subject == "alice-sub"


def test_known_keys_are_refetched_once_the_lifespan_has_passed(idp, short_lifespan):
    verify(idp.id_token())

    time.sleep(PAST_ONE_SECOND)
    verify(idp.id_token())

    assert idp.requests == 2


def test_last_good_keys_are_kept_while_the_provider_is_down(idp, short_lifespan):
    verify(idp.id_token())
    idp.down = True

    time.sleep(PAST_ONE_SECOND)
    identity = verify(idp.id_token(sub="alice-sub"))

    assert identity.subject == "alice-sub"
    assert idp.requests == 2  # the provider was tried, and failed


def test_a_down_provider_is_retried_once_per_lifespan(idp, short_lifespan):
    verify(idp.id_token())
    idp.down = True
    time.sleep(PAST_ONE_SECOND)
    for _ in range(10):
        verify(idp.id_token())
    assert idp.requests == 2

    time.sleep(PAST_ONE_SECOND)
    verify(idp.id_token())

    assert idp.requests == 3


def test_keys_of_a_provider_back_from_an_outage_are_used_again(idp, short_lifespan):
    verify(idp.id_token())
    idp.down = True
    time.sleep(PAST_ONE_SECOND)
    verify(idp.id_token())

    idp.down = False
    idp.add_key("key-2")
    time.sleep(PAST_ONE_SECOND)

    assert verify(idp.id_token(kid="key-2", sub="alice-sub")).subject == "alice-sub"


def test_down_provider_with_no_keys_ever_fetched_is_unavailable(idp):
    idp.down = True

    with pytest.raises(ProviderUnavailable):
        verify(idp.id_token())

    assert idp.requests == 1


def test_unreachable_provider_is_unavailable(idp):
    idp.stop()

    with pytest.raises(ProviderUnavailable):
        verify(idp.id_token())


def test_missing_key_file_is_unavailable(idp, settings, tmp_path):
    settings.AUTH_PROVIDERS = {"google": idp.settings_entry((tmp_path / "absent.json").as_uri())}
    forget_provider_keys()

    with pytest.raises(ProviderUnavailable):
        verify(idp.id_token())


def test_login_while_the_provider_is_down_answers_503_with_a_detail(idp, api, db):
    idp.down = True

    response = api.post(
        "/api/v1/auth/login", {"provider": "google", "id_token": idp.id_token()}, format="json"
    )

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["code"] == "service_unavailable"


def test_provider_answering_something_that_is_not_json_is_unavailable(idp):
    idp.serve("not-json")

    with pytest.raises(ProviderUnavailable):
        verify(idp.id_token())


def test_a_provider_never_answered_well_is_asked_again_only_after_the_cooldown(idp, short_cooldown):
    idp.down = True
    with pytest.raises(ProviderUnavailable):
        verify(idp.id_token())
    idp.down = False

    with pytest.raises(ProviderUnavailable):
        verify(idp.id_token())
    assert idp.requests == 1

    time.sleep(PAST_ONE_SECOND)
    assert verify(idp.id_token(sub="alice-sub")).subject == "alice-sub"
    assert idp.requests == 2
