""" "Push changed quantities now" refuses, with the reason and the action, when no push can run (issue 22, item 3)."""

from __future__ import annotations

from unittest import mock

from django.conf import settings
from django.urls import reverse

from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from sync import tasks
from sync.models import PlatformStock, SkuMapping
from tests.sync.helpers import US, SyncTestCase


class PushRefusedTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("listings")
        SkuMapping.objects.create(store=self.store, platform_sku="P-1", seller_sku="AMZ-1", marketplace_id=US)
        PlatformStock.objects.create(tenant=self.tenant, platform_sku="P-1", quantity=5)

    def push_now(self) -> object:
        with mock.patch("sync.jobs.enqueue_inventory_push") as enqueue:
            r = self.client.post(reverse("sync:push_now", args=[self.store.code]), follow=True)
        self.enqueued = enqueue.call_count
        return r

    def test_a_listing_sync_needing_reauthorization_refuses_the_push_with_the_reason_and_a_link(self) -> None:
        sandbox_api.revoke(self.seller.selling_partner_id, settings.AMAZON_SPAPI_APPS["listings"]["app_id"])
        # The scheduled push finds the revoke.
        self.assertEqual(tasks.push_inventory(self.store.pk), "stopped")
        r = self.push_now()
        self.assertEqual(self.enqueued, 0)
        self.assertNotContains(r, "The inventory push was started")
        self.assertContains(r, "Nothing was pushed.")
        self.assertContains(r, "Listing/inventory sync needs re-authorization")
        self.assertContains(r, "revoked or has expired")
        self.assertContains(r, 'data-testid="push-refused"')
        self.assertContains(r, reverse("authorizations:start", args=[self.store.code, "listings"]))

    def test_a_listing_sync_that_was_never_authorized_refuses_with_authorize(self) -> None:
        Authorization.objects.filter(store=self.store, capability="listings").update(
            status=AuthStatus.NOT_AUTHORIZED, refresh_token_encrypted=""
        )
        r = self.push_now()
        self.assertEqual(self.enqueued, 0)
        self.assertNotContains(r, "The inventory push was started")
        self.assertContains(r, "Listing/inventory sync is not authorized")
        self.assertContains(r, "Authorize listing/inventory sync")

    def test_a_disabled_listing_sync_refuses_with_enable(self) -> None:
        self.client.post(
            reverse("authorizations:lifecycle_apply", args=[self.store.code, "listings", "disable"])
        )
        r = self.push_now()
        self.assertEqual(self.enqueued, 0)
        self.assertContains(r, "Listing/inventory sync is disabled")
        self.assertContains(
            r, reverse("authorizations:lifecycle_confirm", args=[self.store.code, "listings", "enable"])
        )

    def test_an_authorized_listing_sync_still_starts_the_push(self) -> None:
        r = self.push_now()
        self.assertEqual(self.enqueued, 1)
        self.assertContains(r, "The inventory push was started")
        self.assertNotContains(r, 'data-testid="push-refused"')

    def test_the_refusal_is_worded_in_chinese_too(self) -> None:
        sandbox_api.revoke(self.seller.selling_partner_id, settings.AMAZON_SPAPI_APPS["listings"]["app_id"])
        tasks.push_inventory(self.store.pk)
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        r = self.push_now()
        self.assertContains(r, "未推送任何数量。")
        self.assertContains(r, "目前无法向 Amazon 推送数量。")
        self.assertContains(r, "重新授权刊登/库存同步功能")
