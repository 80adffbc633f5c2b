"""A store with order loading (and listings) authorized through a real consent at the sandbox."""

from __future__ import annotations

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from authorizations.models import Authorization
from sandbox import api as sandbox_api
from sync import tasks
from sync.models import OrderSync
from tests.authorizations.helpers import CA, US, FlowTestCase

__all__ = ["CA", "US", "SyncTestCase"]


@override_settings(ORDER_SYNC_PAGE_SIZE=10, SYNC_MAX_INLINE_WAIT_SECONDS=0.5, SYNC_RETRY_BASE_SECONDS=30)
class SyncTestCase(FlowTestCase):
    """The sandbox clock is frozen, so the orders Amazon has do not change while a test runs."""

    backfill_days = 8

    def setUp(self) -> None:
        super().setUp()
        sandbox_api.set_time_scale(0)
        self.store.initial_order_date = (timezone.now() - timedelta(days=self.backfill_days)).date()
        self.store.save(update_fields=["initial_order_date"])

    def authorize_orders(self) -> Authorization:
        self.authorize("orders")
        self.store.refresh_from_db()
        return Authorization.objects.get(store=self.store, capability="orders")

    def state(self) -> OrderSync:
        return OrderSync.objects.get(store=self.store)

    def make_due(self) -> None:
        OrderSync.objects.filter(store=self.store).update(next_run_at=timezone.now())

    def run_again(self) -> str:
        """The store's sync, due now, run as a worker would (its on-commit work included)."""
        self.make_due()
        with self.captureOnCommitCallbacks(execute=True):
            return tasks.sync_orders(self.store.pk)

    def backfilled_ids(self) -> set[str]:
        """What searchOrders has between where the backfill started and where it says it got to."""
        s = self.state()
        return {
            o.order_id
            for o in sandbox_api.generated_orders(
                self.seller.selling_partner_id,
                self.store.marketplace_ids,
                created_after=s.backfill_from,
                created_before=s.backfill_done_until,
            )
        }

    def expected_ids(self) -> set[str]:
        """What searchOrders has for the backfill window, straight from the sandbox."""
        s = self.state()
        return {
            o.order_id
            for o in sandbox_api.generated_orders(
                self.seller.selling_partner_id, [US, CA], created_after=s.backfill_from
            )
        }
