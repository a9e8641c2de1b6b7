"""Writes of subscriptions: recording webhook events, applying them, the expiry sweep.

Locking: a webhook write first locks the user's row (``accounts.locks``; the journal's quota
check and the account deletion take the same lock), before it records the event, then the
one subscription row its event is for: an event never changes another subscription, so it needs
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
from django.utils import timezone

from accounts.locks import lock_user, lock_user_if_present
from accounts.models import User
from accounts.selectors import get_user_by_id
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
    """What ``apply_subscription_state`` did with one event."""

    subscription: Subscription | None
    # PROCESSED: applied; STALE: older than the last applied event, state kept;
    # IGNORED: the subscription belongs to another user, nothing changed.
    outcome: str


def add_subscription_event(
    *,
    provider: str,
    event_id: str,
    event_type: str,
    payload: dict[str, Any] | None,
    created: datetime,
    outcome: str,
    user: User | None = None,
    subscription: Subscription | None = None,
) -> SubscriptionEvent | None:
    """Record a webhook event; None if (provider, event_id) is already recorded. ``user`` is
    the account the event names, None if it names none (then ``payload`` is None too).

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


def apply_subscription_state(
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

    The user's row is locked before the event is recorded, so the account cannot be deleted
    between the two: an event is recorded linked to its user (its ``user`` column, whatever
    spelling of the id the payload used), and goes with the account by CASCADE. An event for
    an id of no account (never one, or deleted) keeps only what idempotency needs: provider,
    event id, type and time, not the payload that names the id. Concurrent deliveries of one
    event queue on the user's lock (or, with no user, on the event's unique key), so exactly
    one of them applies it.
    """
    with transaction.atomic():
        user = None
        if lock_user_if_present(user_id=event.user_id):
            user = get_user_by_id(user_id=event.user_id)
        record = add_subscription_event(
            provider=event.provider,
            event_id=event.event_id,
            event_type=event.type,
            payload=event.payload if user is not None else None,
            created=event.created,
            outcome=Outcome.IGNORED,
            user=user,
        )
        if record is None:
            logger.info("duplicate webhook event %s:%s", event.provider, event.event_id)
            return WebhookOutcome.DUPLICATE
        if user is None:
            # The id is not logged: it may be a deleted account's.
            logger.warning(
                "webhook event %s:%s for no known user ignored", event.provider, event.event_id
            )
            return WebhookOutcome.IGNORED
        applied = apply_subscription_state(
            user=user,
            provider=event.provider,
            provider_subscription_id=event.subscription_id,
            plan=event.plan,
            status=event.status,
            current_period_end=event.current_period_end,
            event_created=event.created,
        )
        record.subscription = applied.subscription
        record.outcome = applied.outcome
        record.save(update_fields=["subscription", "outcome"])
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
