from django.apps import AppConfig
from django.db.models import QuerySet


class JournalConfig(AppConfig):
    name = "journal"
    verbose_name = "Journal"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_delete

        from journal.services import lock_usage_of_deleted_user

        pre_delete.connect(
            lock_usage_of_deleted_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="journal_lock_usage_of_deleted_user",
        )

    def data_invariants(self) -> list[tuple[str, QuerySet]]:
        """What the copy's verification checks on the database it wrote: the quota's bytes
        and counts (journal/invariants.py)."""
        from journal.invariants import data_invariants

        return data_invariants()
