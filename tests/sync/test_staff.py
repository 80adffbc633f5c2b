from __future__ import annotations

from unittest import mock

from django.conf import settings
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from stores.models import Store
from sync import rechecks, tasks
from sync.models import RecheckBatch, RecheckItem
from tests.base import make_store
from tests.sync.helpers import SyncTestCase

URL = reverse("staff:staff_stores")
RECHECK = reverse("staff:staff_recheck")


class StaffTestCase(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)
        self.eu = make_store(self.other_tenant, "Berlin shop", region="EU")
        self.login(self.staff)

    def set_status(self, store: Store, capability: str, status: str) -> None:
        Authorization.objects.filter(store=store, capability=capability).update(status=status)


class StaffPageTests(StaffTestCase):
    def test_staff_see_every_store_of_every_tenant(self) -> None:
        r = self.client.get(URL)
        self.assertContains(r, "Main US store")
        self.assertContains(r, "Berlin shop")
        self.assertContains(r, "Charlie Imports")

    def test_anonymous_users_are_sent_to_the_login_page(self) -> None:
        self.client.logout()
        r = self.client.get(URL)
        self.assertEqual(r.status_code, 302)
        self.assertIn(reverse("account_login"), r["Location"])

    def test_users_who_are_not_staff_get_404_on_every_staff_url(self) -> None:
        batch = RecheckBatch.objects.create(total=0)
        self.login(self.alice)
        self.assertEqual(self.client.get(URL).status_code, 404)
        self.assertEqual(self.client.post(RECHECK, {"all_matching": "1"}).status_code, 404)
        self.assertEqual(self.client.get(reverse("staff:staff_batch", args=[batch.code])).status_code, 404)
        self.assertEqual(
            self.client.get(reverse("staff:staff_batch_progress", args=[batch.code])).status_code, 404
        )
        self.assertFalse(RecheckItem.objects.exists())

    def test_filters_by_region_tenant_status_and_capability(self) -> None:
        self.set_status(self.store, "orders", AuthStatus.NEEDS_REAUTHORIZATION)
        Store.objects.filter(pk=self.eu.pk).update(authorization_status="partial")
        cases = [
            ({"region": "EU"}, ["Berlin shop"]),
            ({"tenant": str(self.tenant.code)}, ["Main US store"]),
            ({"status": "partial"}, ["Berlin shop"]),
            ({"capability": "orders", "cap_status": "needs_reauthorization"}, ["Main US store"]),
            ({"capability": "listings", "cap_status": "needs_reauthorization"}, []),
            ({"q": "charlie"}, ["Berlin shop"]),
            ({"q": "berlin"}, ["Berlin shop"]),
            ({"region": "XX"}, ["Main US store", "Berlin shop"]),
        ]
        for params, names in cases:
            page = self.client.get(URL, params).context["page"]
            self.assertEqual(sorted(s.nickname for s in page.object_list), sorted(names), params)

    def test_search_finds_a_store_by_seller_id(self) -> None:
        Store.objects.filter(pk=self.eu.pk).update(selling_partner_id="A2SELLERXYZ")
        page = self.client.get(URL, {"q": "sellerxyz"}).context["page"]
        self.assertEqual([s.nickname for s in page.object_list], ["Berlin shop"])

    def test_archived_stores_show_only_when_asked(self) -> None:
        Store.objects.filter(pk=self.eu.pk).update(archived_at="2026-01-01T00:00:00Z")
        self.assertNotContains(self.client.get(URL), "Berlin shop")
        self.assertContains(self.client.get(URL, {"archived": "1"}), "Berlin shop")

    def test_the_page_costs_the_same_queries_for_5_or_50_stores(self) -> None:
        def queries() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(URL).status_code, 200)
            return len(ctx.captured_queries)

        few = queries()
        for n in range(48):
            make_store(self.tenant if n % 2 else self.other_tenant, f"Shop {n}")
        self.assertEqual(queries(), few)

    def test_pages_hold_50_stores(self) -> None:
        for n in range(55):
            make_store(self.tenant, f"Shop {n}")
        r = self.client.get(URL)
        self.assertEqual(len(r.context["page"].object_list), settings.SYNC_ROWS_PER_PAGE)
        self.assertEqual(len(self.client.get(URL, {"page": 2}).context["page"].object_list), 7)


