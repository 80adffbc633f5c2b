"""Events written as an outbox, in the transaction of the change: an event and its deliveries commit (or roll back)
with it, and the first attempt is enqueued only once it committed.

An event is built only for a tenant with an enabled endpoint subscribed to its type (one query); a tenant without
webhooks costs that one query per change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from shipping.models import Package
from stores.models import Store
from sync.models import Order
from webhooks import payloads
from webhooks.models import ORDER_EVENTS, TEST_EVENT, Delivery, Endpoint, Event, EventType

# Deliveries handed to one task: a page of 100 new orders is sent by a few workers side by side.
TASK_CHUNK = 20


def subscribed(tenant_id: int, types: Iterable[str]) -> dict[str, list[Endpoint]]:
    """The tenant's enabled endpoints by event type, for the types asked (one query)."""
    wanted = set(types)
    found: dict[str, list[Endpoint]] = {}
    for endpoint in Endpoint.objects.filter(tenant_id=tenant_id, enabled=True):
        for t in wanted & set(endpoint.events):
            found.setdefault(t, []).append(endpoint)
    return found


def authorization_changed(store: Store) -> Event | None:
    endpoints = subscribed(store.tenant_id, [EventType.AUTHORIZATION_CHANGED]).get(
        EventType.AUTHORIZATION_CHANGED
    )
    if not endpoints:
        return None
    event = Event(
        tenant_id=store.tenant_id,
        type=EventType.AUTHORIZATION_CHANGED,
        store=store,
        data=payloads.store_payload(store),
    )
    return _write([(event, endpoints)])[0]


def orders_stored(store: Store, written: dict[str, tuple[int, bool]]) -> list[Event]:
    by_type = subscribed(store.tenant_id, ORDER_EVENTS)
    if not by_type:
        return []
    new = {pk for pk, is_new in written.values() if is_new}
    planned: list[tuple[Event, list[Endpoint]]] = []
    orders = (
        Order.objects.filter(pk__in=[pk for pk, _new in written.values()])
        .select_related("store")
        .prefetch_related("items")
    )
    for order in orders.order_by("last_updated", "pk"):
        kind = _order_event_type(order, order.pk in new)
        if kind in by_type:
            data = payloads.order_payload(order)
            planned.append(
                (Event(tenant_id=store.tenant_id, type=kind, store=store, data=data), by_type[kind])
            )
    return _write(planned)


def _order_event_type(order: Order, new: bool) -> str:
    # A new order is "created" whatever its status. "cancelled" only for the write that cancelled it: the upsert
    # sets cancelled_at to Amazon's time of the first copy that reads Canceled, so this write is that copy exactly
    # when the stored last_updated equals it; any later change of a cancelled order (or a buyer's cancellation
    # request) is "updated".
    if new:
        return EventType.ORDER_CREATED
    if order.cancelled_at is not None and order.cancelled_at == order.last_updated:
        return EventType.ORDER_CANCELLED
    return EventType.ORDER_UPDATED


def package_settled(package: Package) -> Event | None:
    """`shipment.confirmed` or `shipment.failed` (a package waiting to be sent again is no event)."""
    kind = {
        Package.Status.CONFIRMED: EventType.SHIPMENT_CONFIRMED,
        Package.Status.FAILED: EventType.SHIPMENT_FAILED,
    }.get(package.status)  # type: ignore[call-overload]
    if kind is None:
        return None
    store = package.order.store
    endpoints = subscribed(store.tenant_id, [kind]).get(kind)
    if not endpoints:
        return None
    event = Event(tenant_id=store.tenant_id, type=kind, store=store, data=payloads.package_payload(package))
    return _write([(event, endpoints)])[0]


def test_event(endpoint: Endpoint) -> Event:
    """ "Send a test event": to this endpoint only, whatever it subscribed to."""
    event = Event(
        tenant_id=endpoint.tenant_id,
        type=TEST_EVENT,
        data={"endpoint": str(endpoint.code), "message": "This is a test event from the portal."},
    )
    return _write([(event, [endpoint])])[0]


def _write(planned: list[tuple[Event, list[Endpoint]]]) -> list[Event]:
    if not planned:
        return []
    now = timezone.now()
    events = [e for e, _endpoints in planned]
    for e in events:
        e.created_at = now
    Event.objects.bulk_create(events)
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(endpoint=ep, event=e, next_attempt_at=now, created_at=now)
            for e, eps in planned
            for ep in eps
        ]
    )
    enqueue_after_commit([d.pk for d in deliveries])
    return events


def enqueue_after_commit(delivery_ids: list[Any]) -> None:
    def send() -> None:
        for i in range(0, len(delivery_ids), TASK_CHUNK):
            async_task("webhooks.tasks.deliver", delivery_ids[i : i + TASK_CHUNK], save=False)

    if delivery_ids:
        transaction.on_commit(send)
