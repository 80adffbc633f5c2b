"""Readable, translatable words for the order states Amazon sends (Order.status holds them as received).

searchOrders 2026-01-01 reports `fulfillment.fulfillmentStatus` (enum FulfillmentStatus in orders_2026-01-01.json):
PENDING_AVAILABILITY, PENDING, UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED, CANCELLED, UNFULFILLABLE. The Orders API v0
spells some of them differently (Canceled, PartiallyShipped, InvoiceUnconfirmed), so lookups ignore case and
underscores, and both spellings of "cancelled" share one label. A value not in the table shows as received.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# In the order of an order's life, which is also the order of the orders page's state filter.
ORDER_STATUS_LABELS: dict[str, Promise] = {
    "PENDING_AVAILABILITY": _("Pending availability"),
    "PENDING": _("Pending"),
    "UNSHIPPED": _("Unshipped"),
    "PARTIALLY_SHIPPED": _("Partially shipped"),
    "SHIPPED": _("Shipped"),
    "INVOICE_UNCONFIRMED": _("Invoice unconfirmed"),
    "CANCELLED": _("Cancelled"),
    "CANCELED": _("Cancelled"),
    "UNFULFILLABLE": _("Unfulfillable"),
}
NO_STATUS_LABEL = _("No status")


def _key(value: str) -> str:
    return value.replace("_", "").replace("-", "").replace(" ", "").upper()


_BY_KEY = {_key(k): v for k, v in ORDER_STATUS_LABELS.items()}
_RANK = {_key(k): i for i, k in enumerate(ORDER_STATUS_LABELS)}


def order_status_label(value: str) -> str:
    """The readable label of a stored order status (the value itself when unknown)."""
    if not value:
        return str(NO_STATUS_LABEL)
    label = _BY_KEY.get(_key(value))
    return str(label) if label is not None else value


def order_status_sort_key(value: str) -> tuple[int, str]:
    """Known states in the table's order, then the unknown ones alphabetically."""
    return (_RANK.get(_key(value), len(_RANK)), value)
