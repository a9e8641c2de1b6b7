"""The copy engine carries an event recorded without its payload (an unknown or deleted
user's) to PostgreSQL and back, as NULL, and verifies it."""

from datetime import UTC, datetime

import pytest

from dbcopy import steps
from dbcopy.rollback import copy_postgres_to_sqlite
from subscriptions.models import SubscriptionEvent
from tests.dbcopy.conftest import FILL, migrated_sqlite, source, sqlite_alias  # noqa: F401
from tests.dbcopy.data import differences, fill

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_an_event_without_its_payload_is_copied_both_ways(source, tmp_path, sqlite_alias):  # noqa: F811
    fill(FILL)
    SubscriptionEvent.objects.using(FILL).create(
        provider="stripe",
        event_id="evt_late",
        type="subscription.canceled",
        payload=None,
        outcome="ignored",
        created=datetime(2026, 12, 1, tzinfo=UTC),
    )

    forward = steps.copy_sqlite_to_postgres(source)
    back_path = tmp_path / "back.sqlite3"
    backward = copy_postgres_to_sqlite(back_path)

    assert forward.verification.ok and backward.verification.ok
    back = sqlite_alias("back", back_path)
    assert differences(FILL, "default") == {}
    assert differences(FILL, back) == {}
    for alias in ("default", back):
        late = SubscriptionEvent.objects.using(alias).get(event_id="evt_late")
        assert (late.payload, late.user_id) == (None, None)
    assert SubscriptionEvent.objects.filter(payload__isnull=True).count() == 1
