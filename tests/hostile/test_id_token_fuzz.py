"""Random input never crashes ID token verification: every failure is an IdentityError
(401 or 400 at the API), never an unexpected exception (500)."""

import base64
import json

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.identity import IdentityError, verify_id_token

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Text of any character, lone surrogates and NUL included.
any_text = st.text(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from(["\x00", "\ud800"])),
    max_size=10,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.one_of(
            st.sampled_from(["RS256", "ES256", "none", "HS256", "PS512"]), json_values
        ),
        "kid": st.one_of(st.just("key-1"), json_values),
        "typ": json_values,
    },
)


def expect_refusal(token):
    with pytest.raises(IdentityError):
        verify_id_token(provider="google", id_token=token)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_is_refused(idp, token):
    expect_refusal(token)


@FUZZ
@given(
    header=headers,
    payload=st.dictionaries(st.text(max_size=5), json_values, max_size=6),
    signature=st.binary(max_size=300),
)
def test_tokens_with_random_headers_and_claims_are_refused(idp, header, payload, signature):
    token = ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )
    expect_refusal(token)


@FUZZ
@given(
    claims=st.fixed_dictionaries(
        {},
        optional={
            "iss": json_values,
            "aud": json_values,
            "sub": json_values,
            "exp": json_values,
            "iat": json_values,
            "email": json_values,
            "name": json_values,
        },
    )
)
def test_validly_signed_tokens_with_random_claims_never_crash(idp, claims):
    private_key, _ = idp.keys["key-1"]
    # Signed as raw bytes: PyJWT's encoder refuses some of these claims before signing.
    token = jwt.PyJWS().encode(
        json.dumps(claims).encode(), private_key, algorithm="RS256", headers={"kid": "key-1"}
    )
    try:
        identity = verify_id_token(provider="google", id_token=token)
    except IdentityError:
        return
    assert isinstance(identity.subject, str) and identity.subject
    # What sign-in stores, both databases can store.
    for text in (identity.subject, identity.email, identity.display_name):
        assert "\x00" not in text
        text.encode("utf-8")
