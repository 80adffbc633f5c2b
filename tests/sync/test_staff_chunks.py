"""Large re-check batches run in chunks (sync/rechecks.py): fewer tasks, the same ending for every item."""

from __future__ import annotations

from unittest import mock

from django.db import OperationalError
from django.test import override_settings

from stores.models import Store
from sync import rechecks, tasks
from sync.models import RecheckItem
from tests.base import make_store
from tests.sync.test_staff import StaffTestCase

Q4 = {"workers": 4, "timeout": 600}
Q1 = {"workers": 1, "timeout": 600}


class ChunkSizeTests(StaffTestCase):
    @override_settings(Q_CLUSTER=Q4)
    def test_small_batches_keep_one_task_per_store_big_ones_chunk_at_most_twenty(self) -> None:
        self.assertEqual(rechecks.chunk_size(2), 1)
        self.assertEqual(rechecks.chunk_size(31), 1)  # under 4 chunks per worker
        self.assertEqual(rechecks.chunk_size(200), 12)  # 17 chunks: 4 or more per worker
        self.assertEqual(rechecks.chunk_size(1000), rechecks.CHUNK_MAX)
        self.assertEqual(rechecks.chunk_size(100_000), rechecks.CHUNK_MAX)


@override_settings(Q_CLUSTER=Q1)
class ChunkedBatchTests(StaffTestCase):
    def setUp(self) -> None:
        super().setUp()
        for n in range(38):
            make_store(self.other_tenant, f"Chunk {n:02d}")
        self.stores = Store.objects.all()  # 40 stores

    def start(self) -> list[list[int]]:
        """Start a batch of every store; the chunks the fan-out enqueued."""
        with (
            mock.patch.object(rechecks, "DIRECT_ENQUEUE_LIMIT", 1),
            mock.patch("sync.rechecks.async_task") as fan,
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.batch = rechecks.start_batch(self.stores, self.staff, "test")
        fan.assert_called_once_with("sync.tasks.fan_out_batch", self.batch.pk, group=f"batch-{self.batch.pk}")
        with (
            mock.patch.object(rechecks, "CHUNK_MAX", 8),
            mock.patch("sync.rechecks.async_task") as enqueue,
            mock.patch("sync.jobs.async_task") as single,
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.assertEqual(tasks.fan_out_batch(self.batch.pk), 40)
        single.assert_not_called()
        calls = [c for c in enqueue.call_args_list if c.args[0] == "sync.tasks.recheck_items"]
        for c in calls:
            self.assertEqual(c.kwargs, {"group": f"batch-{self.batch.pk}", "save": False})
        return [c.args[1] for c in calls]

    def test_the_fan_out_enqueues_every_item_once_in_chunks(self) -> None:
        chunks = self.start()
        self.assertEqual([len(c) for c in chunks], [8] * 5)  # 40 // (1 worker × 4 chunks) = 10, capped at 8
        ids = [i for c in chunks for i in c]
        self.assertEqual(sorted(ids), sorted(self.batch.items.values_list("pk", flat=True)))

    def test_a_batch_of_few_chunks_enqueues_them_at_once_without_a_fan_out(self) -> None:
        with (
            mock.patch.object(rechecks, "CHUNK_MAX", 8),
            mock.patch("sync.rechecks.async_task") as enqueue,
            mock.patch("sync.jobs.async_task") as single,
        ):
            with self.captureOnCommitCallbacks(execute=False) as callbacks:
                batch = rechecks.start_batch(self.stores, self.staff, "test")
            enqueue.assert_not_called()  # only once the batch is committed
            for callback in callbacks:
                callback()
        single.assert_not_called()
        self.assertEqual([c.args[0] for c in enqueue.call_args_list], ["sync.tasks.recheck_items"] * 5)
        ids = sorted(i for c in enqueue.call_args_list for i in c.args[1])
        self.assertEqual(ids, sorted(batch.items.values_list("pk", flat=True)))

    def test_a_chunk_rechecks_each_item_and_a_second_delivery_checks_none_again(self) -> None:
        self.authorize("orders")
        chunks = self.start()
        with mock.patch("authorizations.grant_checks.recheck", return_value="ok") as recheck:
            outcomes = [tasks.recheck_items(c) for c in chunks]
            self.assertEqual(recheck.call_count, 1)  # only the main store has a grant
            self.assertEqual(tasks.recheck_items(chunks[0]), {"already_done": 8})
        self.assertEqual(sum(o.get("ok", 0) for o in outcomes), 40)
        d = rechecks.progress(self.batch)
        self.assertEqual((d["done"], d["nothing"], d["pending"], d["finished"]), (1, 39, 0, True))

    def test_a_crash_in_one_item_retries_that_item_alone(self) -> None:
        self.authorize("orders")
        chunks = self.start()
        main = self.batch.items.get(store=self.store)
        chunk = next(c for c in chunks if main.pk in c)
        boom = OperationalError("database is locked")
        with (
            mock.patch("authorizations.grant_checks.recheck", side_effect=boom),
            mock.patch("sync.jobs.enqueue_recheck") as later,
        ):
            outcomes = tasks.recheck_items(chunk)
        self.assertEqual(outcomes, {"already_done": 0, "retrying": 1, "ok": 7})
        later.assert_called_once()
        self.assertEqual(later.call_args.args[:2], (self.store.pk, main.pk))
        main.refresh_from_db()
        self.assertEqual(main.status, RecheckItem.Status.PENDING)
        self.assertEqual(self.batch.items.filter(pk__in=chunk, status=RecheckItem.Status.DONE).count(), 7)

    def test_a_chunk_past_half_the_task_timeout_continues_as_a_new_chunk(self) -> None:
        chunk = self.start()[0]
        clock = iter([0.0, 1.0, 400.0, 401.0])  # start, item 2 (in time), item 3 (past 300 s)
        with (
            mock.patch("sync.rechecks.monotonic", side_effect=lambda: next(clock)),
            mock.patch("sync.rechecks.async_task") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            outcomes = tasks.recheck_items(chunk)
        self.assertEqual(outcomes, {"already_done": 0, "ok": 2, "continued": 6})
        enqueue.assert_called_once_with(
            "sync.tasks.recheck_items", chunk[2:], group=f"batch-{self.batch.pk}", save=False
        )
        self.assertEqual(
            self.batch.items.filter(pk__in=chunk[2:], status=RecheckItem.Status.PENDING).count(), 6
        )
