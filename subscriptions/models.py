import uuid

from django.conf import settings
from django.db import models


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active"
    GRACE = "grace"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


# The statuses that give a user the premium quota; a user may hold several such subscriptions.
ENTITLED_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.GRACE)


class Subscription(models.Model):
    """A user's subscription at a payment provider, as the provider's signed events say. A
    user may hold several (providers, repurchases); each one follows its own events only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    provider = models.CharField(max_length=32)
    provider_subscription_id = models.CharField(max_length=255)
    plan = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices)
    current_period_end = models.DateTimeField(null=True, blank=True)
    # The `created` time of the last event applied: an older event never rolls state back.
    last_event_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user", "status", "updated_at"], name="sub_user_status_updated_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_subscription_id"], name="sub_provider_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_subscription_id} ({self.status})"


class WebhookOutcome(models.TextChoices):
    """What the webhook answers for an event (``status`` of its response)."""

    PROCESSED = "processed"  # applied, or recorded as stale (older than the state it has)
    DUPLICATE = "duplicate"  # already recorded: nothing changes
    IGNORED = "ignored"  # unknown user, or another user's subscription: recorded only


class SubscriptionEvent(models.Model):
    """Every webhook event received, applied or not: the audit trail. Idempotency key:
    (provider, event_id). ``user`` is the account the event names, set when it is recorded
    (the id in canonical form, whatever spelling the provider sent), so the events go with
    the account by CASCADE. An event that names no account (an unknown id, or one deleted)
    keeps only what idempotency needs: no ``user``, no ``payload``."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed"
        STALE = "stale"
        IGNORED = "ignored"

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField(null=True, blank=True, help_text="None: not kept (no known user)")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscription_events",
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    created = models.DateTimeField(help_text="when the provider says the event happened")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["received_at"], name="sub_event_received_idx")]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="sub_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"
