"""python-amazon-sp-api (`sp_api`, a third-party client, not ours), unmodified, submits a JSON_LISTINGS_FEED to the
sandbox and reads its processing report.

Its Feeds client's `submit_feed` calls createFeedDocument, PUTs the file to the presigned URL with httpx and calls
createFeed (tests/fixtures/amazon-models/feeds_2021-06-30.json); `get_feed_result_document` fetches getFeedDocument's
URL and decompresses it. The router of test_third_party_reports.py hands Amazon's hosts and the sandbox's document
host to the sandbox's views.
"""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from sp_api.api import Feeds

from amazon import feeds as portal_feeds
from sandbox import api
from sandbox import feeds as sandbox_feeds
from sandbox.models import SandboxListing
from tests.sandbox.helpers import US, listings_app
from tests.sandbox.test_third_party_reports import DOCUMENT_HOST, DocumentHostTestCase


class ThirdPartyFeedsTests(DocumentHostTestCase):
    def setUp(self) -> None:
        super().setUp()
        app = listings_app()
        self.feeds: Any = self.sp_client(Feeds, app, self.refresh_token(app))
        for sku in ("SKU-1", "SKU-2"):
            SandboxListing.objects.create(
                seller=self.seller,
                sku=sku,
                marketplace_id=US,
                product_type="PRODUCT",
                quantity=1,
                lead_time_to_ship_max_days=2,
                restock_date=date(2030, 1, 1),
                created=api.now(),
                updated=api.now(),
            )

    def test_the_library_submits_a_stock_feed_and_reads_the_per_sku_result(self) -> None:
        changes = [portal_feeds.StockChange("SKU-1", 9), portal_feeds.StockChange("UNKNOWN", 3)]
        content = portal_feeds.stock_feed(self.seller.selling_partner_id, changes)
        _document, created = self.feeds.submit_feed(
            "JSON_LISTINGS_FEED", io.BytesIO(content), content_type="application/json; charset=UTF-8"
        )
        feed_id = created.payload["feedId"]
        uploads = [e for e in self.router.log if DOCUMENT_HOST in e.url]
        self.assertEqual([(e.method, e.status) for e in uploads], [("PUT", 200)], self.router.dump())
        self.assertEqual(self.feeds.get_feed(feed_id).payload["processingStatus"], "IN_QUEUE")
        api.advance_clock(sandbox_feeds.PROCESSED_AFTER.total_seconds())
        feed = self.feeds.get_feed(feed_id).payload
        self.assertEqual(feed["processingStatus"], "DONE", self.router.dump())
        report = json.loads(self.feeds.get_feed_result_document(feed["resultFeedDocumentId"]))
        self.assertEqual([(i["messageId"], i["sku"]) for i in report["issues"]], [(2, "UNKNOWN")])
        self.assertEqual(report["summary"]["messagesAccepted"], 1)
        listing = SandboxListing.objects.get(seller=self.seller, sku="SKU-1", marketplace_id=US)
        self.assertEqual((listing.quantity, listing.lead_time_to_ship_max_days), (9, 2))
        self.assertEqual(SandboxListing.objects.get(seller=self.seller, sku="SKU-2").quantity, 1)
