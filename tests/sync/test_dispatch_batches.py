"""The dispatcher enqueues every due store in one pass, batch after batch, each store once."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.test import TestCase
from django.utils import timezone

from authorizations.models import Authorization, AuthStatus, Capability
from sync import dispatch
from sync.models import OrderSync
from tests.base import make_store, make_user


class DispatchBatchTests(TestCase):
    def setUp(self) -> None:
        tenant = make_user("dispatch@example.org", "Dispatch").memberships.get().tenant
        self.stores = [make_store(tenant, nickname=f"Dispatch {i}") for i in range(5)]
        now = timezone.now()
        for s in self.stores:
            Authorization.objects.filter(store=s, capability=Capability.ORDERS).update(
                status=AuthStatus.AUTHORIZED, refresh_token_encrypted="x"
            )
            OrderSync.objects.create(store=s, backfill_from=now, next_run_at=now - timedelta(seconds=1))

    def dispatch(self, **kwargs: int) -> tuple[int, list[mock._Call]]:
        with (
            mock.patch.object(dispatch, "DISPATCH_BATCH", 2),
            mock.patch("sync.jobs.async_task") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            count = dispatch.dispatch_due(**kwargs)
        return count, enqueue.call_args_list

    def test_every_due_store_is_enqueued_once_across_batches(self) -> None:
        count, calls = self.dispatch()
        self.assertEqual(count, 5)
        self.assertEqual(
            sorted(c.args for c in calls), sorted(("sync.tasks.sync_orders", s.pk) for s in self.stores)
        )
        # The outcome is on the OrderSync row: django-q2 keeps no success row for an order sync.
        self.assertTrue(all(c.kwargs["save"] is False for c in calls))
        self.assertEqual(OrderSync.objects.filter(enqueued_at__isnull=True).count(), 0)
        self.assertEqual(self.dispatch(), (0, []))

    def test_a_limit_leaves_the_rest_for_the_next_pass(self) -> None:
        count, calls = self.dispatch(limit=3)
        self.assertEqual((count, len(calls)), (3, 3))
        count, calls = self.dispatch()
        self.assertEqual((count, len(calls)), (2, 2))
        first = {c.args[1] for c in calls}
        self.assertEqual(len(first), 2)

    def test_a_queued_store_is_queued_again_only_after_the_grace(self) -> None:
        self.dispatch()
        OrderSync.objects.filter(store=self.stores[0]).update(
            enqueued_at=timezone.now() - timedelta(minutes=11)
        )
        count, calls = self.dispatch()
        self.assertEqual(count, 1)
        self.assertEqual(calls[0].args[1], self.stores[0].pk)
