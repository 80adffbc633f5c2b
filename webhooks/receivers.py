"""The signals of the lower layers, turned into events (connected in WebhooksConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from authorizations.signals import authorization_changed
from shipping.models import Package
from shipping.signals import package_settled
from stores.models import Store
from sync.order_signals import orders_stored
from webhooks import events


@receiver(authorization_changed, dispatch_uid="webhooks.authorization_changed")
def on_authorization_changed(sender: Any, store: Store, **kwargs: Any) -> None:
    events.authorization_changed(store)


@receiver(orders_stored, dispatch_uid="webhooks.orders_stored")
def on_orders_stored(sender: Any, store: Store, written: dict[str, tuple[int, bool]], **kwargs: Any) -> None:
    events.orders_stored(store, written)


@receiver(package_settled, dispatch_uid="webhooks.package_settled")
def on_package_settled(sender: Any, package: Package, **kwargs: Any) -> None:
    events.package_settled(package)
