"""``accounts.identity.verify_id_token`` against a fake provider serving its JWKS on loopback."""

import base64
import hashlib
import hmac
import json
import random
import time

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accounts.identity import (
    InvalidIdToken,
    UnknownProvider,
    VerifiedIdentity,
    forget_provider_keys,
    verify_id_token,
)
from tests.idp import GOOGLE_AUDIENCE, GOOGLE_ISSUERS, new_ec_key, new_rsa_key

DAY = 86400
INF, NAN = float("inf"), float("nan")


def verify(token: str, provider: str = "google") -> VerifiedIdentity:
    return verify_id_token(provider=provider, id_token=token)


def post_login(api, id_token: str):
    return api.post(
        "/api/v1/auth/login", {"provider": "google", "id_token": id_token}, format="json"
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value) -> str:
    return b64url(json.dumps(value).encode())


def hand_made_token(header: object, claims: dict, signature: bytes = b"signature") -> str:
    return f"{segment(header)}.{segment(claims)}.{b64url(signature)}"


# Accepted.


def test_valid_token_names_its_provider_subject_email_and_name(idp):
    token = idp.id_token(sub="alice-sub", email="alice@example.com", name="Alice")

    assert verify(token) == VerifiedIdentity(
        provider="google", subject="alice-sub", email="alice@example.com", display_name="Alice"
    )


def test_token_from_the_second_issuer_is_accepted(idp):
    token = idp.id_token(iss=GOOGLE_ISSUERS[1], sub="alice-sub")

    assert verify(token).subject == "alice-sub"


def test_token_for_the_second_audience_is_accepted(idp):
    token = idp.id_token(aud=GOOGLE_AUDIENCE[1], sub="alice-sub")

    assert verify(token).subject == "alice-sub"


def test_token_with_an_audience_list_holding_one_accepted_value_is_accepted(idp):
    token = idp.id_token(aud=["someone-else.apps.example", GOOGLE_AUDIENCE[1]], sub="alice-sub")

    assert verify(token).subject == "alice-sub"


def test_token_expired_within_the_leeway_is_accepted(idp):
    now = int(time.time())
    token = idp.id_token(iat=now - 630, exp=now - 30, sub="alice-sub")

    assert verify(token).subject == "alice-sub"


def test_token_signed_with_an_ec_key_is_accepted(idp):
    idp.add_key("ec-1", new_ec_key(), alg="ES256")
    token = idp.id_token(kid="ec-1", sub="alice-sub")

    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert verify(token).subject == "alice-sub"


def test_keys_are_read_from_a_file_uri(idp, settings, tmp_path):
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(idp.jwks()), encoding="utf-8")
    settings.AUTH_PROVIDERS = {"google": idp.settings_entry(jwks_file.as_uri())}
    forget_provider_keys()

    identity = verify(idp.id_token(sub="alice-sub"))

    assert identity.subject == "alice-sub"
    assert idp.requests == 0


def test_token_signed_by_a_key_missing_from_the_key_file_is_refused(idp, settings, tmp_path):
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(idp.jwks()), encoding="utf-8")
    settings.AUTH_PROVIDERS = {"google": idp.settings_entry(jwks_file.as_uri())}
    forget_provider_keys()
    idp.add_key("key-2")

    with pytest.raises(InvalidIdToken, match="unknown key"):
        verify(idp.id_token(kid="key-2"))


def test_overlong_name_is_cut_to_255_characters(idp):
    identity = verify(idp.id_token(name="n" * 300))

    assert identity.display_name == "n" * 255


def test_overlong_email_is_dropped(idp):
    identity = verify(idp.id_token(email="e" * 250 + "@example.com"))

    assert identity.email == ""


# Refused: claims.


def test_token_from_another_issuer_is_refused(idp):
    token = idp.id_token(iss="https://accounts.evil.example")

    with pytest.raises(InvalidIdToken, match="issuer"):
        verify(token)


def test_token_for_another_audience_is_refused(idp):
    token = idp.id_token(aud="another-client-id.apps.example")

    with pytest.raises(InvalidIdToken, match="audience"):
        verify(token)


