"""Realistic data for a development or benchmark database (``manage.py fill_demo_data``):
users, their sessions, subscriptions for some of them and journal entries, written in bulk
through the app's models, with every derived row right (each user's usage row holds the sum
and count of their entries, as ``verify_copy`` checks). Bulk inserts skip the services'
per-write checks, so the quota is not enforced here: the data is made to fit it."""

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from random import Random

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from accounts.models import User
from journal.models import JournalEntry, JournalUsage
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionStatus
from tokens.models import RefreshToken, Session
from tokens.selectors import hash_refresh_token

DEMO_PROVIDER = "demo"
# What entries are made of (a few non-ASCII ones: the quota counts UTF-8 bytes).
WORDS = (  # noqa: SIM905 (a sentence reads better than a list of words)
    "today walked rain coffee caf\u00e9 friends work slept early late tired happy quiet "
    "train book music garden dinner \u65e5\u8a18 \u00e9t\u00e9 ran cooked called mother "
    "wrote nothing much again tomorrow weekend sunlight \U0001f331"
).split()


@dataclass(frozen=True)
class DemoFill:
    users: int
    entries: int
    bytes: int
    sessions: int
    subscriptions: int
    seconds: float


def _batches(items: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill_demo_data(
    *,
    users: int,
    entries: int,
    sessions_per_user: int = 1,
    subscribed_share: float = 0.1,
    seed: int = 1,
    batch_size: int = 5000,
    progress: Callable[[str], None] | None = None,
) -> DemoFill:
    """Add ``users`` demo users and ``entries`` entries spread over them (a few users write
    much more than most), in one transaction on the default database. Runs again add more
    users (their subjects continue where the last run stopped)."""
    started = time.monotonic()
    rng = Random(seed)  # noqa: S311 (demo data, not secrets)
    now = timezone.now()
    say = progress or (lambda message: None)
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        first = User.objects.filter(provider=DEMO_PROVIDER).count()
        people = [
            User(
                provider=DEMO_PROVIDER,
                provider_subject=f"demo-{first + n}",
                email=f"demo{first + n}@example.com",
                display_name=f"Demo {first + n}",
                password=make_password(None),
            )
            for n in range(users)
        ]
        User.objects.bulk_create(people, batch_size=batch_size)
        say(f"{len(people)} users")

        expires = now + timedelta(days=settings.REFRESH_TOKEN_TTL_DAYS)
        sessions = [
            Session(user=user, created_at=now, last_used_at=now, expires_at=expires)
            for user in people
            for _ in range(sessions_per_user)
        ]
        Session.objects.bulk_create(sessions, batch_size=batch_size)
        # Nobody holds these refresh tokens: only their hashes are kept, as for real ones.
        RefreshToken.objects.bulk_create(
            (
                RefreshToken(
                    session=session,
                    token_hash=hash_refresh_token(secrets.token_urlsafe(32)),
                    created_at=now,
                )
                for session in sessions
            ),
            batch_size=batch_size,
        )
        say(f"{len(sessions)} sessions")

        subscribers = [user for user in people if rng.random() < subscribed_share]
        subscriptions, events = [], []
        for user in subscribers:
            period_end = now + timedelta(days=rng.randint(1, 30))
            subscription = Subscription(
                user=user,
                provider=DEMO_PROVIDER,
                provider_subscription_id=f"demo-sub-{user.provider_subject}",
                plan="premium_monthly",
                status=SubscriptionStatus.ACTIVE,
                current_period_end=period_end,
                last_event_at=now,
            )
            subscriptions.append(subscription)
            # The event that made it active, as the webhook records it.
            event_id = f"demo-evt-{subscription.provider_subscription_id}"
            events.append(
                SubscriptionEvent(
                    provider=DEMO_PROVIDER,
                    event_id=event_id,
                    type="subscription.updated",
                    payload={
                        "id": event_id,
                        "type": "subscription.updated",
                        "user_id": str(user.pk),
                        "subscription": {
                            "id": subscription.provider_subscription_id,
                            "plan": subscription.plan,
                            "status": subscription.status,
                            "current_period_end": period_end.isoformat(),
                        },
                    },
                    user=user,
                    subscription=subscription,
                    outcome=SubscriptionEvent.Outcome.PROCESSED,
                    created=now,
                )
            )
        Subscription.objects.bulk_create(subscriptions, batch_size=batch_size)
        SubscriptionEvent.objects.bulk_create(events, batch_size=batch_size)
        say(f"{len(subscriptions)} subscriptions")

        used = [0] * len(people)
        counts = [0] * len(people)
        # A few users write much more than most: the owner's index is skewed to the start.
        weights = [1 / (rank + 10) for rank in range(len(people))]

        def new_entries() -> Iterator[JournalEntry]:
            owners = rng.choices(range(len(people)), weights=weights, k=entries) if people else []
            for owner in owners:
                content = " ".join(rng.choices(WORDS, k=rng.randint(4, 80))).capitalize() + "."
                size = len(content.encode("utf-8"))
                used[owner] += size
                counts[owner] += 1
                yield JournalEntry(user=people[owner], content=content, size_bytes=size)

        written = 0
        for batch in _batches(new_entries(), batch_size):
            JournalEntry.objects.bulk_create(batch)
            written += len(batch)
            if written % (batch_size * 20) == 0:
                say(f"{written} entries")
        JournalUsage.objects.bulk_create(
            (
                JournalUsage(user=user, bytes_used=used[n], entries=counts[n])
                for n, user in enumerate(people)
                if counts[n]
            ),
            batch_size=batch_size,
        )
        say(f"{written} entries")
    return DemoFill(
        users=len(people),
        entries=written,
        bytes=sum(used),
        sessions=len(sessions),
        subscriptions=len(subscriptions),
        seconds=time.monotonic() - started,
    )
