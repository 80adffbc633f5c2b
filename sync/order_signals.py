"""Signals of the sync layer: upper layers (webhooks) listen without sync importing them.

`orders_stored` is sent by `order_store.upsert` inside the transaction that stored a page of orders, once per call
(never per order), only when some order was new or changed. Keyword arguments: `store` (the Store) and `written`
({amazon_order_id: (order primary key, True when new)}). A receiver that needs the orders reads them with one query.
"""

from __future__ import annotations

from django.dispatch import Signal

orders_stored = Signal()
