"""After a push: getListingsItem confirms per SKU whether Amazon applied the accepted quantity.

The sandbox's clock is frozen, and an accepted patch shows at the sandbox only PROCESSING_DELAY of virtual time later,
so a read-back before `advance_clock` sees what Amazon showed before the push.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from amazon import listings as api
from sandbox import api as sandbox_api
from sandbox import spapi as sandbox_spapi
from sandbox.models import SandboxListing
from sync import inventory, tasks
from sync.models import PlatformStock, SkuMapping
from tests.sync.helpers import US, SyncTestCase

PROCESSED = sandbox_spapi.PROCESSING_DELAY.total_seconds() + 1
Confirmation = SkuMapping.Confirmation
QUANTITY_ISSUE = {
    "code": "8560",
    "message": "The quantity for this SKU could not be updated.",
    "severity": "ERROR",
    "attributeNames": ["fulfillment_availability"],
    "categories": ["INVALID_ATTRIBUTE"],
}


def listing(quantity: int | None, *issues: api.Issue) -> api.Listing:
    return api.Listing(sku="S", quantity=quantity, issues=tuple(issues), rate_limit=None)


def issue(severity: str = "ERROR", *names: str) -> api.Issue:
    return api.Issue(code="1", message=f"{severity} issue", severity=severity, attribute_names=names)


class VerdictTests(SyncTestCase):
    def test_the_quantity_amazon_shows_decides(self) -> None:
        self.assertEqual(inventory.verdict(5, listing(5), 1), (Confirmation.APPLIED, ""))
        self.assertEqual(inventory.verdict(5, listing(3), 1), (Confirmation.PENDING, ""))
        self.assertEqual(inventory.verdict(5, listing(None), 1), (Confirmation.PENDING, ""))

    def test_error_issues_about_the_quantity_reject_it(self) -> None:
        for blocking in (issue("ERROR", "fulfillment_availability"), issue("ERROR")):
            self.assertEqual(
                inventory.verdict(5, listing(3, blocking), 1), (Confirmation.REJECTED, "ERROR issue")
            )
        # A warning, or an error about another attribute, does not explain a quantity.
        for other in (issue("WARNING", "fulfillment_availability"), issue("ERROR", "item_name")):
            self.assertEqual(inventory.verdict(5, listing(3, other), 1), (Confirmation.PENDING, ""))
        # Applied, with Amazon's errors still shown.
        self.assertEqual(
            inventory.verdict(5, listing(5, issue("ERROR")), 1), (Confirmation.APPLIED, "ERROR issue")
        )

    def test_a_listing_amazon_never_shows_is_rejected_at_the_last_check_only(self) -> None:
        last = len(inventory.CONFIRM_AFTER)
        self.assertEqual(inventory.verdict(5, None, last - 1)[0], Confirmation.PENDING)
        self.assertEqual(inventory.verdict(5, None, last)[0], Confirmation.REJECTED)
        self.assertEqual(inventory.verdict(5, listing(3), last)[0], Confirmation.PENDING)


class ConfirmationTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("listings")
        self.store.refresh_from_db()
        self.seller_id = self.seller.selling_partner_id
        self.mapping = SkuMapping.objects.create(
            store=self.store, platform_sku="P-1", seller_sku="AMZ-1", marketplace_id=US
        )

    def stock(self, quantity: int) -> None:
        PlatformStock.objects.update_or_create(
            tenant=self.tenant, platform_sku="P-1", defaults={"quantity": quantity}
        )

    def push(self, quantity: int) -> None:
        self.stock(quantity)
        self.assertEqual(tasks.push_inventory(self.store.pk), "done")

    def confirm(self) -> SkuMapping:
        """Run the confirmation as if its read-back were due now."""
        SkuMapping.objects.filter(pk=self.mapping.pk, confirm_at__isnull=False).update(
            confirm_at=timezone.now() - timedelta(seconds=1)
        )
        tasks.confirm_listings(self.store.pk)
        return SkuMapping.objects.get(pk=self.mapping.pk)

    def listing_requests(self, method: str) -> list[Any]:
        return [
            c.request
            for c in self.rsps.calls
            if c.request.method == method
            and "/listings/2021-08-01/items/" in (c.request.url or "")
            and urlsplit(c.request.url).path.endswith("/AMZ-1")
        ]

    def test_an_accepted_quantity_is_pending_and_its_read_back_is_scheduled(self) -> None:
        self.stock(7)
        with self.captureOnCommitCallbacks(execute=True):
            tasks.push_inventory(self.store.pk)
        m = SkuMapping.objects.get(pk=self.mapping.pk)
        self.assertEqual(m.confirmation, Confirmation.PENDING)
        assert m.pushed_at is not None and m.confirm_at is not None
        self.assertEqual(m.confirm_at, m.pushed_at + inventory.CONFIRM_AFTER[0])
        schedule = Schedule.objects.get(name=f"listings-confirm-{self.store.pk}-resume")
        self.assertEqual(schedule.func, "sync.tasks.confirm_listings")
        self.assertEqual(schedule.next_run, m.confirm_at)

    def test_a_read_back_before_amazon_processed_the_patch_is_pending_then_applied(self) -> None:
        self.push(7)
        m = self.confirm()  # a new SKU: Amazon has no listing yet
        self.assertEqual(
            (m.confirmation, m.amazon_quantity, m.confirmation_checks), (Confirmation.PENDING, None, 1)
        )
        self.assertIn("AMZ-1", m.confirmation_detail)
        self.assertIsNotNone(m.confirm_at)
        sandbox_api.advance_clock(PROCESSED)
        m = self.confirm()
        self.assertEqual((m.confirmation, m.amazon_quantity), (Confirmation.APPLIED, 7))
        self.assertIsNone(m.confirm_at)
        self.assertEqual(tasks.confirm_listings(self.store.pk), "nothing_due")

    def test_a_changed_quantity_shows_the_old_one_until_amazon_applied_it(self) -> None:
        self.push(5)
        sandbox_api.advance_clock(PROCESSED)
        self.assertEqual(self.confirm().confirmation, Confirmation.APPLIED)
        self.push(9)
        m = self.confirm()
        self.assertEqual((m.confirmation, m.amazon_quantity), (Confirmation.PENDING, 5))
        sandbox_api.advance_clock(PROCESSED)
        m = self.confirm()
        self.assertEqual((m.confirmation, m.amazon_quantity), (Confirmation.APPLIED, 9))

    def test_the_read_back_asks_for_issues_and_availability_in_english(self) -> None:
        self.push(3)
        self.confirm()
        [patch] = self.listing_requests("PATCH")
        [get] = self.listing_requests("GET")
        self.assertEqual(parse_qs(urlsplit(patch.url).query)["issueLocale"], ["en_US"])
        query = parse_qs(urlsplit(get.url).query)
        self.assertEqual(query["issueLocale"], ["en_US"])
        self.assertEqual(query["marketplaceIds"], [US])
        self.assertEqual(query["includedData"], ["issues,fulfillmentAvailability"])

    def test_amazons_error_issues_reject_the_quantity_and_the_next_push_sends_it_again(self) -> None:
        self.push(3)
        sandbox_api.advance_clock(PROCESSED)
        self.assertEqual(self.confirm().confirmation, Confirmation.APPLIED)
        self.push(4)
        SandboxListing.objects.filter(sku="AMZ-1").update(issues=[QUANTITY_ISSUE])
        m = self.confirm()
        self.assertEqual(m.confirmation, Confirmation.REJECTED)
        self.assertEqual(m.confirmation_detail, QUANTITY_ISSUE["message"])
        self.assertIsNone(m.confirm_at)
        self.assertEqual([q for _m, q in inventory.changed(self.store)], [4])
        SandboxListing.objects.filter(sku="AMZ-1").update(issues=[])
        self.assertEqual(tasks.push_inventory(self.store.pk), "done")
        self.assertEqual(SkuMapping.objects.get(pk=self.mapping.pk).confirmation, Confirmation.PENDING)

    def test_checks_spread_out_and_stop_after_the_last(self) -> None:
        self.push(6)
        for n in range(1, len(inventory.CONFIRM_AFTER) + 1):
            m = self.confirm()
            self.assertEqual(m.confirmation_checks, n)
            if n < len(inventory.CONFIRM_AFTER):
                assert m.pushed_at is not None
                self.assertEqual(m.confirm_at, max(m.pushed_at + inventory.CONFIRM_AFTER[n], m.checked_at))
        # Amazon never showed the new listing: rejected with Amazon's own 404 message.
        self.assertEqual((m.confirmation, m.confirm_at), (Confirmation.REJECTED, None))
        self.assertIn("not found", m.confirmation_detail)

    def test_a_newer_push_is_not_overwritten_by_an_older_read_back(self) -> None:
        self.push(2)
        stale = SkuMapping.objects.get(pk=self.mapping.pk)
        self.push(3)
        sandbox_api.advance_clock(PROCESSED)
        inventory._record(stale, listing(2), "")
        m = SkuMapping.objects.get(pk=self.mapping.pk)
        self.assertEqual(
            (m.pushed_quantity, m.confirmation, m.confirmation_checks), (3, Confirmation.PENDING, 0)
        )

    def test_a_server_error_postpones_the_sku_without_counting_a_check(self) -> None:
        self.push(2)
        sandbox_api.set_fault("listings", "http500")
        m = self.confirm()
        self.assertEqual((m.confirmation, m.confirmation_checks), (Confirmation.PENDING, 0))
        assert m.confirm_at is not None
        self.assertGreater(m.confirm_at, timezone.now())

    def test_no_read_back_without_an_authorized_listings_grant(self) -> None:
        from django.conf import settings

        self.push(2)
        sandbox_api.revoke(self.seller_id, settings.AMAZON_SPAPI_APPS["listings"]["app_id"])
        SkuMapping.objects.update(confirm_at=timezone.now() - timedelta(seconds=1))
        self.assertEqual(tasks.confirm_listings(self.store.pk), "revoked")
        self.assertEqual(tasks.confirm_listings(self.store.pk), "not_authorized")
        self.assertEqual(SkuMapping.objects.get(pk=self.mapping.pk).confirmation, Confirmation.PENDING)

    def test_the_inventory_page_shows_amazons_answer_per_sku(self) -> None:
        other = SkuMapping.objects.create(
            store=self.store, platform_sku="P-2", seller_sku="AMZ-2", marketplace_id=US
        )
        PlatformStock.objects.create(tenant=self.tenant, platform_sku="P-2", quantity=1)
        self.push(8)
        sandbox_api.advance_clock(PROCESSED)
        SkuMapping.objects.update(confirm_at=timezone.now() - timedelta(seconds=1))
        tasks.confirm_listings(self.store.pk)
        PlatformStock.objects.filter(platform_sku="P-2").update(quantity=2)
        self.push(9)  # both change; Amazon still shows 8 and 1 (its clock has not moved)
        SandboxListing.objects.filter(sku="AMZ-2").update(issues=[QUANTITY_ISSUE])
        SkuMapping.objects.update(confirm_at=timezone.now() - timedelta(seconds=1))
        tasks.confirm_listings(self.store.pk)
        self.assertEqual(SkuMapping.objects.get(pk=other.pk).confirmation, Confirmation.REJECTED)
        self.login(self.vera)
        r = self.client.get(reverse("sync:inventory", args=[self.store.code]))
        self.assertContains(r, f'data-testid="confirmation-{self.mapping.pk}"')
        self.assertContains(r, "Waiting for Amazon")
        self.assertContains(r, "Amazon still shows 8.")
        self.assertContains(r, "Rejected by Amazon")
        self.assertContains(r, QUANTITY_ISSUE["message"])
        sandbox_api.advance_clock(PROCESSED)
        self.confirm()
        r = self.client.get(reverse("sync:inventory", args=[self.store.code]))
        self.assertContains(r, "Applied by Amazon")
