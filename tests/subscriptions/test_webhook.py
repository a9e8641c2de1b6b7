import json
import time
import uuid
from datetime import UTC, datetime

import pytest

from subscriptions.exceptions import InvalidSignature, MalformedEvent, WebhookNotConfigured
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.webhook import parse_event, verify_signature
from tests.subscriptions.conftest import CREATED, OLD_SECRET, SECRET, event_payload, sign

pytestmark = pytest.mark.django_db


def test_a_signed_event_creates_the_subscription(signed_post, user):
    response = signed_post(event_payload(user.pk))

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.provider, subscription.provider_subscription_id) == (
        user,
        "stripe",
        "sub_9",
    )
    assert subscription.status == "active"
    assert subscription.plan == "premium_monthly"
    assert subscription.current_period_end == datetime(2027, 1, 1, tzinfo=UTC)
    assert subscription.last_event_at == datetime.fromtimestamp(CREATED, tz=UTC)
    event = SubscriptionEvent.objects.get()
    assert (event.event_id, event.outcome, event.user, event.subscription) == (
        "evt_1",
        "processed",
        user,
        subscription,
    )
    assert event.payload == event_payload(user.pk)


def test_a_later_event_updates_the_subscription(signed_post, user):
    signed_post(event_payload(user.pk))

    response = signed_post(
        event_payload(
            user.pk,
            event_id="evt_2",
            created=CREATED + 60,
            status="grace",
            plan="premium_yearly",
            period_end="2027-02-01T12:00:00+02:00",
        )
    )

    assert response.json() == {"status": "processed"}
    subscription = Subscription.objects.get()
    assert subscription.status == "grace"
    assert subscription.plan == "premium_yearly"
    assert subscription.current_period_end == datetime(2027, 2, 1, 10, tzinfo=UTC)


def test_the_same_event_twice_is_a_duplicate_and_changes_nothing(signed_post, user):
    signed_post(event_payload(user.pk))
    replay = event_payload(user.pk, created=CREATED + 60, status="canceled", plan="other")

    response = signed_post(replay)

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    subscription = Subscription.objects.get()
    assert (subscription.status, subscription.plan) == ("active", "premium_monthly")
    assert SubscriptionEvent.objects.count() == 1
    assert SubscriptionEvent.objects.get().payload["subscription"]["status"] == "active"


def test_the_same_event_id_from_another_provider_is_not_a_duplicate(signed_post, user):
    signed_post(event_payload(user.pk))

    response = signed_post(event_payload(user.pk, provider="paddle", sub_id="sub_p"))

    assert response.json() == {"status": "processed"}
    assert SubscriptionEvent.objects.count() == 2


def test_a_wrong_secret_is_401(signed_post, user):
    response = signed_post(event_payload(user.pk), secret="whsec_attacker")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert isinstance(response.json()["detail"], str)
    assert not SubscriptionEvent.objects.exists()


def test_a_signature_of_another_body_is_401(signed_post, user):
    header = sign(json.dumps(event_payload(user.pk, status="canceled")).encode())

    response = signed_post(event_payload(user.pk), header=header)

    assert response.status_code == 401
    assert not Subscription.objects.exists()


def test_both_secrets_are_accepted_during_rotation(signed_post, settings, user):
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [SECRET, OLD_SECRET]

    old = signed_post(event_payload(user.pk, event_id="evt_old"), secret=OLD_SECRET)
    new = signed_post(event_payload(user.pk, event_id="evt_new"), secret=SECRET)
    other = signed_post(event_payload(user.pk, event_id="evt_x"), secret="whsec_unknown")

    assert (old.status_code, new.status_code, other.status_code) == (200, 200, 401)


def test_one_matching_signature_among_several_is_enough(signed_post, user):
    body = json.dumps(event_payload(user.pk)).encode()
    t = int(time.time())
    good = sign(body, t=t).split("v1=")[1]
    header = f"t={t},v1={'0' * 64},v0=legacy,v1={good.upper()}"

    response = signed_post(body, header=header)

    assert response.status_code == 200


