from django.apps import AppConfig
from django.conf import settings
from django.db.models import QuerySet
from django.db.models.signals import pre_delete


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self) -> None:
        from ops.metrics import register_domain_gauge
        from subscriptions.receivers import erase_events_of_deleted_user
        from subscriptions.selectors import count_entitled_subscriptions

        # Every way a user is deleted (DELETE me, the admin) erases the events naming them.
        pre_delete.connect(
            erase_events_of_deleted_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="subscriptions.erase_events_of_deleted_user",
        )

        register_domain_gauge(
            "journal_active_subscriptions",
            "Subscriptions in active or grace status (users with the premium quota).",
            count_entitled_subscriptions,
        )

    def data_invariants(self) -> list[tuple[str, QuerySet]]:
        """What the copy's verification checks on the database it wrote: the subscription
        states (subscriptions/invariants.py)."""
        from subscriptions.invariants import data_invariants

        return data_invariants()
