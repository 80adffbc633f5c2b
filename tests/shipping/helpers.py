"""A store whose order loading is authorized at the sandbox, with orders that are unshipped there and loaded here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

from django.test.client import Client

from api.models import ApiKey
from sandbox import api as sandbox_api
from sandbox.models import SandboxOrder
from shipping import tasks
from shipping.models import Package
from tests.api.helpers import bearer, make_key
from tests.api.order_helpers import amazon_order, store_orders
from tests.sync.helpers import US, SyncTestCase


class ShippingTestCase(SyncTestCase):
    orders_per_day = 4

    def setUp(self) -> None:
        super().setUp()
        self.seller.orders_per_day = self.orders_per_day
        self.seller.save(update_fields=["orders_per_day"])
        self.authorize_orders()
        self.now = sandbox_api.now()
        self.key, self.secret = make_key(self.tenant, self.alice, scope=ApiKey.Scope.READ_WRITE)
        self.queue: list[int] = []

    def unshipped(self, n: int, quantity: int = 2) -> list[SandboxOrder]:
        """n orders unshipped at the sandbox, each with one item of `quantity`, loaded into the store."""
        orders = list(
            sandbox_api.generated_orders(
                self.seller.selling_partner_id, [US], created_after=self.now - timedelta(days=4)
            )
        )[:n]
        assert len(orders) == n, len(orders)
        for o in orders:
            o.unshipped_at = min(o.created_time + timedelta(minutes=30), self.now)
            o.shipped_at = o.cancelled_at = o.partially_shipped_at = None
            o.shipped_items = {}
            o.fulfilled_by = "MERCHANT"
            o.items = [
                {"orderItemId": f"{o.order_id}-1", "sku": "MUG-BLUE", "asin": "B000000001", "title": "Mug",
                 "quantity": quantity, "unitPrice": "9.99"},
            ]  # fmt: skip
            o.save()
        store_orders(self.store, [amazon_order(o.order_id, purchased=o.created_time) for o in orders])
        if quantity != 2:
            from sync.models import OrderItem

            OrderItem.objects.filter(order__store=self.store).update(quantity=quantity)
        return orders

    def body(self, order_id: str, reference: int = 1, quantity: int = 2, **changes: Any) -> dict[str, Any]:
        return {
            "package_reference_id": reference,
            "carrier_code": "UPS",
            "shipping_method": "Ground",
            "tracking_number": f"1Z999AA1012345678{reference}",
            "ship_date": (self.now - timedelta(hours=1)).isoformat(),
            "items": [{"order_item_id": f"{order_id}-1", "quantity": quantity}],
            **changes,
        }

    @contextmanager
    def enqueued(self) -> Iterator[list[int]]:
        """Confirmation jobs enqueued after commit are collected (in self.queue too), not run."""
        found: list[int] = []

        def collect(func: str, package_id: int, **kwargs: Any) -> None:
            assert func == "shipping.tasks.confirm"
            found.append(package_id)
            self.queue.append(package_id)

        with (
            mock.patch("shipping.jobs.async_task", side_effect=collect),
            self.captureOnCommitCallbacks(execute=True),
        ):
            yield found

    def post(
        self,
        order_id: str,
        body: dict[str, Any],
        key: str = "k-1",
        secret: str | None = None,
        client: Client | None = None,
    ) -> Any:
        with self.enqueued():
            return (client or self.client).post(
                f"/api/v1/orders/{order_id}/shipments",
                data=json.dumps(body),
                content_type="application/json",
                **bearer(secret or self.secret, HTTP_IDEMPOTENCY_KEY=key),
            )

    def work(self) -> list[str]:
        """A worker runs every enqueued job (and what they enqueue after commit), then every package still due, as
        the scheduler would once its time came."""
        outcomes = []
        while self.queue:
            pk = self.queue.pop(0)
            with self.enqueued():
                outcomes.append(tasks.confirm(pk))
        return outcomes

    def retry_due(self) -> list[str]:
        outcomes = []
        for pk in Package.objects.filter(status=Package.Status.WAITING_RETRY).values_list("pk", flat=True):
            with self.enqueued():
                outcomes.append(tasks.confirm(pk))
        return outcomes

    def sandbox_status(self, order_id: str) -> str:
        return SandboxOrder.objects.get(order_id=order_id).state_at(sandbox_api.now())[0]
