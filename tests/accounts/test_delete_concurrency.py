"""The admin's delete against the user's own writes, on PostgreSQL (where the rows are really
locked): each write lands before the deletion, and goes with the account, or after it, and is
refused; none fails at COMMIT."""

import json
import threading

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from journal.models import JournalEntry
from subscriptions.models import SubscriptionEvent
from tests.subscriptions.conftest import SECRET, WEBHOOK, event_payload, sign
from tests.tokens.test_concurrency import race

ENTRIES = "/api/v1/journal/entries"
WRITERS = 5


def jobs(*kinds):
    """Hands each racing thread the next job, once."""
    lock = threading.Lock()
    pending = list(kinds)

    def take():
        with lock:
            return pending.pop()

    return take


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bulk", [False, True], ids=["single", "bulk"])
@pytest.mark.parametrize("attempt", range(2))
def test_writes_racing_the_admins_delete_never_answer_500(
    admin_user, user, login, settings, bulk, attempt
):
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [SECRET]
    admin = Client()
    admin.force_login(admin_user)
    access = login(user).access
    take = jobs("delete", *["entry"] * WRITERS, *["event"] * 2)
    events = iter(range(100))

    def run():
        job = take()
        if job == "delete":
            if bulk:
                url = reverse("admin:accounts_user_changelist")
                data = {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"}
            else:
                url = reverse("admin:accounts_user_delete", args=[user.pk])
                data = {"post": "yes"}
            return job, admin.post(url, data).status_code
        if job == "entry":
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
            return job, client.post(ENTRIES, {"content": "written"}, format="json").status_code
        body = json.dumps(event_payload(user.pk, event_id=f"evt_{next(events)}")).encode()
        response = APIClient().post(
            WEBHOOK, data=body, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=sign(body)
        )
        return job, response.status_code

    outcomes = race(run, count=1 + WRITERS + 2)

    assert ("delete", 302) in outcomes, outcomes
    assert {status for job, status in outcomes if job == "entry"} <= {201, 401}, outcomes
    assert {status for job, status in outcomes if job == "event"} == {200}, outcomes
    assert not User.objects.filter(pk=user.pk).exists()
    assert not JournalEntry.objects.exists()
    assert not SubscriptionEvent.objects.exclude(payload__isnull=True).exists()
