"""What the data must satisfy on the database a copy wrote, beyond what its schema enforced
while the rows streamed in: every foreign key resolves (SQLite does not check them when the
rollback writes), and whatever each app declares. An app declares its rules in its
``AppConfig``::

    def data_invariants(self) -> list[tuple[str, QuerySet]]:
        return [("entries whose size is wrong", JournalEntry.objects.exclude(...)), ...]

each a description and a queryset of the rows that break it. The verification counts every
queryset on the written database, inside the transaction that wrote it (Django's connection
of that alias on this thread), and reports each count that is not zero: the copy engine names
no domain rule."""

from typing import cast

from django.apps import apps
from django.db.models import Exists, ForeignKey, Model, OuterRef, QuerySet

from dbcopy.tables import Table


def _dangling_foreign_keys(tables: list[Table]) -> list[tuple[str, QuerySet]]:
    names = {t.name for t in tables}
    rules = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table not in names:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, ForeignKey):  # OneToOneField is one too
                continue
            parent = cast(type[Model], field.related_model)
            if parent._meta.db_table not in names:
                continue
            target = field.target_field
            parents = parent._base_manager.filter(**{target.attname: OuterRef(field.attname)})
            rules.append(
                (
                    f"{model._meta.db_table}.{field.column} points at missing "
                    f"{parent._meta.db_table} rows",
                    model._base_manager.filter(**{f"{field.attname}__isnull": False}).filter(
                        ~Exists(parents)
                    ),
                )
            )
    return rules


def declared() -> list[tuple[str, QuerySet]]:
    """Every app's ``data_invariants()``, in the order the apps are installed."""
    rules = []
    for config in apps.get_app_configs():
        declare = getattr(config, "data_invariants", None)
        if declare is not None:
            rules.extend(declare())
    return rules


def check(using: str, tables: list[Table]) -> list[str]:
    """The broken invariants on the database ``using``, one line each."""
    failures = []
    for description, rows in [*_dangling_foreign_keys(tables), *declared()]:
        count = rows.using(using).count()
        if count:
            failures.append(f"invariant broken: {count} {description}")
    return failures
