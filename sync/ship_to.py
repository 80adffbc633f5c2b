"""The ship-to address of an order, under Amazon's Data Protection Policy.

Read from Amazon only when the orders application holds the Direct-to-Consumer Delivery (Restricted) role
(AMAZON_ORDERS_RESTRICTED_ROLE; amazon/orders.py asks for includedData RECIPIENT, no Restricted Data Token needed in
Orders API 2026-01-01: https://developer-docs.amazon.com/sp-api/docs/access-orders-pii).

- At rest: the personal fields (name, company, address lines, district, municipality, phone, extended fields) are one
  JSON document encrypted with the TOKEN_ENCRYPTION_KEYS (MultiFernet, authorizations/crypto.py), written by the
  orders' one bulk upsert (sync/order_store.py). City, state, postal code and country are kept in clear.
- Shown: to members on the order page (`for_page`; viewers see city, state and country only) and through the API
  with a key holding the "ship-to address" permission (api/orders.py). Every read of the personal fields writes one
  audit event per request and store naming the order ids, never the address (`audit_read`). Never in logs,
  `__str__`, admin, e-mails or webhook bodies.
- Erased: the DPP allows keeping PII "no longer than 30 days after order delivery" (Amazon's "Protecting Amazon API
  applications: data encryption and recovery", cited in /work/shared/research/integrations.md). A daily job
  (`erase_due`) clears the personal fields SHIP_TO_RETENTION_DAYS after the order shipped or was cancelled; shipping
  comes before delivery, so this never keeps them longer than the policy allows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from amazon.orders import ShipTo
from authorizations import crypto
from sync.models import Order

log = logging.getLogger(__name__)

CLEAR_FIELDS = ["ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country"]
# The order of sync/order_store.py's row values for these columns (`stored_values`).
STORED_FIELDS = ["ship_to_personal", *CLEAR_FIELDS, "ship_to_received_at"]

NOT_AUTHORIZED = "not_authorized"  # Amazon sent no personal field (no restricted role): not "revoked"
NOT_PERMITTED = "not_permitted"  # the caller may not see it (an API key without the ship-to permission)
ERASED = "erased"  # erased after the retention period
AVAILABLE = "available"
STATUS_LABELS = {
    NOT_AUTHORIZED: _("Ship-to address not authorized"),
    NOT_PERMITTED: _("Ship-to address not permitted for this key"),
    ERASED: _("Ship-to address erased (Amazon's data retention)"),
    AVAILABLE: _("Ship-to address available"),
}
READ_ACTION = "order.ship_to_read"
# Order ids per audit event: the detail holds 500 characters.
IDS_PER_EVENT = 20


def stored_values(ship_to: ShipTo | None, now: datetime) -> tuple[Any, ...]:
    """The values of STORED_FIELDS for one order's row; no recipient: nothing received (the stored one stays)."""
    if ship_to is None:
        return ("", "", "", "", "", None)
    personal = ""
    if ship_to.has_personal:
        personal = crypto.encrypt(json.dumps(ship_to.personal(), ensure_ascii=False, sort_keys=True))
    return (
        personal,
        ship_to.city,
        ship_to.state,
        ship_to.postal_code,
        ship_to.country_code,
        now,
    )


def status(order: Order) -> str:
    """What the portal holds of the order's ship-to address, whoever asks."""
    if order.ship_to_erased_at is not None:
        return ERASED
    if order.ship_to_personal:
        return AVAILABLE
    return NOT_AUTHORIZED


def status_for(order: Order, permitted: bool) -> str:
    held = status(order)
    if held == NOT_AUTHORIZED or permitted:
        return held
    return NOT_PERMITTED


def _clear(order: Order) -> dict[str, str]:
    return {
        "city": order.ship_to_city,
        "state_or_region": order.ship_to_state,
        "postal_code": order.ship_to_postal_code,
        "country_code": order.ship_to_country,
    }