@pytest.mark.parametrize("skew", [-301, 301, -86400, 10**9])
def test_a_stale_or_far_future_timestamp_is_401(signed_post, user, skew):
    response = signed_post(event_payload(user.pk), t=int(time.time()) + skew)

    assert response.status_code == 401
    assert response.json()["code"] == "stale_signature"
    assert not SubscriptionEvent.objects.exists()


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_signature_header_is_401(signed_post, user, header):
    response = signed_post(event_payload(user.pk), header=header)

    assert response.status_code == 401
    assert response.json()["code"] == "missing_signature"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=1767225600",
        "v1=" + "a" * 64,
        "t=soon,v1=" + "a" * 64,
        "t=-5,v1=" + "a" * 64,
        "t=1,t=2,v1=" + "a" * 64,
        "t=1767225600,v1=not-hex",
        "t=1767225600,v1=" + "a" * 63,
        "t=1767225600,v1=" + "\u00e9" * 64,
        "t=1767225600;v1=" + "a" * 64,
    ],
)
def test_a_garbled_signature_header_is_401(signed_post, user, header):
    response = signed_post(event_payload(user.pk), header=header)

    assert response.status_code == 401
    assert response.json()["code"] == "malformed_signature"
    assert isinstance(response.json()["detail"], str)


def test_no_configured_secret_is_503(signed_post, settings, user):
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = []

    response = signed_post(event_payload(user.pk))

    assert response.status_code == 503
    assert response.json()["code"] == "webhook_not_configured"
    assert not SubscriptionEvent.objects.exists()


def test_the_webhook_ignores_an_authorization_header(signed_post, api, user):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert signed_post(event_payload(user.pk)).status_code == 200


DELETE = object()


def _with(payload, path, value):
    """``payload`` with the key at dotted ``path`` set to ``value`` (or removed if DELETE)."""
    *parents, key = path.split(".")
    node = payload
    for parent in parents:
        node = node[parent]
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return payload


MALFORMED_FIELDS = [
    ("id", DELETE),
    ("id", 5),
    ("id", ""),
    ("type", None),
    ("created", "1767225600"),
    ("created", 1767225600.5),
    ("created", True),
    ("created", -1),
    ("created", 10**20),
    ("provider", "p" * 33),
    ("user_id", "not-a-uuid"),
    ("user_id", 5),
    ("subscription", DELETE),
    ("subscription", "sub_9"),
    ("subscription", ["sub_9"]),
    ("subscription.id", DELETE),
    ("subscription.plan", 7),
    ("subscription.status", "paused"),
    ("subscription.status", "ACTIVE"),
    ("subscription.current_period_end", DELETE),
    ("subscription.current_period_end", "next month"),
    ("subscription.current_period_end", "2027-13-01T00:00:00Z"),
    ("subscription.current_period_end", "2027-01-01T00:00:00"),
    ("subscription.current_period_end", 1798761600),
    ("note", "a NUL \u0000 character"),
    ("note", "a lone surrogate \ud800"),
]


@pytest.mark.parametrize(("path", "value"), MALFORMED_FIELDS)
def test_a_malformed_field_is_400(signed_post, user, path, value):
    payload = _with(event_payload(user.pk), path, value)

    response = signed_post(payload)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_event"
    assert isinstance(response.json()["detail"], str)
    assert not SubscriptionEvent.objects.exists()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[]",
        b'"text"',
        b"null",
        b"\xff\xfe",
        b'{"id": NaN}',
        b'{"id": 1e999}',
        b"[" * 100000,
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(signed_post, user, body):
    response = signed_post(body)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_event"
    assert not SubscriptionEvent.objects.exists()


def test_a_null_period_end_is_accepted(signed_post, user):
    response = signed_post(event_payload(user.pk, status="refunded", period_end=None))

    assert response.json() == {"status": "processed"}
    assert Subscription.objects.get().current_period_end is None


def test_unknown_fields_are_kept_in_the_payload(signed_post, user):
    payload = {**event_payload(user.pk), "livemode": True, "extra": {"nested": [1, 2.5]}}

    assert signed_post(payload).status_code == 200
    assert SubscriptionEvent.objects.get().payload == payload


