import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from subscriptions.models import Subscription, SubscriptionEvent
from tests.subscriptions.conftest import event_payload

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/admin/subscriptions/subscription/"
EVENTS = "/admin/subscriptions/subscriptionevent/"


def test_subscription_list_shows_the_subscription_columns(admin_client, user, make_subscription):
    make_subscription(user, plan="premium_yearly", status="grace")

    response = admin_client.get(SUBSCRIPTIONS)

    html = response.content.decode()
    assert response.status_code == 200
    for column in ("user", "provider", "plan", "status", "current period end", "updated at"):
        assert f">{column.capitalize()}<" in html
    assert "alice@example.com" in html
    assert "premium_yearly" in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"status__exact": "active"}, "sub_alice", "sub_bob"),
        ({"plan__exact": "basic"}, "sub_bob", "sub_alice"),
        ({"provider__exact": "stripe"}, "sub_alice", "sub_bob"),
        ({"q": "bob@example.com"}, "sub_bob", "sub_alice"),
        ({"q": "alice-sub"}, "sub_alice", "sub_bob"),
        ({"q": "sub_bob"}, "sub_bob", "sub_alice"),
    ],
)
def test_subscriptions_filter_and_search(
    admin_client, user, other_user, make_subscription, query, shown, hidden
):
    alice = make_subscription(user, sub_id="sub_alice")
    bob = make_subscription(
        other_user, sub_id="sub_bob", status="canceled", plan="basic", provider="paddle"
    )
    ids = {"sub_alice": str(alice.pk), "sub_bob": str(bob.pk)}

    html = admin_client.get(SUBSCRIPTIONS, query).content.decode()

    assert ids[shown] in html
    assert ids[hidden] not in html


def test_expire_now_expires_the_selected_subscriptions(
    admin_client, user, other_user, make_subscription
):
    chosen = make_subscription(user)
    spared = make_subscription(other_user)

    response = admin_client.post(
        SUBSCRIPTIONS, {"action": "expire_now", "_selected_action": [chosen.pk]}, follow=True
    )

    assert "Expired 1 subscription(s)." in response.content.decode()
    assert Subscription.objects.get(pk=chosen.pk).status == "expired"
    assert Subscription.objects.get(pk=spared.pk).status == "active"


def test_expire_now_needs_the_change_permission(user, make_subscription):
    subscription = make_subscription(user)
    viewer = User.objects.create_user("viewer", password="pw-for-viewer-only", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    client = Client()
    client.force_login(viewer)

    listing = client.get(SUBSCRIPTIONS)
    client.post(SUBSCRIPTIONS, {"action": "expire_now", "_selected_action": [subscription.pk]})

    assert listing.status_code == 200
    assert "expire_now" not in listing.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_subscriptions_are_not_edited_by_hand(admin_client, user, make_subscription):
    subscription = make_subscription(user)
    change = f"{SUBSCRIPTIONS}{subscription.pk}/change/"

    assert admin_client.get(f"{SUBSCRIPTIONS}add/").status_code == 403
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"status": "canceled"}).status_code == 403
    assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_event_list_shows_the_event_columns(admin_client, signed_post, user):
    signed_post(event_payload(user.pk, event_id="evt_listed", event_type="invoice.paid"))

    html = admin_client.get(EVENTS).content.decode()

    for text in ("evt_listed", "invoice.paid", "processed", "alice@example.com", "stripe"):
        assert text in html
    for column in ("Provider", "Event id", "Type", "Outcome", "User", "Created", "Received at"):
        assert f">{column}<" in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"outcome__exact": "ignored"}, "evt_unknown", "evt_known"),
        ({"type__exact": "invoice.paid"}, "evt_known", "evt_unknown"),
        ({"provider__exact": "paddle"}, "evt_unknown", "evt_known"),
    ],
)
def test_events_filter(admin_client, signed_post, user, query, shown, hidden):
    signed_post(event_payload(user.pk, event_id="evt_known", event_type="invoice.paid"))
    stranger = "00000000-0000-4000-8000-000000000000"
    signed_post(event_payload(stranger, event_id="evt_unknown", provider="paddle"))

    html = admin_client.get(EVENTS, query).content.decode()

    assert shown in html
    assert hidden not in html


def test_event_page_shows_the_payload_as_indented_json(admin_client, signed_post, user):
    signed_post(event_payload(user.pk))
    event = SubscriptionEvent.objects.get()

    html = admin_client.get(f"{EVENTS}{event.pk}/change/").content.decode()

    assert "<pre>" in html
    assert "\n  &quot;created&quot;: 1767225600," in html
    assert "\n    &quot;status&quot;: &quot;active&quot;" in html


def test_event_payload_is_escaped(admin_client, signed_post, user):
    signed_post({**event_payload(user.pk), "note": "<script>alert(1)</script>"})
    event = SubscriptionEvent.objects.get()

    html = admin_client.get(f"{EVENTS}{event.pk}/change/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_events_are_read_only(admin_client, signed_post, user):
    signed_post(event_payload(user.pk))
    event = SubscriptionEvent.objects.get()
    change = f"{EVENTS}{event.pk}/change/"

    assert admin_client.get(f"{EVENTS}add/").status_code == 403
    assert admin_client.post(change, {"outcome": "ignored"}).status_code == 403
    assert admin_client.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SubscriptionEvent.objects.get().outcome == "processed"
