"""A backfill interrupted for more than a day: Amazon's searchOrders pagination token has expired ("The token will
expire after 24 hours", orders_2026-01-01.json Pagination), the sandbox refuses it as Amazon does (400 InvalidInput),
and order loading restarts its query from the last stored order (sync/order_sync.py `_failed`) without losing or
duplicating an order."""

from __future__ import annotations

from django.test import override_settings

from sandbox import api as sandbox_api
from sync.models import Order
from tests.sync.helpers import SyncTestCase


class ExpiredPaginationTokenTests(SyncTestCase):
    def test_a_backfill_resumed_after_24_hours_restarts_from_the_last_stored_order_and_loads_every_order(
        self,
    ) -> None:
        self.authorize_orders()
        # One page stored, Amazon's token for the next one kept.
        with override_settings(SYNC_TASK_BUDGET_SECONDS=0):
            self.assertEqual(self.run_again(), "continues")
        token = self.state().pagination_token
        self.assertTrue(token)
        sandbox_api.advance_clock(24 * 3600 + 1)
        self.assertEqual(self.run_again(), "failed")
        s = self.state()
        self.assertEqual((s.pagination_token, s.last_error, s.query), ("", "invalid", {}))
        self.assertEqual(self.run_again(), "done")
        s = self.state()
        expected = self.backfilled_ids()
        rows = Order.objects.filter(store=self.store)
        self.assertEqual(set(rows.values_list("amazon_order_id", flat=True)), expected)
        self.assertEqual(rows.count(), len(expected))
        self.assertEqual(s.last_error, "")
