"""The staff batch page: rows update with the progress, failures name the store, store names link to the store
(issue 22, item 5)."""

from __future__ import annotations

from unittest import mock

from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from sandbox import api as sandbox_api
from sync import tasks
from sync.models import RecheckBatch
from tests.base import make_store
from tests.sync.helpers import SyncTestCase


class StaffBatchRowsTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("orders")
        sandbox_api.revoke(self.seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
        self.eu = make_store(self.other_tenant, "Berlin shop", region="EU")
        self.staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)
        self.login(self.staff)
        with mock.patch("sync.jobs.async_task"):
            self.client.post(
                reverse("staff:staff_recheck"), {"store": [str(self.store.code), str(self.eu.code)]}
            )
        self.batch = RecheckBatch.objects.get()
        self.items = {i.store_id: i for i in self.batch.items.all()}

    def progress(self) -> dict[str, object]:
        ids = ",".join(str(i.pk) for i in self.items.values())
        url = reverse("staff:staff_batch_progress", args=[self.batch.code])
        data: dict[str, object] = self.client.get(f"{url}?items={ids}").json()
        return data

    def run_all(self) -> None:
        for item in self.items.values():
            tasks.recheck_store(item.store_id, item.pk)

    def test_the_progress_carries_the_rows_so_none_says_pending_once_finished(self) -> None:
        rows = {r["id"]: r for r in self.progress()["items"]}  # type: ignore[attr-defined]
        self.assertEqual({r["label"] for r in rows.values()}, {"Pending"})
        self.run_all()
        d = self.progress()
        self.assertTrue(d["finished"])
        rows = {r["id"]: r for r in d["items"]}  # type: ignore[attr-defined]
        self.assertEqual(rows[self.items[self.store.pk].pk]["label"], "Failed")
        self.assertEqual(rows[self.items[self.eu.pk].pk]["label"], "Nothing authorized")
        self.assertNotIn("Pending", {r["label"] for r in rows.values()})
        failed = rows[self.items[self.store.pk].pk]
        self.assertEqual(failed["problems"], [{"capability": "Order loading", "text": mock.ANY}])
        self.assertIn("revoked or has expired", failed["problems"][0]["text"])
        self.assertIn("Order loading: Needs re-authorization", [c["text"] for c in failed["capabilities"]])

    def test_failures_name_the_store_its_distributor_and_link_to_it(self) -> None:
        self.run_all()
        failures = self.progress()["failures"]
        self.assertEqual(len(failures), 1)  # type: ignore[arg-type]
        f = failures[0]  # type: ignore[index]
        self.assertEqual((f["store"], f["tenant"]), ("Main US store", "Alice Trading"))
        self.assertIn("revoked or has expired", f["problems"][0]["text"])
        page = self.client.get(f["url"])
        self.assertContains(page, "Main US store")
        self.assertNotContains(page, "Berlin shop")
        batch_page = self.client.get(reverse("staff:staff_batch", args=[self.batch.code]))
        self.assertContains(batch_page, 'data-testid="batch-failures"')
        self.assertContains(
            batch_page, f'<a href="{f["url"].replace("&", "&amp;")}">Main US store</a> (Alice Trading)'
        )

    def test_store_names_in_the_rows_are_links_to_the_store(self) -> None:
        page = self.client.get(reverse("staff:staff_batch", args=[self.batch.code]))
        self.assertContains(page, 'data-testid="batch-store">Main US store</a>')
        self.assertContains(page, 'data-testid="batch-store">Berlin shop</a>')

    def test_staff_who_may_see_stores_in_the_admin_get_the_admin_store_page(self) -> None:
        self.staff.user_permissions.add(Permission.objects.get(codename="view_store"))
        self.staff = User.objects.get(pk=self.staff.pk)
        page = self.client.get(reverse("staff:staff_batch", args=[self.batch.code]))
        self.assertContains(page, reverse("admin:stores_store_change", args=[self.store.pk]))

    def test_bad_item_ids_in_the_poll_are_ignored(self) -> None:
        url = reverse("staff:staff_batch_progress", args=[self.batch.code])
        r = self.client.get(f"{url}?items=abc,-1,,99999999999999999999")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["items"], [])
