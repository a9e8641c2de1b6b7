"""Every bad answer of a provider, over https, loopback http and file://: the last good key
set stays in use, a sign-in without one answers 503 (never 500), and a run of sign-ins does
not hammer the provider. ``idp.requests`` counts the requests the provider received (reads,
for a key file)."""

import time

import pytest

from accounts.identity import (
    InvalidIdToken,
    ProviderKeys,
    ProviderUnavailable,
    forget_provider_keys,
    verify_id_token,
)
from tests.idp import FILE_BAD_ANSWERS, HTTP_BAD_ANSWERS, new_rsa_key

# The lifespan and the cooldown of the key cache in these tests, in seconds.
HOLD = 0.25
PAST_HOLD = HOLD + 0.05
RUN = 10

stranger_key = new_rsa_key()

pytestmark = pytest.mark.parametrize(
    "scheme, answer",
    [
        pytest.param(scheme, answer, id=f"{scheme}-{answer}")
        for scheme, answers in [
            ("https", HTTP_BAD_ANSWERS),
            ("http", HTTP_BAD_ANSWERS),
            ("file", FILE_BAD_ANSWERS),
        ]
        for answer in answers
    ],
)


@pytest.fixture
def provider(idp, scheme, settings, monkeypatch, tmp_path):
    """``idp`` publishing its keys over ``scheme``, with a lifespan and cooldown of HOLD."""
    if scheme == "https":
        uri = idp.start(tls=True)
        monkeypatch.setenv("SSL_CERT_FILE", str(idp.ca_file))  # trust the provider's CA
    elif scheme == "http":
        uri = idp.start()
    else:
        uri = idp.start_file(tmp_path / "jwks.json")
        read_file = ProviderKeys._read_file

        def counted_read_file(self):
            idp.requests += 1
            return read_file(self)

        monkeypatch.setattr(ProviderKeys, "_read_file", counted_read_file)
    settings.AUTH_PROVIDERS = {"google": idp.settings_entry(uri)}
    settings.AUTH_JWKS_LIFESPAN_SECONDS = HOLD
    settings.AUTH_JWKS_COOLDOWN_SECONDS = HOLD
    forget_provider_keys()
    return idp


def verify(token: str):
    return verify_id_token(provider="google", id_token=token)


def post_login(api, id_token: str):
    return api.post(
        "/api/v1/auth/login", {"provider": "google", "id_token": id_token}, format="json"
    )


def test_a_bad_answer_once_the_lifespan_passed_leaves_the_last_good_keys_in_use(
    provider, answer, api, db
):
    verify(provider.id_token())
    provider.serve(answer)
    time.sleep(PAST_HOLD)

    response = post_login(api, provider.id_token(sub="alice-sub"))

    assert response.status_code == 200, response.content
    assert response.json()["user"]["provider"] == "google"
    assert provider.requests == 2  # the provider was asked again, and answered badly


def test_a_bad_answer_with_no_good_keys_yet_is_503_never_500(provider, answer, api, db):
    provider.serve(answer)

    response = post_login(api, provider.id_token())

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    assert provider.requests == 1


def test_bad_answers_in_a_row_ask_the_provider_once_per_lifespan(provider, answer):
    verify(provider.id_token())
    provider.serve(answer)
    time.sleep(PAST_HOLD)

    asked = in_a_row(accepted_in_a_row, provider)
    assert 1 <= asked <= allowed_fetches(asked.elapsed)

    time.sleep(PAST_HOLD)
    asked = in_a_row(accepted_in_a_row, provider)
    assert 1 <= asked <= allowed_fetches(asked.elapsed)


def test_bad_answers_in_a_row_with_no_good_keys_yet_ask_the_provider_once_per_cooldown(
    provider, answer
):
    provider.serve(answer)

    asked = in_a_row(unavailable_in_a_row, provider)
    assert 1 <= asked <= allowed_fetches(asked.elapsed)

    time.sleep(PAST_HOLD)
    asked = in_a_row(unavailable_in_a_row, provider)
    assert 1 <= asked <= allowed_fetches(asked.elapsed)


class Asked(int):
    """How many times a run of sign-ins asked the provider, and how long the run took."""

    elapsed: float


def in_a_row(run, provider) -> Asked:
    before, started = provider.requests, time.monotonic()
    run(provider)
    asked = Asked(provider.requests - before)
    asked.elapsed = time.monotonic() - started
    return asked


def allowed_fetches(elapsed: float) -> int:
    """At most one fetch per lifespan or cooldown (HOLD) of the run: one at its start, one
    more for each HOLD it lasted (a run on a loaded machine may outlast one)."""
    return 1 + int(elapsed / HOLD)


def accepted_in_a_row(provider) -> None:
    for n in range(RUN):
        assert verify(provider.id_token(sub="alice-sub")).subject == "alice-sub"
        # An unknown key id may re-fetch, but not within the cooldown of the last attempt.
        with pytest.raises(InvalidIdToken, match="unknown key"):
            verify(provider.id_token(kid=f"unknown-{n}", key=stranger_key))


def unavailable_in_a_row(provider) -> None:
    for _ in range(RUN):
        with pytest.raises(ProviderUnavailable):
            verify(provider.id_token())
