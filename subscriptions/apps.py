from django.apps import AppConfig
from django.db.models import QuerySet


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self) -> None:
        from ops.metrics import register_domain_gauge
        from subscriptions.selectors import count_entitled_subscriptions

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