def test_fields_the_event_does_not_define_are_ignored_at_every_level(signed_post, user):
    payload = event_payload(user.pk)
    payload["livemode"] = False
    payload["subscription"]["quantity"] = 3

    assert signed_post(payload).json() == {"status": "processed"}

    assert Subscription.objects.get().status == "active"


def test_an_unknown_user_is_ignored_and_recorded_without_its_payload(signed_post, user):
    stranger = uuid.uuid4()

    response = signed_post(event_payload(stranger, event_type="subscription.canceled"))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert not Subscription.objects.exists()
    event = SubscriptionEvent.objects.get()
    assert (event.outcome, event.user, event.subscription) == ("ignored", None, None)
    # What idempotency needs, and nothing that names the id.
    assert (event.provider, event.event_id, event.type) == (
        "stripe",
        "evt_1",
        "subscription.canceled",
    )
    assert event.created == datetime.fromtimestamp(CREATED, tz=UTC)
    assert event.payload is None
    assert signed_post(event_payload(stranger)).json() == {"status": "duplicate"}


@pytest.mark.parametrize(
    "spelling",
    [str, lambda pk: pk.hex, lambda pk: str(pk).upper(), "{{{}}}".format, "urn:uuid:{}".format],
    ids=["dashed", "hex", "upper", "braces", "urn"],
)
def test_an_event_is_linked_to_its_user_whatever_the_spelling_of_its_id(
    signed_post, user, spelling
):
    payload = event_payload(user.pk)
    payload["user_id"] = spelling(user.pk)

    assert signed_post(payload).json() == {"status": "processed"}

    event = SubscriptionEvent.objects.get()
    assert (event.user, event.payload) == (user, payload)


def test_an_event_older_than_the_last_applied_is_recorded_as_stale(signed_post, user):
    signed_post(event_payload(user.pk, event_id="evt_new", created=CREATED + 60, status="canceled"))

    response = signed_post(event_payload(user.pk, event_id="evt_old", status="active"))

    assert response.json() == {"status": "processed"}
    subscription = Subscription.objects.get()
    assert subscription.status == "canceled"
    assert subscription.last_event_at == datetime.fromtimestamp(CREATED + 60, tz=UTC)
    outcomes = dict(SubscriptionEvent.objects.values_list("event_id", "outcome"))
    assert outcomes == {"evt_new": "processed", "evt_old": "stale"}


def test_an_event_for_another_users_subscription_is_ignored(signed_post, user, other_user):
    signed_post(event_payload(user.pk))

    response = signed_post(
        event_payload(other_user.pk, event_id="evt_2", created=CREATED + 60, status="canceled")
    )

    assert response.json() == {"status": "ignored"}
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.status) == (user, "active")
    assert SubscriptionEvent.objects.get(event_id="evt_2").outcome == "ignored"


def test_a_second_subscription_leaves_the_first_one_active(signed_post, user):
    signed_post(event_payload(user.pk, sub_id="sub_premium", plan="premium_yearly"))

    # A later, cheap purchase carrying the same user id.
    response = signed_post(
        event_payload(
            user.pk, event_id="evt_2", created=CREATED + 60, sub_id="sub_cheap", plan="basic"
        )
    )

    assert response.json() == {"status": "processed"}
    statuses = dict(Subscription.objects.values_list("provider_subscription_id", "status"))
    assert statuses == {"sub_premium": "active", "sub_cheap": "active"}