class RecheckBatchTests(StaffTestCase):
    def test_rechecking_selected_stores_creates_a_batch_and_one_task_per_store_after_commit(self) -> None:
        with mock.patch("sync.jobs.async_task") as enqueue:
            with self.captureOnCommitCallbacks(execute=False) as callbacks:
                r = self.client.post(RECHECK, {"store": [str(self.store.code), str(self.eu.code)]})
            enqueue.assert_not_called()
            for callback in callbacks:
                callback()
        batch = RecheckBatch.objects.get()
        self.assertRedirects(r, reverse("staff:staff_batch", args=[batch.code]))
        self.assertEqual(batch.total, 2)
        self.assertEqual(batch.created_by, self.staff)
        self.assertEqual(enqueue.call_count, 2)
        store_ids = sorted(c.args[1] for c in enqueue.call_args_list)
        self.assertEqual(store_ids, sorted([self.store.pk, self.eu.pk]))
        self.assertEqual({c.args[0] for c in enqueue.call_args_list}, {"sync.tasks.recheck_store"})

    def test_all_matching_the_filter_rechecks_every_matching_store_not_only_the_page(self) -> None:
        for n in range(60):
            make_store(self.other_tenant, f"EU {n}", region="EU")
        with mock.patch("sync.jobs.async_task"):
            self.client.post(RECHECK, {"all_matching": "1", "region": "EU"})
        batch = RecheckBatch.objects.get()
        self.assertEqual(batch.total, 61)
        self.assertFalse(batch.items.filter(store=self.store).exists())

    def test_an_empty_selection_changes_nothing(self) -> None:
        r = self.client.post(RECHECK, {"store": ["not-a-uuid"]})
        self.assertEqual(r.status_code, 302)
        self.assertFalse(RecheckBatch.objects.exists())

    def test_progress_counts_done_failed_and_pending_and_summarises_reasons(self) -> None:
        self.authorize("orders")
        self.login(self.staff)
        with mock.patch("sync.jobs.async_task"):
            self.client.post(RECHECK, {"store": [str(self.store.code), str(self.eu.code)]})
        batch = RecheckBatch.objects.get()
        progress_url = reverse("staff:staff_batch_progress", args=[batch.code])
        self.assertEqual(self.client.get(progress_url).json()["pending"], 2)
        for item in batch.items.all():
            self.assertIn(tasks.recheck_store(item.store_id, item.pk), ("ok", "failed"))
        d = self.client.get(progress_url).json()
        # The EU store has nothing authorized: it is "nothing to check", not "works".
        self.assertEqual(
            (d["total"], d["done"], d["nothing"], d["failed"], d["pending"], d["finished"]),
            (2, 1, 1, 0, 0, True),
        )
        page = self.client.get(reverse("staff:staff_batch", args=[batch.code]))
        self.assertContains(page, "Finished.")
        self.assertContains(page, "Nothing authorized")
        self.assertContains(page, "Authorization works")

    def test_a_recheck_task_that_crashes_is_retried_then_counted_as_failed_never_left_pending(self) -> None:
        self.authorize("orders")
        batch = rechecks.start_batch(Store.objects.filter(pk=self.store.pk), self.staff, "test")
        item = batch.items.get()
        boom = OperationalError("database is locked")
        with (
            mock.patch("authorizations.grant_checks.recheck", side_effect=boom),
            mock.patch("sync.jobs.enqueue_recheck") as later,
        ):
            self.assertEqual(tasks.recheck_store(self.store.pk, item.pk), "retrying")
            self.assertEqual(tasks.recheck_store(self.store.pk, item.pk), "retrying")
            self.assertEqual(later.call_count, 2)
            self.assertEqual(tasks.recheck_store(self.store.pk, item.pk), "failed")
        item.refresh_from_db()
        self.assertEqual(item.status, RecheckItem.Status.FAILED)
        d = rechecks.progress(batch)
        self.assertEqual((d["pending"], d["failed"], d["finished"]), (0, 1, True))
        self.assertEqual(d["reasons"][0]["code"], "task_error")

    def test_a_revoked_store_fails_the_recheck_and_needs_reauthorization(self) -> None:
        self.authorize("orders")
        sandbox_api.revoke(self.seller.selling_partner_id, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
        batch = rechecks.start_batch(Store.objects.filter(pk=self.store.pk), self.staff, "test")
        item = batch.items.get()
        self.assertEqual(tasks.recheck_store(self.store.pk, item.pk), "failed")
        item.refresh_from_db()
        self.assertEqual(item.status, RecheckItem.Status.FAILED)
        self.assertEqual(item.results, {"orders": "revoked"})
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status,
            AuthStatus.NEEDS_REAUTHORIZATION,
        )
        d = rechecks.progress(batch)
        self.assertEqual(d["reasons"][0]["code"], "revoked")
        self.assertEqual(d["reasons"][0]["count"], 1)

    def test_a_recheck_task_delivered_twice_checks_once(self) -> None:
        self.authorize("orders")
        batch = rechecks.start_batch(Store.objects.filter(pk=self.store.pk), self.staff, "test")
        item = batch.items.get()
        with mock.patch("authorizations.grant_checks.recheck", return_value="ok") as recheck:
            self.assertEqual(tasks.recheck_store(self.store.pk, item.pk), "ok")
            self.assertEqual(tasks.recheck_store(self.store.pk, item.pk), "already_done")
        recheck.assert_called_once()

    def test_an_empty_participations_bucket_reschedules_the_recheck(self) -> None:
        from django.utils import timezone
        from django_q.models import Schedule

        from sync.models import RateBucket

        self.authorize("orders")
        RateBucket.objects.create(
            selling_partner_id=self.seller.selling_partner_id,
            application="orders",
            operation="getMarketplaceParticipations",
            rate=0.016,
            burst=15,
            tokens=0.0,
            updated_at=timezone.now(),
        )
        batch = rechecks.start_batch(Store.objects.filter(pk=self.store.pk), self.staff, "test")
        item = batch.items.get()
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.recheck_store(self.store.pk, item.pk), "rate_limited")
        self.assertTrue(Schedule.objects.filter(func="sync.tasks.recheck_store").exists())
        item.refresh_from_db()
        self.assertEqual(item.status, RecheckItem.Status.PENDING)

    def test_large_batches_are_fanned_out_by_a_task(self) -> None:
        with (
            mock.patch.object(rechecks, "DIRECT_ENQUEUE_LIMIT", 1),
            mock.patch("sync.rechecks.async_task") as fan,
            self.captureOnCommitCallbacks(execute=True),
        ):
            batch = rechecks.start_batch(Store.objects.all(), self.staff, "test")
        fan.assert_called_once_with("sync.tasks.fan_out_batch", batch.pk, group=f"batch-{batch.pk}")
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.fan_out_batch(batch.pk), 2)
        self.assertEqual(enqueue.call_count, 2)

    def test_the_daily_recheck_enqueues_every_store_with_an_authorized_capability(self) -> None:
        self.authorize("orders")
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.recheck_all(), 1)
        self.assertEqual(enqueue.call_args.args, ("sync.tasks.recheck_store", self.store.pk, None))
        self.assertEqual(tasks.recheck_store(self.store.pk), "ok")


class AdminActionTests(StaffTestCase):
    def test_the_admin_action_rechecks_the_selected_stores(self) -> None:
        admin = User.objects.create_superuser(email="root@example.org", password="x")
        self.login(admin)
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(
                reverse("admin:stores_store_changelist"),
                {"action": "recheck_authorizations", "_selected_action": [self.store.pk, self.eu.pk]},
                follow=True,
            )
        self.assertContains(r, "follow the progress")
        batch = RecheckBatch.objects.get()
        self.assertEqual((batch.source, batch.total), ("admin", 2))
        self.assertEqual(enqueue.call_count, 2)
