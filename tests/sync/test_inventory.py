from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from sync import tasks
from sync.models import InventoryPush, InventoryPushItem, PlatformStock, RateBucket, SkuMapping
from tests.sync.helpers import CA, US, SyncTestCase

MX = "A1AM78C64UM0Y8"


class InventoryPushTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("listings")
        self.store.refresh_from_db()
        self.seller_id = self.seller.selling_partner_id

    def map(self, platform_sku: str, seller_sku: str, marketplace_id: str = US) -> SkuMapping:
        return SkuMapping.objects.create(
            store=self.store, platform_sku=platform_sku, seller_sku=seller_sku, marketplace_id=marketplace_id
        )

    def stock(self, platform_sku: str, quantity: int) -> None:
        PlatformStock.objects.update_or_create(
            tenant=self.tenant, platform_sku=platform_sku, defaults={"quantity": quantity}
        )

    def test_changed_quantities_reach_amazon_and_are_recorded_per_sku(self) -> None:
        self.map("P-1", "AMZ-1")
        self.map("P-1", "AMZ-1", CA)
        self.map("P-2", "AMZ-2")
        self.stock("P-1", 7)
        self.stock("P-2", 0)
        self.assertEqual(tasks.push_inventory(self.store.pk), "done")
        self.assertEqual(sandbox_api.listing_quantity(self.seller_id, "AMZ-1", US), 7)
        self.assertEqual(sandbox_api.listing_quantity(self.seller_id, "AMZ-1", CA), 7)
        self.assertEqual(sandbox_api.listing_quantity(self.seller_id, "AMZ-2", US), 0)
        push = InventoryPush.objects.get()
        self.assertEqual((push.sent, push.failed), (3, 0))
        self.assertEqual(push.items.filter(status="accepted").count(), 3)
        self.assertEqual(RateBucket.objects.get(operation="patchListingsItem").rate, 5.0)

    def test_the_push_merges_the_quantity_and_keeps_lead_time_and_restock_date(self) -> None:
        # "Merge a listing" (Amazon): a merge of fulfillment_availability with the DEFAULT selector and the quantity
        # leaves lead_time_to_ship_max_days and restock_date as they are; the old `replace` wiped them.
        import json
        from datetime import date
        from urllib.parse import parse_qs, urlsplit

        from jsonschema import Draft4Validator

        from sandbox.models import SandboxListing
        from tests.sandbox.helpers import _registry

        self.map("P-1", "AMZ-1")
        self.stock("P-1", 7)
        SandboxListing.objects.create(
            seller=self.seller,
            sku="AMZ-1",
            marketplace_id=US,
            product_type="PRODUCT",
            quantity=2,
            lead_time_to_ship_max_days=4,
            restock_date=date(2031, 3, 1),
            updated=sandbox_api.now(),
        )
        self.assertEqual(tasks.push_inventory(self.store.pk), "done")
        listing = SandboxListing.objects.get(sku="AMZ-1")
        self.assertEqual(
            (listing.quantity, listing.lead_time_to_ship_max_days, listing.restock_date),
            (7, 4, date(2031, 3, 1)),
        )
        [patch] = [c.request for c in self.rsps.calls if c.request.method == "PATCH"]
        body = json.loads(patch.body)
        self.assertEqual(
            body["patches"],
            [
                {
                    "op": "merge",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
                }
            ],
        )
        schema = {"$ref": "listingsItems_2021-08-01.json#/definitions/ListingsItemPatchRequest"}
        self.assertEqual(list(Draft4Validator(schema, registry=_registry()).iter_errors(body)), [])
        query = parse_qs(urlsplit(patch.url).query)
        self.assertEqual((query["marketplaceIds"], query["issueLocale"]), ([US], ["en_US"]))

    def test_a_second_push_sends_only_what_changed_since(self) -> None:
        self.map("P-1", "AMZ-1")
        self.map("P-2", "AMZ-2")
        self.stock("P-1", 7)
        self.stock("P-2", 3)
        tasks.push_inventory(self.store.pk)
        self.assertEqual(tasks.push_inventory(self.store.pk), "nothing_to_push")
        self.stock("P-2", 4)
        self.assertEqual(tasks.push_inventory(self.store.pk), "done")
        last = InventoryPush.objects.first()
        assert last is not None
        self.assertEqual(list(last.items.values_list("seller_sku", flat=True)), ["AMZ-2"])
        self.assertEqual(sandbox_api.listing_quantity(self.seller_id, "AMZ-2", US), 4)

    def test_a_refused_sku_is_recorded_and_the_others_are_still_pushed(self) -> None:
        self.map("P-1", "AMZ-BAD", MX)  # the seller does not sell in Mexico
        self.map("P-2", "AMZ-2")
        self.stock("P-1", 1)
        self.stock("P-2", 2)
        self.assertEqual(tasks.push_inventory(self.store.pk), "partial")
        failed = InventoryPushItem.objects.get(status="failed")
        self.assertEqual(failed.seller_sku, "AMZ-BAD")
        self.assertIn("invalid", failed.error)
        self.assertEqual(sandbox_api.listing_quantity(self.seller_id, "AMZ-2", US), 2)
        # The failed SKU is still "changed", so the next push tries it again.
        self.assertEqual(SkuMapping.objects.get(seller_sku="AMZ-BAD").pushed_quantity, None)

    def test_the_rate_limit_spaces_pushes_beyond_the_burst(self) -> None:
        # Amazon's bucket refills in real time here, as ours does.
        sandbox_api.set_time_scale(1)
        for n in range(7):
            self.map(f"P-{n}", f"AMZ-{n}")
            self.stock(f"P-{n}", n)
        self.assertEqual(tasks.push_inventory(self.store.pk), "done")
        self.assertEqual(InventoryPushItem.objects.filter(status="accepted").count(), 7)

    def test_a_revoked_listing_authorization_stops_the_push_and_needs_reauthorization(self) -> None:
        from django.conf import settings

        self.map("P-1", "AMZ-1")
        self.stock("P-1", 5)
        sandbox_api.revoke(self.seller_id, settings.AMAZON_SPAPI_APPS["listings"]["app_id"])
        self.assertEqual(tasks.push_inventory(self.store.pk), "stopped")
        auth = Authorization.objects.get(store=self.store, capability="listings")
        self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertEqual(tasks.push_inventory(self.store.pk), "not_authorized")

    def test_a_429_storm_stops_the_push_and_schedules_the_rest(self) -> None:
        from django_q.models import Schedule

        self.map("P-1", "AMZ-1")
        self.stock("P-1", 5)
        sandbox_api.set_fault("listings", "storm429")
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.push_inventory(self.store.pk), "stopped")
        self.assertEqual(InventoryPush.objects.get().error, "throttled")
        self.assertTrue(Schedule.objects.filter(name=f"inventory-{self.store.pk}-resume").exists())
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="listings").status, "authorized"
        )
        sandbox_api.clear_faults()
        RateBucket.objects.update(tokens=5.0)
        self.assertEqual(tasks.push_inventory(self.store.pk), "done")
        self.assertEqual(sandbox_api.listing_quantity(self.seller_id, "AMZ-1", US), 5)

    def test_the_schedule_enqueues_stores_with_mappings_only(self) -> None:
        from unittest import mock

        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.push_inventory_all(), 0)
            self.map("P-1", "AMZ-1")
            self.assertEqual(tasks.push_inventory_all(), 1)
        self.assertEqual(enqueue.call_args.args, ("sync.tasks.push_inventory", self.store.pk))