def test_token_with_an_audience_list_of_unknown_values_is_refused(idp):
    token = idp.id_token(aud=["one.apps.example", "two.apps.example"])

    with pytest.raises(InvalidIdToken, match="audience"):
        verify(token)


def test_token_expired_beyond_the_leeway_is_refused(idp):
    now = int(time.time())
    token = idp.id_token(iat=now - 700, exp=now - 120)

    with pytest.raises(InvalidIdToken, match="expired"):
        verify(token)


def test_token_issued_in_the_future_beyond_the_leeway_is_refused(idp):
    now = int(time.time())
    token = idp.id_token(iat=now + 300, exp=now + 900)

    with pytest.raises(InvalidIdToken):
        verify(token)


def test_token_without_a_subject_is_refused(idp):
    token = idp.id_token(sub=None)

    assert "sub" not in jwt.decode(token, options={"verify_signature": False})
    with pytest.raises(InvalidIdToken):
        verify(token)


def test_token_without_an_issued_at_is_refused(idp):
    token = idp.id_token(iat=None)

    assert "iat" not in jwt.decode(token, options={"verify_signature": False})
    with pytest.raises(InvalidIdToken):
        verify(token)


# Refused: issued too long ago (AUTH_ID_TOKEN_MAX_AGE_SECONDS), or at no usable time.


def test_token_issued_longer_ago_than_the_max_age_is_refused_even_if_unexpired(idp):
    now = int(time.time())
    token = idp.id_token(iat=now - 2 * DAY, exp=now + 3600)

    with pytest.raises(InvalidIdToken, match="too long ago"):
        verify(token)


def test_token_older_than_the_max_age_within_the_leeway_is_accepted(idp, settings):
    now = int(time.time())
    token = idp.id_token(
        iat=now - settings.AUTH_ID_TOKEN_MAX_AGE_SECONDS - 30, exp=now + 3600, sub="alice-sub"
    )

    assert verify(token).subject == "alice-sub"


def test_old_token_is_accepted_once_the_max_age_allows_it(idp, settings):
    now = int(time.time())
    token = idp.id_token(iat=now - 2 * DAY, exp=now + 3600, sub="alice-sub")
    settings.AUTH_ID_TOKEN_MAX_AGE_SECONDS = 3 * DAY

    assert verify(token).subject == "alice-sub"


def test_fresh_token_is_accepted_under_a_short_max_age(idp, settings):
    settings.AUTH_ID_TOKEN_MAX_AGE_SECONDS = 120

    assert verify(idp.id_token(sub="alice-sub")).subject == "alice-sub"


def test_token_with_a_fractional_issue_time_is_accepted(idp):
    assert verify(idp.id_token(iat=time.time() - 0.5, sub="alice-sub")).subject == "alice-sub"


@pytest.mark.parametrize(
    "iat",
    [str(int(time.time())), "yesterday", "", True, [int(time.time())], {"at": 1}, INF, NAN],
    ids=["digits", "word", "empty", "true", "list", "object", "infinity", "nan"],
)
def test_token_whose_issue_time_is_not_a_number_is_refused(idp, iat):
    with pytest.raises(InvalidIdToken):
        verify(idp.id_token(iat=iat))


def test_login_with_a_token_older_than_the_max_age_is_401_sign_in_refused(idp, api, db):
    now = int(time.time())

    response = post_login(api, idp.id_token(iat=now - 2 * DAY, exp=now + 3600))

    assert response.status_code == 401
    assert response.json()["code"] == "sign_in_refused"


def test_login_with_an_old_token_succeeds_once_the_max_age_allows_it(idp, api, db, settings):
    now = int(time.time())
    settings.AUTH_ID_TOKEN_MAX_AGE_SECONDS = 3 * DAY

    response = post_login(api, idp.id_token(iat=now - 2 * DAY, exp=now + 3600))

    assert response.status_code == 200


@pytest.mark.parametrize("iat", ["1700000000", [1], INF], ids=["digits", "list", "infinity"])
def test_login_with_an_issue_time_that_is_not_a_number_is_401_sign_in_refused(idp, api, db, iat):
    response = post_login(api, idp.id_token(iat=iat))

    assert response.status_code == 401
    assert response.json()["code"] == "sign_in_refused"


