"""Random JSON to the endpoints anyone (or any signed-in user) can post to, and random claims
in validly signed ID tokens: no answer is a 5xx, every refusal is JSON with a ``detail``, and
whatever is stored can be stored by both databases."""

import json
import uuid

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from journal.models import JournalEntry
from ops.shared_state import shared_state
from tests.subscriptions.conftest import SECRET, WEBHOOK, event_payload, sign

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any character, surrogates included (hypothesis leaves them out unless asked), and often
# the ones the databases cannot store.
hostile_text = st.text(
    st.one_of(
        st.characters(exclude_categories=()),
        st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]),
    ),
    max_size=12,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)


def as_body(value) -> bytes:
    # NaN and infinities are written as JSON cannot hold them (NaN, Infinity): refused too.
    return json.dumps(value).encode()


deep_bodies = st.integers(min_value=1, max_value=5000).map(
    lambda depth: ("[" * depth + "]" * depth).encode()
)
bodies = st.one_of(json_values.map(as_body), deep_bodies)


def login_bodies(id_token):
    return st.one_of(
        bodies,
        st.fixed_dictionaries(
            {"provider": st.one_of(st.just("google"), json_values), "id_token": id_token},
            optional={"fingerprint": json_values, "extra": json_values},
        ).map(as_body),
    )


def assert_answered(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["detail"], str)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone surrogate has no UTF-8 form
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@pytest.fixture
def post(api):
    def _post(path, body: bytes, **headers):
        shared_state().clear()  # every example is one more request from the same address
        return api.post(path, body, content_type="application/json", **headers)

    return _post


@FUZZ
@given(data=st.data())
def test_random_login_bodies_are_answered(post, idp, data):
    body = data.draw(login_bodies(st.one_of(st.just(idp.id_token()), json_values)))

    assert_answered(post("/api/v1/auth/login", body))


@FUZZ
@given(data=st.data())
def test_random_refresh_bodies_are_answered(post, login, user, data):
    refresh = login(user).refresh
    body = data.draw(
        st.one_of(
            bodies,
            st.fixed_dictionaries(
                {"refresh": st.one_of(st.just(refresh), json_values)},
                optional={"fingerprint": json_values, "extra": json_values},
            ).map(as_body),
        )
    )

    assert_answered(post("/api/v1/auth/refresh", body))


@FUZZ
@given(
    body=st.one_of(
        bodies,
        st.fixed_dictionaries(
            {"content": st.one_of(hostile_text, json_values)}, optional={"extra": json_values}
        ).map(as_body),
    )
)
def test_random_entry_bodies_are_answered(auth_api, body):
    response = auth_api.post("/api/v1/journal/entries", body, content_type="application/json")

    assert_answered(response)
    for content in JournalEntry.objects.values_list("content", flat=True):
        assert _storable(content)


UNKNOWN_USER = "00000000-0000-4000-8000-000000000001"

webhook_bodies = st.one_of(
    bodies.map(lambda body: ("body", body)),
    # A real event with a field replaced or added.
    st.tuples(st.sampled_from(["id", "type", "provider", "plan", "extra"]), json_values),
    # A real event carrying a field nested up to past the decoder's limit.
    st.tuples(st.just("nested"), st.sampled_from(range(1, 2001))),
)


def _webhook_body(change, *, user_id) -> bytes:
    kind, value = change
    if kind == "body":
        return value
    # A new event id each time: a duplicate would be answered before its payload is stored.
    event = event_payload(user_id, event_id=f"evt_{uuid.uuid4().hex}")
    if kind == "nested":
        return as_body(event)[:-1] + b', "extra": ' + b"[" * value + b"]" * value + b"}"
    if kind == "plan":
        event["subscription"]["plan"] = value
    else:
        event[kind] = value
    return as_body(event)


@FUZZ
@given(change=webhook_bodies, known_user=st.booleans())
def test_random_signed_webhook_bodies_are_answered(post, settings, user, change, known_user):
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [SECRET]
    body = _webhook_body(change, user_id=user.pk if known_user else UNKNOWN_USER)

    assert_answered(post(WEBHOOK, body, HTTP_X_WEBHOOK_SIGNATURE=sign(body)))


claim_values = st.one_of(hostile_text, st.text(max_size=300), json_values)


@FUZZ
@given(
    claims=st.fixed_dictionaries(
        {}, optional={"sub": claim_values, "email": claim_values, "name": claim_values}
    )
)
def test_random_claims_in_a_signed_id_token_never_store_unstorable_text(post, idp, claims):
    private_key, _ = idp.keys["key-1"]
    # Signed as raw bytes, with the issuer, audience and times right: the claims decide.
    token = jwt.PyJWS().encode(
        json.dumps(idp.claims(**claims)).encode(),
        private_key,
        algorithm="RS256",
        headers={"kid": "key-1"},
    )

    response = post(
        "/api/v1/auth/login", json.dumps({"provider": "google", "id_token": token}).encode()
    )

    assert_answered(response)
    subject = claims.get("sub")
    usable_subject = "sub" not in claims or (
        isinstance(subject, str) and 0 < len(subject) <= 255 and _storable(subject)
    )
    assert response.status_code == (200 if usable_subject else 401)
    if response.status_code == 200:
        user = User.objects.get(pk=response.json()["user"]["id"])
        if "sub" in claims:
            assert user.provider_subject == subject  # a subject is never altered
        for value in (user.provider_subject, user.email, user.display_name):
            assert _storable(value)
