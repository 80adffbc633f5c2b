"""A database-neutral multi-row INSERT … ON CONFLICT DO UPDATE [WHERE …] [RETURNING …] for any model.

It knows models, columns and the two databases (PostgreSQL and SQLite), nothing about orders: the caller names the
fields, the unique key, the fields to update and, as SQL over quoted column names (`column`), the condition under
which a stored row is overwritten and what to return. Used by sync/order_store.py for orders and their items.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def column(model: type[Model], name: str) -> str:
    """The quoted column of a model's field, for `where` and `returning`."""
    return str(connection.ops.quote_name(str(_concrete(model, name).column)))


def insert_on_conflict(
    model: type[Model],
    fields: list[str],
    rows: list[tuple[Any, ...]],
    unique: list[str],
    update: list[str],
    where: str = "",
    returning: str = "",
    expressions: dict[str, str] | None = None,
) -> list[tuple[Any, ...]]:
    """A multi-row INSERT … ON CONFLICT (unique) DO UPDATE SET the `update` fields [WHERE where] [RETURNING
    returning] (`where`, `returning` and the values of `expressions`: SQL over quoted column names), on PostgreSQL and
    SQLite alike. An update field named in `expressions` is set to that SQL instead of the new row's value. `rows` hold
    plain values: str, int, Decimal, date, aware datetime, None, and dicts or lists for a JSON column.

    PostgreSQL gets the rows as one JSON parameter (INSERT … SELECT … FROM json_to_recordset(%s)): the driver parses a
    short statement text once and sends one string, whatever the number of rows, where a placeholder per value (or
    an array per column) costs the driver more than the database's whole work. SQLite gets VALUES rows, in as few
    statements as its parameter limit allows.
    """
    qn = connection.ops.quote_name
    meta = [_concrete(model, f) for f in fields]
    names = [str(f.column) for f in meta]
    columns = ", ".join(qn(name) for name in names)
    # Only model metadata (quoted table and column names, column types) goes into the text; values are parameters.
    head = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "  # noqa: S608
    custom = expressions or {}
    tail = f" ON CONFLICT ({', '.join(column(model, f) for f in unique)}) DO UPDATE SET " + ", ".join(
        f"{column(model, f)} = {custom.get(f) or f'EXCLUDED.{column(model, f)}'}" for f in update
    )
    if where:
        tail += f" WHERE {where}"
    if returning:
        tail += f" RETURNING {returning}"
    if connection.vendor == "postgresql":
        record = ", ".join(f"{qn(name)} {f.db_type(connection)}" for name, f in zip(names, meta, strict=True))
        text = json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=_json_value)
        sql = f"{head}SELECT {columns} FROM json_to_recordset(%s) AS x({record}){tail}"  # noqa: S608
        batches: list[tuple[str, list[Any]]] = [(sql, [text])]
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        size = max(1, (connection.features.max_query_params or 999) // len(fields))
        batches = [
            (
                head + "VALUES " + ", ".join([one] * len(batch)) + tail,
                [_db_value(v) for row in batch for v in row],
            )
            for batch in (rows[start : start + size] for start in range(0, len(rows), size))
        ]
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for sql, params in batches:
            cursor.execute(sql, params)
            if returning:
                out.extend(cursor.fetchall())
    return out


def _concrete(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column
    return field


def _json_value(value: object) -> str:
    """A value of a row as JSON text for json_to_recordset, which reads it with the column type's input syntax."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value")


def _db_value(value: object) -> Any:
    """A value of a row as the database driver takes it (what Django's fields do on save)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, dict | list):
        return connection.ops.adapt_json_value(value, None)
    return value
