"""What the copy moves: every concrete table of every installed app, its columns and the kind
of value each holds, in foreign key order."""

from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.db.backends.base.operations import BaseDatabaseOperations

from dbcopy.exceptions import UnsupportedColumn
from dbcopy.kinds import VALUE_KINDS, ValueKind

# Django's internal field types, grouped by how their values are stored and compared.
KINDS = {
    "AutoField": "int",
    "BigAutoField": "int",
    "SmallAutoField": "int",
    "IntegerField": "int",
    "BigIntegerField": "int",
    "SmallIntegerField": "int",
    "PositiveIntegerField": "int",
    "PositiveBigIntegerField": "int",
    "PositiveSmallIntegerField": "int",
    "BooleanField": "bool",
    "NullBooleanField": "bool",
    "CharField": "text",
    "TextField": "text",
    "SlugField": "text",
    "URLField": "text",
    "EmailField": "text",
    "FileField": "text",
    "ImageField": "text",
    "FilePathField": "text",
    "GenericIPAddressField": "text",
    "IPAddressField": "text",
    "UUIDField": "uuid",
    "DateTimeField": "datetime",
    "DateField": "date",
    "TimeField": "time",
    "DurationField": "duration",
    "JSONField": "json",
    "FloatField": "float",
    "DecimalField": "decimal",
    "BinaryField": "binary",
}

# The apps whose tables hold the copy's own bookkeeping, never copied.
EXCLUDED_APPS = {"dbcopy"}
# Tables that `migrate` fills by itself: they do not make a target "non-empty", and the copy
# replaces their rows with the source's so every id pointing at them stays right.
MIGRATE_CREATED_TABLES = {"django_content_type", "auth_permission"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    # What PostgreSQL's column holds and SQLite's does not enforce: the longest text, the
    # smallest and largest integer.
    max_length: int | None = None
    bounds: tuple[int, int] | None = None

    @property
    def value_kind(self) -> ValueKind:
        return VALUE_KINDS[self.kind]


@dataclass(frozen=True)
class Table:
    label: str
    name: str
    pk: str
    columns: tuple[Column, ...]
    # (column, parent table, parent column) for each foreign key.
    foreign_keys: tuple[tuple[str, str, str], ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @cached_property
    def pk_kind(self) -> str:
        return next(c.kind for c in self.columns if c.name == self.pk)

    def key_text(self, value) -> str:
        """A primary key as text, the same from either engine (UUIDs without dashes, as
        SQLite holds them)."""
        return VALUE_KINDS[self.pk_kind].key_text(str(value))


def _column(field) -> Column:
    name = field.column
    while field.is_relation:
        field = field.target_field
    internal = field.get_internal_type()
    if internal not in KINDS:
        raise UnsupportedColumn(f"{field.model._meta.label}.{field.name}: {internal}")
    kind = KINDS[internal]
    return Column(
        name,
        kind,
        max_length=field.max_length if VALUE_KINDS[kind].bounded_length else None,
        bounds=BaseDatabaseOperations.integer_field_ranges.get(internal),
    )


def _table(model) -> Table:
    meta = model._meta
    fields = meta.concrete_fields
    return Table(
        label=meta.label,
        name=meta.db_table,
        pk=meta.pk.column,
        columns=tuple(_column(f) for f in fields),
        foreign_keys=tuple(
            (f.column, f.related_model._meta.db_table, f.target_field.column)
            for f in fields
            if f.is_relation and (f.many_to_one or f.one_to_one)
        ),
    )


def copied_tables() -> list[Table]:
    """Every table the copy moves, parents before children (cycles keep model order)."""
    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.app_label not in EXCLUDED_APPS
    ]
    tables = {model._meta.db_table: _table(model) for model in models}
    ordered: list[Table] = []
    seen: set[str] = set()

    def visit(name: str, path: frozenset) -> None:
        if name in seen or name in path or name not in tables:
            return
        for _, parent, _ in tables[name].foreign_keys:
            visit(parent, path | {name})
        seen.add(name)
        ordered.append(tables[name])

    for name in tables:
        visit(name, frozenset())
    return ordered