def test_two_active_subscriptions_each_follow_their_own_events(signed_post, user):
    signed_post(event_payload(user.pk, event_id="evt_a1", sub_id="sub_a"))
    signed_post(event_payload(user.pk, event_id="evt_b1", sub_id="sub_b", provider="paddle"))

    for n, (sub_id, provider) in enumerate([("sub_a", "stripe"), ("sub_b", "paddle")] * 2):
        response = signed_post(
            event_payload(
                user.pk,
                event_id=f"evt_renewal_{n}",
                created=CREATED + 60 * (n + 1),
                sub_id=sub_id,
                provider=provider,
                period_end=f"2027-0{n + 2}-01T00:00:00Z",
            )
        )
        assert response.json() == {"status": "processed"}

    rows = Subscription.objects.order_by("provider_subscription_id")
    assert [(s.provider_subscription_id, s.status, s.current_period_end.month) for s in rows] == [
        ("sub_a", "active", 4),
        ("sub_b", "active", 5),
    ]


@pytest.mark.parametrize("status", ["active", "grace", "canceled", "expired", "refunded"])
def test_an_event_for_one_subscription_never_touches_another(signed_post, user, status):
    signed_post(event_payload(user.pk, event_id="evt_other", sub_id="sub_other"))
    signed_post(event_payload(user.pk, event_id="evt_mine", sub_id="sub_mine"))
    other = Subscription.objects.get(provider_subscription_id="sub_other")
    before = Subscription.objects.filter(pk=other.pk).values().get()

    fresh = event_payload(
        user.pk, event_id="evt_fresh", created=CREATED + 60, sub_id="sub_mine", status=status
    )
    stale = event_payload(user.pk, event_id="evt_stale", created=CREATED - 60, sub_id="sub_mine")
    new = event_payload(user.pk, event_id="evt_new", created=CREATED + 120, sub_id="sub_new")
    for payload in (fresh, stale, new):
        assert signed_post(payload).json() == {"status": "processed"}

    assert Subscription.objects.get(provider_subscription_id="sub_mine").status == status
    assert Subscription.objects.filter(pk=other.pk).values().get() == before


def test_verify_signature_accepts_exactly_the_tolerance():
    body = b"{}"
    header = sign(body, t=1_000_000)

    verify_signature(header=header, body=body, secrets=[SECRET], now=1_000_300)
    verify_signature(header=header, body=body, secrets=[SECRET], now=999_700)
    with pytest.raises(InvalidSignature):
        verify_signature(header=header, body=body, secrets=[SECRET], now=1_000_301)


def test_verify_signature_without_secrets_refuses_before_reading_the_header():
    with pytest.raises(WebhookNotConfigured):
        verify_signature(header=None, body=b"{}", secrets=[])


def test_parse_event_reads_every_field():
    user_id = uuid.uuid4()
    payload = event_payload(user_id, period_end="2027-01-01T01:00:00+01:00")

    event = parse_event(json.dumps(payload).encode())

    assert event.event_id == "evt_1"
    assert event.type == "subscription.updated"
    assert event.created == datetime(2026, 1, 1, tzinfo=UTC)
    assert event.provider == "stripe"
    assert event.user_id == user_id
    assert (event.subscription_id, event.plan, event.status) == (
        "sub_9",
        "premium_monthly",
        "active",
    )
    assert event.current_period_end == datetime(2027, 1, 1, tzinfo=UTC)
    assert event.payload == payload


def test_parse_event_names_the_bad_nested_field():
    payload = event_payload(uuid.uuid4(), status="paused")

    with pytest.raises(MalformedEvent, match=r"subscription\.status"):
        parse_event(json.dumps(payload).encode())


def test_the_documented_signing_example_verifies():
    # docs/security.md, "The subscription webhook": the fixed case integrations check against.
    body = (
        b'{"id":"evt_123","type":"subscription.updated","created":1767225600,'
        b'"provider":"stripe","user_id":"5a1bbe8f-b912-430d-b581-7eb5bca49d3e",'
        b'"subscription":{"id":"sub_9","plan":"premium_monthly","status":"active",'
        b'"current_period_end":"2027-01-01T00:00:00Z"}}'
    )
    v1 = "e2d2428ccc976d622b6f87035d8cfe983391f3bf6a0b99339a14b75b91ed4d13"

    verify_signature(
        header=f"t=1767225600,v1={v1}",
        body=body,
        secrets=["whsec_example_0123456789"],
        now=1767225600,
    )
    assert parse_event(body).subscription_id == "sub_9"
