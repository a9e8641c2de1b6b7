"""Hand-written SQL for the few hot paths (a query per request) where building the query with
the ORM took longer than the database took to answer: model instances from rows, and single-row
UPDATE and INSERT. Tables, columns and values come from the models (names quoted, values
prepared and converted by the same field methods as the ORM's), so the SQL stays the ORM's."""

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


def _prepared(model: type[Model], connection, values: dict) -> tuple[list[str], list]:
    """Quoted columns and prepared parameters of ``values`` (field name -> Python value)."""
    quote = connection.ops.quote_name
    columns, params = [], []
    for name, value in values.items():
        field = model._meta.get_field(name)
        columns.append(quote(field.column))
        params.append(field.get_db_prep_save(value, connection))
    return columns, params


def update_row(
    model: type[Model], connection, pk, values: dict, *, where_null: Sequence[str] = ()
) -> int:
    """``UPDATE`` the row of ``model`` with primary key ``pk`` (and, if given, the
    ``where_null`` fields still NULL) to ``values``; the number of rows changed (0 or 1)."""
    quote = connection.ops.quote_name
    columns, params = _prepared(model, connection, values)
    pk_field = model._meta.pk
    conditions = [f"{quote(pk_field.column)} = %s"]
    params.append(pk_field.get_db_prep_value(pk, connection))
    conditions += [f"{quote(model._meta.get_field(n).column)} IS NULL" for n in where_null]
    sql = (
        f"UPDATE {quote(model._meta.db_table)}"  # noqa: S608
        f" SET {', '.join(f'{column} = %s' for column in columns)}"
        f" WHERE {' AND '.join(conditions)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_row(model: type[Model], connection, values: dict) -> None:
    """``INSERT`` one row of ``model`` with ``values`` (field name -> Python value); the
    fields not given must have a database default or be NULL-able with nothing to say."""
    quote = connection.ops.quote_name
    columns, params = _prepared(model, connection, values)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
