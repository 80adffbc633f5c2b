"""The lease on a store's order sync: who may run it now.

django-q2 delivers a task at least once, so a run first claims the store's OrderSync row with one conditional
UPDATE (due, and not claimed by a live lease). A second delivery, or a second worker, finds it claimed or not due and
returns at once. The lease lasts SYNC_LEASE_SECONDS and each stored page extends it (sync/order_sync.py
`_store_page` writes only while `claimed_by` is still ours, else `LostLease`); `release` ends it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

from authorizations.models import Authorization, Capability
from stores.models import Store
from sync.models import OrderSync

M = TypeVar("M", bound=Model)


class LostLease(Exception):
    """Another worker took the store over (our lease lapsed): stop without writing."""


@dataclass(frozen=True)
class Claim:
    state: OrderSync
    # The store's order-loading authorization with its store, when the claim read them in the same statement.
    auth: Authorization | None = None


def claim(store_id: int, worker: str) -> Claim | None:
    """Take the store's lease if its sync is due and nobody holds it, with one conditional UPDATE.

    On PostgreSQL that UPDATE returns the row and, in the same statement, the store's order-loading authorization
    and the store (`_claim_sql`); elsewhere the row is read after it and the run reads the authorization.
    """
    now = timezone.now()
    until = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute(_claim_sql(), [worker, until, store_id, now, now, Capability.ORDERS])
            row = c.fetchone()
        if row is None:
            return None
        state, at = _from_row(OrderSync, row, 0)
        if row[at] is None:  # no order-loading authorization (the run's own read says so)
            return Claim(state)
        auth, at = _from_row(Authorization, row, at)
        auth.store, _ = _from_row(Store, row, at)
        return Claim(state, auth)
    claimed = (
        OrderSync.objects.filter(store_id=store_id, next_run_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_by=worker, claimed_until=until, enqueued_at=None)
    )
    return Claim(OrderSync.objects.get(store_id=store_id)) if claimed else None


@functools.cache
def _claim_sql() -> str:
    """UPDATE … RETURNING of the claim, joined to the authorization and the store (built once, models ready)."""
    q = connection.ops.quote_name

    def columns(model: type[Model], alias: str) -> str:
        return ", ".join(f"{alias}.{q(str(f.column))}" for f in model._meta.concrete_fields)

    table = q(OrderSync._meta.db_table)
    # Table and column names come from the models; every value is a parameter.
    return (
        f"WITH c AS (UPDATE {table} SET claimed_by = %s, claimed_until = %s, enqueued_at = NULL "  # noqa: S608
        "WHERE store_id = %s AND next_run_at <= %s AND (claimed_until IS NULL OR claimed_until < %s) "
        f"RETURNING {table}.*) "
        f"SELECT {columns(OrderSync, 'c')}, {columns(Authorization, 'a')}, {columns(Store, 's')} FROM c "
        f"LEFT JOIN {q(Authorization._meta.db_table)} a ON a.store_id = c.store_id AND a.capability = %s "
        f"LEFT JOIN {q(Store._meta.db_table)} s ON s.id = c.store_id"
    )


def _from_row(model: type[M], row: tuple[Any, ...], start: int) -> tuple[M, int]:
    """An instance of `model` from its concrete columns at `start` of a raw row (with the fields' own conversions,
    e.g. JSON), and where the next model's columns begin."""
    fields = model._meta.concrete_fields
    values = []
    for f, value in zip(fields, row[start : start + len(fields)], strict=True):
        col = f.get_col(model._meta.db_table)
        for convert in [*connection.ops.get_db_converters(col), *f.get_db_converters(connection)]:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], values), start + len(fields)


def release(state: OrderSync, worker: str) -> None:
    OrderSync.objects.filter(pk=state.pk, claimed_by=worker).update(claimed_by="", claimed_until=None)