# Refused: other claims.


def test_token_with_an_empty_subject_is_refused(idp):
    with pytest.raises(InvalidIdToken):
        verify(idp.id_token(sub=""))


def test_token_with_an_overlong_subject_is_refused(idp):
    with pytest.raises(InvalidIdToken):
        verify(idp.id_token(sub="s" * 256))


# Refused: keys and algorithms.


def test_token_with_an_unknown_key_id_is_refused(idp):
    token = idp.id_token(kid="no-such-key", key=new_rsa_key(), alg="RS256")

    with pytest.raises(InvalidIdToken, match="unknown key"):
        verify(token)


def test_token_without_a_key_id_is_refused(idp):
    private_key, _ = idp.keys["key-1"]
    token = jwt.encode(idp.claims(), private_key, algorithm="RS256")

    with pytest.raises(InvalidIdToken, match="key id"):
        verify(token)


def test_token_signed_by_a_foreign_key_under_a_known_key_id_is_refused(idp):
    token = idp.id_token(kid="key-1", key=new_rsa_key())

    with pytest.raises(InvalidIdToken):
        verify(token)


def test_token_whose_algorithm_does_not_match_its_key_is_refused(idp):
    # An EC signature presented under the RSA key's id.
    token = idp.id_token(kid="key-1", key=new_ec_key(), alg="ES256")

    with pytest.raises(InvalidIdToken, match="algorithm"):
        verify(token)


def test_unsigned_token_with_alg_none_is_refused(idp):
    token = jwt.encode(idp.claims(), key=None, algorithm="none", headers={"kid": "key-1"})

    assert jwt.get_unverified_header(token)["alg"] == "none"
    with pytest.raises(InvalidIdToken, match="algorithm"):
        verify(token)


def test_hs256_token_keyed_with_the_providers_public_key_is_refused(idp):
    # Algorithm confusion: the public key, known to all, used as an HMAC secret.
    public_pem = (
        idp.keys["key-1"][0]
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = (
        f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': 'key-1'})}.{segment(idp.claims())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(signature)}"

    with pytest.raises(InvalidIdToken, match="algorithm"):
        verify(token)


def test_token_claiming_an_asymmetric_alg_with_an_hmac_signature_is_refused(idp):
    public_pem = (
        idp.keys["key-1"][0]
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = (
        f"{segment({'alg': 'RS256', 'typ': 'JWT', 'kid': 'key-1'})}.{segment(idp.claims())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()

    with pytest.raises(InvalidIdToken):
        verify(f"{signing_input}.{b64url(signature)}")


# Refused: not a token at all.


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        " ",
        "garbage",
        "a.b",
        "a.b.c",
        "...",
        "eyJhbGciOiJSUzI1NiJ9",
        "eyJ.eyJ.sig",
        "!!!!.!!!!.!!!!",
        random.Random(7).randbytes(64).decode("latin-1"),
        random.Random(8).randbytes(64).decode("latin-1") + ".x.y",
        hand_made_token(["RS256"], {"sub": "x"}),
        hand_made_token({"alg": "RS256", "kid": 5}, {"sub": "x"}),
        f"{segment({'alg': 'RS256', 'kid': 'key-1'})}.not-json.c2ln",
        f"{segment({'alg': 'RS256', 'kid': 'key-1'})}.{segment([1, 2])}.c2ln",
    ],
)
def test_garbage_is_refused_as_an_invalid_token(idp, garbage):
    with pytest.raises(InvalidIdToken):
        verify(garbage)


@pytest.mark.parametrize("alg", [["RS256"], {"name": "RS256"}, 256, None])
def test_header_with_a_non_string_alg_is_refused(idp, alg):
    token = hand_made_token({"alg": alg, "kid": "key-1"}, idp.claims())

    with pytest.raises(InvalidIdToken):
        verify(token)


# Refused: provider.


def test_unknown_provider_is_refused(idp):
    with pytest.raises(UnknownProvider):
        verify(idp.id_token(), provider="apple")
