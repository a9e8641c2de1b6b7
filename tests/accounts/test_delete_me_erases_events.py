"""Deleting an account (`DELETE me`, the admin's delete and its bulk action) leaves no row in
any table that names the user: not its id in any spelling, not its email, not its content.
Its subscription events (whatever spelling of its id they carry) and the admin's history of
it go in the deletion's one transaction; an event that arrives later keeps no payload."""

import json
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import DELETION, LogEntry
from django.db import connection
from django.db.models.signals import pre_delete
from django.urls import reverse

from accounts.models import User
from accounts.services import delete_user
from journal.services import insert_journal_entry
from subscriptions.models import Subscription, SubscriptionEvent
from tests.subscriptions.conftest import CREATED, SECRET, WEBHOOK, event_payload, sign

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
CONTENT = "Dear diary, the blue heron came back today."
SPELLINGS = {
    "dashed": str,
    "hex": lambda pk: pk.hex,
    "upper": lambda pk: str(pk).upper(),
    "braces": "{{{}}}".format,
    "urn": "urn:uuid:{}".format,
}


def _text(value) -> str:
    if isinstance(value, uuid.UUID):
        return f"{value} {value.hex}"
    if isinstance(value, datetime | date | Decimal):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def rows_naming(*needles: str) -> list[str]:
    """Every row of every table (auto-created many-to-many tables included) whose values, as
    text, hold one of ``needles`` (case-insensitive); as ``table: row``."""
    wanted = [needle.lower() for needle in needles if needle]
    tables = set(connection.introspection.table_names())
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table not in tables:  # a view of the server's settings
            continue
        for row in model._base_manager.values():
            text = " ".join(_text(value) for value in row.values()).lower()
            if any(needle in text for needle in wanted):
                found.append(f"{model._meta.db_table}: {row}")
    return found


def traces(user) -> list[str]:
    # A dashed id is inside its braces and urn spellings; an upper-case one matches too.
    return rows_naming(str(user.pk), user.pk.hex, user.email, CONTENT)


@pytest.fixture
def deliver(api, settings):
    """POST a payload to the webhook, signed as the provider would; returns its status."""
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [SECRET]

    def _deliver(payload):
        body = json.dumps(payload).encode()
        response = api.post(
            WEBHOOK, data=body, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=sign(body)
        )
        assert response.status_code == 200, response.content
        return response.json()["status"]

    return _deliver


@pytest.fixture
def alice_everywhere(deliver, admin_client, user, other_user):
    """``user`` named in every place an account leaves a trace: events of every kind and
    every spelling of its id, a journal entry, and the admin's history of it."""
    assert deliver(event_payload(user.pk, event_id="evt_a1", sub_id="sub_a")) == "processed"
    stale = event_payload(user.pk, event_id="evt_a2", sub_id="sub_a", created=CREATED - 60)
    assert deliver(stale) == "processed"
    assert deliver(event_payload(other_user.pk, event_id="evt_b1", sub_id="sub_bob")) == (
        "processed"
    )
    # Alice's id on Bob's subscription: ignored, but recorded under her name.
    mixup = event_payload(user.pk, event_id="evt_a3", sub_id="sub_bob", created=CREATED + 60)
    assert deliver(mixup) == "ignored"
    for n, (name, spelling) in enumerate(SPELLINGS.items()):
        payload = event_payload(user.pk, event_id=f"evt_a_{name}", sub_id="sub_a")
        payload["created"] = CREATED + 120 + n
        payload["user_id"] = spelling(user.pk)
        assert deliver(payload) == "processed"
    insert_journal_entry(user=user, content=CONTENT)
    change = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {"email": user.email, "display_name": "Alice A.", "is_active": "on", "_save": "Save"},
    )
    assert change.status_code == 302
    assert LogEntry.objects.filter(object_id=str(user.pk)).exists()
    assert len(SubscriptionEvent.objects.filter(event_id__startswith="evt_a")) == 8
    return user


