"""Model instances from rows of hand-written SQL, for the few hot paths (a query per
request) where building the query with the ORM took longer than the database took to answer.
The values go through the same converters as the ORM's, so the instances are the same."""

import weakref
from collections.abc import Callable, Sequence

from django.db.models import Model

# Per connection (each thread has its own), per model: (index, column, converters) of the
# fields that need converting. Looking them up cost more than converting a row.
_converters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def select_columns(model: type[Model], table_alias: str, connection) -> str:
    """Every concrete column of ``model``, qualified by ``table_alias``, in field order."""
    quote = connection.ops.quote_name
    return ", ".join(
        f"{quote(table_alias)}.{quote(field.column)}" for field in model._meta.concrete_fields
    )


def row_loader(model: type[Model], alias: str, connection) -> Callable[[Sequence], Model]:
    """A function that loads a ``model`` instance from the values of one row, one per
    ``select_columns`` column; the converters are looked up once, not once per row."""
    fields = model._meta.concrete_fields
    attnames = [field.attname for field in fields]
    known = _converters.setdefault(connection, {})
    converters = known.get(model)
    if converters is None:
        converters = []
        for index, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                converters.append((index, col, found))
        known[model] = converters

    def load(values: Sequence) -> Model:
        values = list(values)
        for index, col, found in converters:
            value = values[index]
            for converter in found:
                value = converter(value, col, connection)
            values[index] = value
        return model.from_db(alias, attnames, values)

    return load


def instance_from_row(model: type[Model], alias: str, connection, values: Sequence) -> Model:
    """A ``model`` instance loaded from the values of one row."""
    return row_loader(model, alias, connection)(values)
