from django.apps import AppConfig
from django.db.models import QuerySet


class JournalConfig(AppConfig):
    name = "journal"
    verbose_name = "Journal"

    def data_invariants(self) -> list[tuple[str, QuerySet]]:
        """What the copy's verification checks on the database it wrote: the quota's bytes
        and counts (journal/invariants.py)."""
        from journal.invariants import data_invariants

        return data_invariants()
