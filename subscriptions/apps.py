from django.apps import AppConfig


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