class InventoryPageTests(SyncTestCase):
    def url(self, name: str = "sync:inventory") -> str:
        return reverse(name, args=[self.store.code])

    def upload(self, name: str, content: bytes) -> object:
        return self.client.post(self.url(name), {"file": SimpleUploadedFile("f.csv", content, "text/csv")})

    def test_members_and_viewers_see_the_page_and_outsiders_get_404(self) -> None:
        for user, status in ((self.alice, 200), (self.vera, 200), (self.charlie, 404)):
            self.login(user)
            self.assertEqual(self.client.get(self.url()).status_code, status, user)

    def test_a_viewer_cannot_change_mappings(self) -> None:
        self.login(self.vera)
        r = self.client.post(
            self.url("sync:mapping_add"), {"platform_sku": "P", "seller_sku": "S", "marketplace_id": US}
        )
        self.assertEqual(r.status_code, 403)
        self.assertEqual(
            self.upload("sync:mapping_upload", b"platform_sku,seller_sku,site\nP,S,US\n").status_code, 403
        )
        self.assertFalse(SkuMapping.objects.exists())

    def test_an_outsider_cannot_post_either(self) -> None:
        self.login(self.charlie)
        r = self.client.post(
            self.url("sync:mapping_add"), {"platform_sku": "P", "seller_sku": "S", "marketplace_id": US}
        )
        self.assertEqual(r.status_code, 404)

    def test_the_form_adds_a_mapping_for_one_of_the_store_sites(self) -> None:
        self.login(self.bob)
        r = self.client.post(
            self.url("sync:mapping_add"), {"platform_sku": "P", "seller_sku": "S", "marketplace_id": US}
        )
        self.assertRedirects(r, self.url())
        self.assertTrue(
            SkuMapping.objects.filter(store=self.store, seller_sku="S", marketplace_id=US).exists()
        )
        r = self.client.post(
            self.url("sync:mapping_add"), {"platform_sku": "P", "seller_sku": "S", "marketplace_id": MX}
        )
        self.assertEqual(r.status_code, 400)

    def test_a_csv_upload_saves_good_rows_and_lists_each_bad_row(self) -> None:
        self.login(self.alice)
        csv = b"platform_sku,seller_sku,site\nP-1,AMZ-1,US\nP-2,,US\nP-3,AMZ-3,DE\nP-4,AMZ-4,CA\n"
        r = self.upload("sync:mapping_upload", csv)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Line 3")
        self.assertContains(r, "Line 4")
        self.assertEqual(set(SkuMapping.objects.values_list("seller_sku", flat=True)), {"AMZ-1", "AMZ-4"})

    def test_bad_files_are_refused_with_a_message_not_a_crash(self) -> None:
        self.login(self.alice)
        cases = [
            b"\xff\xfe\x00garbage",
            b"sku;qty\nA;1\n",
            b"platform_sku,seller_sku,site\n" + b"x" * (1024 * 1024),
            b'platform_sku,seller_sku,site\n"unterminated,AMZ,US\n',
        ]
        for content in cases:
            r = self.upload("sync:mapping_upload", content)
            self.assertIn(r.status_code, (200, 302), content[:20])
        self.assertFalse(SkuMapping.objects.filter(seller_sku="AMZ").exists())

    def test_a_stock_csv_sets_platform_quantities_of_the_tenant(self) -> None:
        self.login(self.alice)
        r = self.upload("sync:stock_upload", b"platform_sku,quantity\nP-1,5\nP-2,-1\nP-3,abc\n")
        self.assertContains(r, "Line 3")
        self.assertContains(r, "Line 4")
        self.assertEqual(dict(PlatformStock.objects.values_list("platform_sku", "quantity")), {"P-1": 5})
        self.assertEqual(PlatformStock.objects.get().tenant, self.tenant)
