"""Storing orders Amazon sent: the one way orders, their items and unreadable orders reach the database.

Both paths that bring orders use it: a poll's page (sync/order_sync.py `_store_page`, under the store's lease) and a
notified order (sync/order_changes.py `load`, `store_notified`). Orders are upserted by (store, amazon_order_id), and
an older copy never overwrites a newer one. Writers of a store's orders hold its OrderSync row lock first, so two
writers of one store never interleave.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from amazon import orders as api
from stores.models import Store
from sync import order_feed, ship_to
from sync.bulk_upsert import column, insert_on_conflict
from sync.models import Order, OrderItem, OrderSync, UnreadableOrder, local_time
from sync.order_signals import orders_stored
from sync.order_state import is_cancelled_status

log = logging.getLogger(__name__)

ORDER_UPDATE_FIELDS = [
    "marketplace_id",
    "purchase_date",
    "purchase_date_local",
    "purchase_day_local",
    "status",
    "total_amount",
    "currency",
    "last_updated",
    "raw",
    *ship_to.STORED_FIELDS,
    "shipped_at",
    "cancelled_at",
    "cancel_requested_at",
    "updated_at",
]
ORDER_FIELDS = ["store", "amazon_order_id", *ORDER_UPDATE_FIELDS[:-1], "created_at", "updated_at"]
ITEM_UPDATE_FIELDS = ["sku", "asin", "quantity", "unit_price", "currency"]
ITEM_FIELDS = ["order", "order_item_id", *ITEM_UPDATE_FIELDS]


def upsert(store: Store, orders: list[api.Order]) -> tuple[int, int]:
    """Insert or update by (store, amazon_order_id); a copy older than the stored one is skipped.

    Returns how many orders were new and how many new or changed. A page costs the same few statements however many
    orders it carries: one multi-row upsert of the orders (on SQLite after one read of which are stored already),
    one of their items, (only for orders stored before) one read and one delete of the lines Amazon no longer
    lists, and one that moves the written orders to the end of the changes feed (sync/order_feed.py). Callers hold
    the store's OrderSync row lock (see the module docstring), and the upsert itself refuses to overwrite a newer
    copy (`_save_orders`).
    """
    if not orders:
        return 0, 0
    latest = _latest_copies(orders)
    written = _save_orders(store, list(latest.values()))
    if not written:
        return 0, 0
    ids = {oid: pk for oid, (pk, _new) in written.items()}
    _save_items(ids, [latest[oid] for oid in ids], {oid for oid, (_pk, new) in written.items() if not new})
    # In the same transaction: the orders written move to the end of the API's changes feed (one statement).
    order_feed.record(store, ids.values())
    # One send per page, in the caller's transaction: listeners (webhook events) commit or roll back with it.
    orders_stored.send(sender=Store, store=store, written=written)
    return sum(1 for _pk, new in written.values() if new), len(written)


def store_notified(store: Store, order: api.Order) -> tuple[int, int]:
    """Store one order read with getOrder, under the same row lock as a poll's page; counts it as loaded when new.
    Returns what `upsert` returns."""
    with transaction.atomic():
        locked = list(
            OrderSync.objects.select_for_update().filter(store_id=store.pk).values_list("pk", flat=True)
        )
        added, changed = upsert(store, [order])
        if added and locked:
            OrderSync.objects.filter(pk=locked[0]).update(orders_loaded=F("orders_loaded") + added)
    return added, changed


def note_cancel_request(store_id: int, amazon_order_id: str) -> bool:
    """The buyer asked to cancel (an ORDER_CHANGE notification): flag the stored order once, move it in the changes
    feed and send `order.updated` (webhooks), like any write of an order. False when it is not stored (yet) or was
    flagged before."""
    with transaction.atomic():
        list(OrderSync.objects.select_for_update().filter(store_id=store_id).values_list("pk", flat=True))
        pks = list(
            Order.objects.filter(
                store_id=store_id, amazon_order_id=amazon_order_id, cancel_requested_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if not pks:
            return False
        Order.objects.filter(pk__in=pks).update(cancel_requested_at=timezone.now(), updated_at=timezone.now())
        store = Store.objects.get(pk=store_id)
        order_feed.record(store, pks)
        orders_stored.send(sender=Store, store=store, written={amazon_order_id: (pks[0], False)})
    return True


def _latest_copies(orders: list[api.Order]) -> dict[str, api.Order]:
    # Overlapping queries can return one order more than once: only its latest copy may be stored.
    latest: dict[str, api.Order] = {}
    for o in orders:
        if o.order_id not in latest or o.last_updated >= latest[o.order_id].last_updated:
            latest[o.order_id] = o
    return latest


def _save_orders(store: Store, orders: list[api.Order]) -> dict[str, tuple[int, bool]]:
    """Upsert the orders; returns, by Amazon order id, the primary key of each order written (new or newer) and
    whether it is new.

    One INSERT … ON CONFLICT DO UPDATE … WHERE excluded.last_updated > the stored one (PostgreSQL and SQLite alike):
    the statement itself keeps a copy that is not newer from overwriting the stored one (a copy as old as the stored
    one is the stored one: each incremental run re-reads its overlap), and RETURNING names only the rows written.
    PostgreSQL also says which rows it inserted (xmax = 0: no earlier version of the row); on SQLite the orders
    stored already are read first.
    """
    postgres = connection.vendor == "postgresql"
    stored: set[str] = set()
    if not postgres:
        stored = set(
            Order.objects.filter(store=store, amazon_order_id__in=[o.order_id for o in orders]).values_list(
                "amazon_order_id", flat=True
            )
        )
    now = timezone.now()
    keep_raw = settings.ORDER_SYNC_KEEP_RAW
    rows = []
    for o in orders:
        local = local_time(o.created, o.marketplace_id or "", store.timezone)
        status = o.status or ""
        rows.append(
            (
                store.pk,
                o.order_id,
                o.marketplace_id or "",
                o.created,
                local.isoformat(timespec="seconds"),
                local.date(),
                o.status or "",
                o.total,
                o.currency or "",
                o.last_updated,
                o.raw if keep_raw else None,
                *ship_to.stored_values(o.ship_to, now),
                # Amazon's time of the first copy that reads SHIPPED / CANCELLED (kept by `_EXPRESSIONS`).
                o.last_updated if status.upper() == "SHIPPED" else None,
                o.last_updated if is_cancelled_status(status) else None,
                now if o.cancel_requested else None,
                now,
                now,
            )
        )
    table = connection.ops.quote_name(Order._meta.db_table)
    newer = f"EXCLUDED.{column(Order, 'last_updated')} > {table}.{column(Order, 'last_updated')}"
    returning = f"{column(Order, 'id')}, {column(Order, 'amazon_order_id')}"
    returning += ", (xmax = 0)" if postgres else ""
    written = insert_on_conflict(
        Order, ORDER_FIELDS, rows, ["store", "amazon_order_id"], ORDER_UPDATE_FIELDS, where=newer,
        returning=returning, expressions=_expressions(table),
    )  # fmt: skip
    if postgres:
        return {oid: (pk, bool(new)) for pk, oid, new in written}
    return {oid: (pk, oid not in stored) for pk, oid in written}


def _expressions(table: str) -> dict[str, str]:
    """How an update keeps what must not be lost: the first shipped/cancelled/cancel-request time stays; a copy
    without the recipient (no restricted role) keeps the stored ship-to address; an erased address is never written
    again (`ship_to.erase_due`)."""

    def c(name: str) -> str:
        return column(Order, name)

    def kept(name: str) -> str:
        return f"COALESCE({table}.{c(name)}, EXCLUDED.{c(name)})"

    no_recipient = f"EXCLUDED.{c('ship_to_received_at')} IS NULL"
    out = {name: kept(name) for name in ("shipped_at", "cancelled_at", "cancel_requested_at")}
    out["ship_to_received_at"] = (
        f"COALESCE(EXCLUDED.{c('ship_to_received_at')}, {table}.{c('ship_to_received_at')})"
    )
    for name in ship_to.CLEAR_FIELDS:
        out[name] = f"CASE WHEN {no_recipient} THEN {table}.{c(name)} ELSE EXCLUDED.{c(name)} END"
    erased = f"{table}.{c('ship_to_erased_at')} IS NOT NULL"
    personal = c("ship_to_personal")
    out["ship_to_personal"] = (
        f"CASE WHEN {erased} OR {no_recipient} THEN {table}.{personal} ELSE EXCLUDED.{personal} END"
    )
    return out


def _save_items(ids: dict[str, int], fresh: list[api.Order], updated: set[str]) -> None:
    """Upsert the orders' items; for orders stored before, drop the lines Amazon no longer lists (a changed order
    may lose lines)."""
    if updated:
        wanted = {(ids[o.order_id], i.order_item_id) for o in fresh if o.order_id in updated for i in o.items}
        lines = OrderItem.objects.filter(order_id__in=[ids[oid] for oid in updated]).values_list(
            "pk", "order_id", "order_item_id"
        )
        stale = [pk for pk, order_id, item_id in lines if (order_id, item_id) not in wanted]
        if stale:
            OrderItem.objects.filter(pk__in=stale).delete()
    rows = [
        (
            ids[o.order_id],
            i.order_item_id,
            i.sku or "",
            i.asin or "",
            i.quantity,
            i.unit_price,
            i.currency or "",
        )
        for o in fresh
        for i in o.items
    ]
    if rows:
        insert_on_conflict(OrderItem, ITEM_FIELDS, rows, ["order", "order_item_id"], ITEM_UPDATE_FIELDS)


def keep_aside(store: Store, page: api.Page) -> None:
    """Record the page's unreadable orders for staff; an order read fine now is no longer unreadable."""
    read = [o.order_id for o in page.orders]
    if read:
        UnreadableOrder.objects.filter(store=store, amazon_order_id__in=read).delete()
    if not page.unreadable:
        return
    now = timezone.now()
    # One row per (store, order id): a page may carry the same id (or several without one) more than once.
    latest = {u.order_id: u for u in page.unreadable}
    UnreadableOrder.objects.bulk_create(
        [
            UnreadableOrder(
                store=store,
                amazon_order_id=u.order_id,
                reason=u.reason,
                raw=u.raw,
                first_seen=now,
                last_seen=now,
            )
            for u in latest.values()
        ],
        update_conflicts=True,
        unique_fields=["store", "amazon_order_id"],
        update_fields=["reason", "raw", "last_seen"],
    )
    log.warning("order sync of store %s: %d unreadable orders kept aside", store.pk, len(latest))