def test_delete_me_leaves_nothing_naming_the_user_in_any_table(
    auth_api, user, other_user, alice_everywhere
):
    assert traces(user)

    assert auth_api.delete(ME).status_code == 204

    assert traces(user) == []
    assert not Subscription.objects.filter(user_id=user.pk).exists()
    # Bob's rows stay.
    assert rows_naming(str(other_user.pk), other_user.email)


def test_a_late_event_for_a_deleted_user_keeps_nothing_naming_it(
    auth_api, deliver, user, alice_everywhere
):
    assert auth_api.delete(ME).status_code == 204

    late = event_payload(user.pk, event_id="evt_late", event_type="subscription.canceled")
    late["user_id"] = f"urn:uuid:{user.pk}"
    assert deliver(late) == "ignored"

    assert traces(user) == []
    event = SubscriptionEvent.objects.get(event_id="evt_late")
    assert (event.provider, event.type, event.user, event.payload) == (
        "stripe",
        "subscription.canceled",
        None,
        None,
    )
    assert deliver(late) == "duplicate"


def test_the_admins_delete_leaves_nothing_naming_the_user(admin_client, user, alice_everywhere):
    response = admin_client.post(
        reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert traces(user) == []
    # The history says an account was deleted, by whom, and names no one.
    deletion = LogEntry.objects.get(action_flag=DELETION)
    assert (deletion.object_id, deletion.user.username) == (None, "admin")


def test_the_admins_bulk_delete_leaves_nothing_naming_the_users(
    admin_client, user, other_user, alice_everywhere
):
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [user.pk, other_user.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert traces(user) == []
    assert rows_naming(str(other_user.pk), other_user.pk.hex) == []
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2
    assert User.objects.filter(pk__in=[user.pk, other_user.pk]).count() == 0


def test_delete_me_keeps_every_event_of_other_users(
    auth_api, deliver, user, other_user, alice_everywhere
):
    stranger = uuid.uuid4()
    assert deliver(event_payload(stranger, event_id="evt_stranger", sub_id="sub_s")) == "ignored"
    bob_later = event_payload(
        other_user.pk, event_id="evt_b2", sub_id="sub_bob", created=CREATED + 120, status="grace"
    )
    assert deliver(bob_later) == "processed"
    others = SubscriptionEvent.objects.exclude(event_id__startswith="evt_a")
    before = list(others.order_by("pk").values())

    assert auth_api.delete(ME).status_code == 204

    assert list(others.order_by("pk").values()) == before
    assert {row["event_id"] for row in before} == {"evt_b1", "evt_b2", "evt_stranger"}
    bob = Subscription.objects.get(provider_subscription_id="sub_bob")
    assert (bob.user, bob.status) == (other_user, "grace")


def test_a_replay_of_another_users_event_is_still_a_duplicate(
    auth_api, deliver, other_user, alice_everywhere
):
    assert auth_api.delete(ME).status_code == 204

    replay = event_payload(
        other_user.pk, event_id="evt_b1", sub_id="sub_bob", created=CREATED + 300, status="canceled"
    )
    assert deliver(replay) == "duplicate"

    assert Subscription.objects.get(provider_subscription_id="sub_bob").status == "active"
    assert SubscriptionEvent.objects.filter(event_id="evt_b1").count() == 1


def test_a_failed_account_deletion_keeps_everything(user, alice_everywhere):
    before = traces(user)

    def fail_mid_deletion(sender, instance, **kwargs):
        raise RuntimeError("deletion interrupted")

    pre_delete.connect(fail_mid_deletion, sender=User)
    try:
        with pytest.raises(RuntimeError):
            delete_user(user=user)
    finally:
        pre_delete.disconnect(fail_mid_deletion, sender=User)

    assert traces(user) == before
    assert User.objects.filter(pk=user.pk).exists()