def document(order: Order) -> dict[str, Any] | None:
    """The whole address (decrypted), or None when none is held. Callers audit the read (`audit_read`)."""
    if status(order) != AVAILABLE:
        return None
    try:
        personal = json.loads(crypto.decrypt(order.ship_to_personal))
    except (crypto.InvalidToken, ValueError):
        # A key taken out of TOKEN_ENCRYPTION_KEYS too early: the order id only, never the value.
        log.warning("ship-to address of order %s cannot be decrypted", order.pk)
        return None
    extended = personal.get("extended") or {}
    return {
        "name": personal.get("name", ""),
        "company": personal.get("company", ""),
        "address_line1": personal.get("address_line1", ""),
        "address_line2": personal.get("address_line2", ""),
        "address_line3": personal.get("address_line3", ""),
        "district": personal.get("district", ""),
        "municipality": personal.get("municipality", ""),
        **_clear(order),
        "phone": personal.get("phone", ""),
        "extended_fields": extended if isinstance(extended, dict) else {},
    }


def audit_read(request: HttpRequest | None, orders: Iterable[Order], reader: str) -> None:
    """One audit event per store of the orders whose address was read (chunked to the detail's length): who read
    (`reader`: a key's prefix, or the page), and the Amazon order ids. Never the address."""
    from authorizations.audit import record

    by_store: dict[int, list[Order]] = {}
    for o in orders:
        by_store.setdefault(o.store_id, []).append(o)
    for group in by_store.values():
        store = group[0].store
        ids = sorted({o.amazon_order_id for o in group})
        for start in range(0, len(ids), IDS_PER_EVENT):
            chunk = " ".join(ids[start : start + IDS_PER_EVENT])
            record(
                request,
                READ_ACTION,
                store=store,
                capability="orders",
                outcome="ok",
                detail=f"{reader}: {chunk}",
            )


def for_page(request: HttpRequest, order: Order) -> dict[str, Any] | None:
    """The ship-to address as the order page shows it to the request's user: a member (owner, admin, member) sees it
    whole and the read is audited; a viewer sees city, state and country only; anyone else nothing.

    Returns {"status", "status_label", "address" (dict or None), "partial" (viewer)} or None for an outsider."""
    membership = getattr(request, "membership", None)
    if membership is None or membership.tenant_id != order.store.tenant_id:
        return None
    held = status(order)
    shown: dict[str, Any] | None = None
    partial = not membership.can_change
    if partial:
        clear = _clear(order)
        if any(clear.values()):
            shown = {k: v for k, v in clear.items() if k != "postal_code"}
    elif held == AVAILABLE:
        shown = document(order)
        if shown is not None:
            audit_read(request, [order], "order page")
    elif any(_clear(order).values()):
        shown = _clear(order)
    return {"status": held, "status_label": STATUS_LABELS[held], "address": shown, "partial": partial}


def due(now: datetime | None = None) -> Q:
    cutoff = (now or timezone.now()) - timedelta(days=settings.SHIP_TO_RETENTION_DAYS)
    return Q(ship_to_erased_at__isnull=True) & (Q(shipped_at__lte=cutoff) | Q(cancelled_at__lte=cutoff))


def erase_due(now: datetime | None = None) -> int:
    """The daily job: clear the personal fields of orders shipped or cancelled more than SHIP_TO_RETENTION_DAYS
    ago (city, state, postal code and country stay). One UPDATE; returns how many orders were erased."""
    now = now or timezone.now()
    erased = (
        Order.objects.filter(due(now))
        .exclude(ship_to_personal="")
        .update(ship_to_personal="", ship_to_erased_at=now)
    )
    # A shipped or cancelled order whose address was never received is marked too: a later copy from Amazon never
    # stores the personal fields again (sync/order_store.py `_expressions`).
    Order.objects.filter(due(now), ship_to_received_at__isnull=False).update(ship_to_erased_at=now)
    if erased:
        log.info("ship-to addresses erased: %d orders", erased)
    return erased
