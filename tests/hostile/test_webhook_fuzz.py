"""Random input never crashes the webhook's parsing: it is refused with the webhook's own
errors, or (for well-formed events) accepted."""

import contextlib
import hashlib
import hmac
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscriptions.exceptions import InvalidSignature, MalformedEvent
from subscriptions.webhook import parse_event, verify_signature

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# Events close to valid: every field present, each possibly of a wrong type or value.
near_events = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=20), json_values),
        "type": st.one_of(st.just("subscription.updated"), json_values),
        "created": st.one_of(st.integers(), st.floats(allow_nan=False), json_values),
        "provider": st.one_of(st.just("stripe"), st.text(max_size=40)),
        "user_id": st.one_of(st.uuids().map(str), st.text(max_size=40)),
        "subscription": st.one_of(
            st.fixed_dictionaries(
                {
                    "id": st.one_of(st.just("sub_1"), json_values),
                    "plan": st.one_of(st.just("premium"), json_values),
                    "status": st.one_of(
                        st.sampled_from(["active", "grace", "canceled", "expired", "refunded"]),
                        st.text(max_size=10),
                    ),
                    "current_period_end": st.one_of(
                        st.none(), st.just("2027-01-01T00:00:00Z"), st.text(max_size=30)
                    ),
                }
            ),
            json_values,
        ),
    }
)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_are_malformed_never_a_crash(body):
    with contextlib.suppress(MalformedEvent):
        parse_event(body)


@FUZZ
@given(json_values)
def test_any_json_is_refused_or_read(value):
    with contextlib.suppress(MalformedEvent):
        parse_event(json.dumps(value).encode())


@FUZZ
@given(near_events)
def test_events_with_wrong_fields_are_refused_or_read(event):
    try:
        parsed = parse_event(json.dumps(event).encode())
    except MalformedEvent:
        return
    assert parsed.event_id == event["id"]
    assert parsed.status in {"active", "grace", "canceled", "expired", "refunded"}


@FUZZ
@given(header=st.one_of(st.none(), st.text(max_size=200)), body=st.binary(max_size=100))
def test_random_signature_headers_are_refused(header, body):
    try:
        verify_signature(header=header, body=body, secrets=["whsec_fuzz"], now=1_767_225_600)
    except InvalidSignature:
        return
    raise AssertionError(f"accepted {header!r}")


@FUZZ
@given(body=st.binary(max_size=200), skew=st.integers(-299, 299))
def test_a_real_signature_over_any_body_is_accepted(body, skew):
    t = 1_767_225_600
    signature = hmac.new(b"whsec_fuzz", f"{t}.".encode() + body, hashlib.sha256).hexdigest()

    verify_signature(
        header=f"t={t},v1={signature}", body=body, secrets=["whsec_fuzz"], now=t + skew
    )
