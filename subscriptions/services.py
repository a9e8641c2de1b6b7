"""Writes of subscriptions: recording webhook events, applying them, the expiry sweep, and
erasing a deleted user's events.

Locking: a webhook write first locks the user's row (``accounts.locks.lock_user``; the
journal's quota check and the account deletion take the same lock), then the one
subscription row its event is for: an event never changes another subscription, so it needs
no other. Webhook writes of one user are thus serialized, and the account cannot be deleted
under them. Once it holds that row, a webhook write waits for no other lock, so the expiry
writers (one UPDATE each, without the user lock) cannot close a lock cycle with it.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.locks import lock_user
from accounts.models import User
from accounts.selectors import get_user_by_id
from config.database import DB_DEFAULT
from subscriptions.models import (
    ENTITLED_STATUSES,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
    WebhookOutcome,
)
from subscriptions.webhook import WebhookEvent

logger = logging.getLogger(__name__)

Outcome = SubscriptionEvent.Outcome


@dataclass(frozen=True)
class AppliedState:
    """What ``upsert_active_subscription`` did with one event."""

    subscription: Subscription | None
    # PROCESSED: applied; STALE: older than the last applied event, state kept;
    # IGNORED: the subscription belongs to another user, nothing changed.
    outcome: str


def add_subscription_event(
    *,
    provider: str,
    event_id: str,
    event_type: str,
    payload: dict[str, Any],
    created: datetime,
    outcome: str,
    user: User | None = None,
    subscription: Subscription | None = None,
) -> SubscriptionEvent | None:
    """Record a webhook event; None if (provider, event_id) is already recorded.

    The unique constraint is the idempotency key, and the insert runs in its own savepoint,
    so a duplicate leaves the caller's transaction usable. On PostgreSQL a concurrent insert
    of the same key waits for the first one's transaction: a duplicate is seen only once the
    original is committed (or it is not a duplicate, if that one rolled back).
    """
    try:
        with transaction.atomic():
            return SubscriptionEvent.objects.create(
                provider=provider,
                event_id=event_id,
                type=event_type,
                payload=payload,
                created=created,
                outcome=outcome,
                user=user,
                subscription=subscription,
            )
    except IntegrityError:
        if SubscriptionEvent.objects.filter(provider=provider, event_id=event_id).exists():
            return None
        raise


def upsert_active_subscription(
    *,
    user: User,
    provider: str,
    provider_subscription_id: str,
    plan: str,
    status: str,
    current_period_end: datetime | None,
    event_created: datetime,
) -> AppliedState:
    """Apply the state one provider event gives a subscription, creating it on first sight.

    An event older than the last one applied is stale: it must not roll the state back
    (providers deliver out of order). Only this subscription changes: the user's others,
    active or not, are left as they are.
    """
    label = f"{provider}:{provider_subscription_id}"
    with transaction.atomic():
        lock_user(user_id=user.pk)
        target = (
            Subscription.objects.select_for_update()
            .filter(user=user, provider=provider, provider_subscription_id=provider_subscription_id)
            .first()
        )
        if target is None and _belongs_to_another_user(
            user=user, provider=provider, provider_subscription_id=provider_subscription_id
        ):
            return _ignored_foreign(label=label, user=user)
        if target is not None and event_created < target.last_event_at:
            logger.info(
                "stale event for subscription %s (event of %s, last applied %s): state kept",
                label,
                event_created.isoformat(),
                target.last_event_at.isoformat(),
            )
            return AppliedState(subscription=target, outcome=Outcome.STALE)
        if target is not None:
            target.plan = plan
            target.status = status
            target.current_period_end = current_period_end
            target.last_event_at = event_created
            target.save(
                update_fields=[
                    "plan",
                    "status",
                    "current_period_end",
                    "last_event_at",
                    "updated_at",
                ]
            )
            return AppliedState(subscription=target, outcome=Outcome.PROCESSED)
        try:
            # A savepoint, so the caller's transaction stays usable after a unique violation.
            with transaction.atomic():
                target = Subscription.objects.create(
                    user=user,
                    provider=provider,
                    provider_subscription_id=provider_subscription_id,
                    plan=plan,
                    status=status,
                    current_period_end=current_period_end,
                    last_event_at=event_created,
                )
        except IntegrityError:
            # Another user's first event of this very subscription committed meanwhile (a
            # provider mix-up that our user lock cannot serialize).
            if _belongs_to_another_user(
                user=user, provider=provider, provider_subscription_id=provider_subscription_id
            ):
                return _ignored_foreign(label=label, user=user)
            raise
        return AppliedState(subscription=target, outcome=Outcome.PROCESSED)


def _ignored_foreign(*, label: str, user: User) -> AppliedState:
    logger.warning("subscription %s belongs to another user: event for %s ignored", label, user.pk)
    return AppliedState(subscription=None, outcome=Outcome.IGNORED)


def _belongs_to_another_user(*, user: User, provider: str, provider_subscription_id: str) -> bool:
    return (
        Subscription.objects.filter(
            provider=provider, provider_subscription_id=provider_subscription_id
        )
        .exclude(user=user)
        .exists()
    )


def process_webhook_event(*, event: WebhookEvent) -> WebhookOutcome:
    """Record and apply one verified webhook event, in one transaction; returns what the
    webhook answers: ``processed`` (also for a stale event, which is recorded but changes
    nothing), ``duplicate`` (already recorded: nothing changes) or ``ignored`` (unknown user,
    or a subscription of another user: recorded only).

    The event row is inserted first: concurrent deliveries of one event queue on its unique
    key, so exactly one of them applies it.
    """
    with transaction.atomic():
        record = add_subscription_event(
            provider=event.provider,
            event_id=event.event_id,
            event_type=event.type,
            payload=event.payload,
            created=event.created,
            outcome=Outcome.IGNORED,
        )
        if record is None:
            logger.info("duplicate webhook event %s:%s", event.provider, event.event_id)
            return WebhookOutcome.DUPLICATE
        # Locked before it is read, so the account cannot be deleted under us.
        lock_user(user_id=event.user_id)
        user = get_user_by_id(user_id=event.user_id)
        if user is None:
            logger.warning(
                "webhook event %s:%s for unknown user %s ignored",
                event.provider,
                event.event_id,
                event.user_id,
            )
            return WebhookOutcome.IGNORED
        applied = upsert_active_subscription(
            user=user,
            provider=event.provider,
            provider_subscription_id=event.subscription_id,
            plan=event.plan,
            status=event.status,
            current_period_end=event.current_period_end,
            event_created=event.created,
        )
        record.user = user
        record.subscription = applied.subscription
        record.outcome = applied.outcome
        record.save(update_fields=["user", "subscription", "outcome"])
    if applied.outcome == Outcome.IGNORED:
        return WebhookOutcome.IGNORED
    return WebhookOutcome.PROCESSED


def run_expiry_sweep() -> dict[str, int]:
    """Expire every active or grace subscription whose paid period has ended, in one UPDATE
    statement (atomic on its own; no row is read first). Returns ``{"expired": n}``."""
    now = timezone.now()
    expired = Subscription.objects.filter(
        status__in=ENTITLED_STATUSES, current_period_end__lt=now
    ).update(status=SubscriptionStatus.EXPIRED, updated_at=now)
    if expired:
        logger.info("expiry sweep: %d subscription(s) expired", expired)
    return {"expired": expired}


def expire_subscriptions(*, subscription_ids: list[uuid.UUID]) -> int:
    """Expire these subscriptions now if they are active or grace (a staff action, for
    example after a refund the provider failed to report). Returns how many expired."""
    expired = Subscription.objects.filter(
        pk__in=list(subscription_ids), status__in=ENTITLED_STATUSES
    ).update(status=SubscriptionStatus.EXPIRED, updated_at=timezone.now())
    if expired:
        logger.warning("staff expired %d subscription(s) by hand", expired)
    return expired


def erase_events_naming_user(*, user_id: uuid.UUID, using: str = DB_DEFAULT) -> int:
    """Delete the recorded events that name this user only in their payload (``user`` is
    NULL: recorded as ``ignored`` while the id was unknown); those linked to the user or their
    subscriptions go with them by CASCADE. Runs inside the account deletion's transaction, on
    its database. Returns how many went."""
    # The webhook reads the id as any spelling of the UUID; these are the ones providers send.
    named = Q(payload__user_id__iexact=str(user_id)) | Q(payload__user_id__iexact=user_id.hex)
    erased, _ = SubscriptionEvent.objects.using(using).filter(named, user__isnull=True).delete()
    if erased:
        logger.info("%d unlinked subscription event(s) naming a deleted user erased", erased)
    return erased
