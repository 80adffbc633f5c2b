"""Order loading with the ship-to address: the restricted role on our side (setting) and at the sandbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import override_settings

from sandbox import simulated_orders
from sandbox.models import SandboxOrder
from sync.models import Order


def orders_app_id() -> str:
    return str(settings.AMAZON_SPAPI_APPS["orders"]["app_id"])


def with_role(granted_at_amazon: bool = True, **more: Any) -> override_settings:
    """AMAZON_ORDERS_RESTRICTED_ROLE on; the sandbox's orders application holds the role when `granted_at_amazon`."""
    return override_settings(
        AMAZON_ORDERS_RESTRICTED_ROLE=True,
        SANDBOX_RESTRICTED_ROLE_APPLICATIONS=[orders_app_id()] if granted_at_amazon else [],
        **more,
    )


def amazon_address(order: Order) -> dict[str, str]:
    """recipient.deliveryAddress as the sandbox gives it to an application holding the role."""
    sandbox_order = SandboxOrder.objects.get(order_id=order.amazon_order_id)
    address: dict[str, str] = simulated_orders.recipient_json(sandbox_order, True)["deliveryAddress"]
    return address


def personal_values(orders: list[Order]) -> list[str]:
    """Every personal value Amazon sent for these orders (what must never show outside the audited reads)."""
    values = []
    for o in orders:
        address = amazon_address(o)
        values += [address[k] for k in ("name", "addressLine1", "addressLine2", "phone")]
    return values
