from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.selectors import count_app_users
        from ops.metrics import register_domain_gauge

        register_domain_gauge(
            "journal_users",
            "App users (accounts from an identity provider; staff accounts are not counted).",
            count_app_users,
        )
