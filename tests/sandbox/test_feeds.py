"""The Feeds API (2021-06-30) with JSON_LISTINGS_FEED in the sandbox over HTTP: the upload URL, processing on the
virtual clock, the listing changes made by the same code as patchListingsItem's, the processing report in Amazon's
schema, FATAL documents and the fault, the usage plans; and the portal's client (amazon/feeds.py) end to end."""

from __future__ import annotations

import gzip
import json
from datetime import date
from typing import Any

from django.test import TestCase
from jsonschema import Draft7Validator

from amazon import feeds as client
from amazon.endpoints import for_region
from sandbox import api
from sandbox import feeds as sandbox_feeds
from sandbox.models import SandboxListing
from tests.sandbox.helpers import CA, MODELS, US, assert_matches_model, connect, new_seller
from tests.sandbox_http import sandbox_http, sandbox_path

MODEL = "feeds_2021-06-30.json"
CREATE_DOCUMENT_OP = (MODEL, "/feeds/2021-06-30/documents", "post")
GET_DOCUMENT_OP = (MODEL, "/feeds/2021-06-30/documents/{feedDocumentId}", "get")
CREATE_OP = (MODEL, "/feeds/2021-06-30/feeds", "post")
GET_OP = (MODEL, "/feeds/2021-06-30/feeds/{feedId}", "get")
SKUS = ["SKU-1", "SKU-2", "SKU-3"]


def processing_report_errors(report: Any) -> list[str]:
    schema = json.loads((MODELS / "listings-feed-processing-report-schema-v2.json").read_text())
    return [e.message for e in Draft7Validator(schema).iter_errors(report)]


def merge(quantity: Any) -> list[dict[str, Any]]:
    return [
        {
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
        }
    ]


class FeedsTestCase(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Feed Seller", marketplace_ids=[US, CA])
        self.token = connect(self.client, self.seller)["access_token"]
        self.now = api.now()
        for sku in [*SKUS, "TWIN"]:
            for marketplace_id in (US, CA):
                SandboxListing.objects.create(
                    seller=self.seller,
                    sku=sku,
                    marketplace_id=marketplace_id,
                    product_type="PRODUCT",
                    quantity=1,
                    lead_time_to_ship_max_days=3,
                    restock_date=date(2030, 1, 1),
                    created=self.now,
                    updated=self.now,
                )

    def sp(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        return self.client.generic(
            method,
            f"/sandbox/na/sp/feeds/2021-06-30/{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token if token is None else token,
        )

    def document(self, messages: list[dict[str, Any]], **header: Any) -> bytes:
        head = {"sellerId": self.seller.selling_partner_id, "version": "2.0", **header}
        return json.dumps({"header": head, "messages": messages}).encode()

    def message(self, message_id: int, sku: str, patches: Any = None, **changes: Any) -> dict[str, Any]:
        return {
            "messageId": message_id,
            "sku": sku,
            "operationType": "PATCH",
            "productType": "PRODUCT",
            "patches": merge(7) if patches is None else patches,
            **changes,
        }

    def uploaded(self, content: bytes) -> str:
        created = self.sp("POST", "documents", {"contentType": "application/json; charset=UTF-8"})
        self.assertEqual(created.status_code, 201, created.content)
        body = assert_matches_model(*CREATE_DOCUMENT_OP, created)
        put = self.client.put(
            sandbox_path(body["url"]), content, content_type="application/json; charset=UTF-8"
        )
        self.assertEqual(put.status_code, 200, put.content)
        return str(body["feedDocumentId"])

    def submit(self, content: bytes, marketplace_ids: list[str] | None = None) -> str:
        spec = {
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": marketplace_ids or [US],
            "inputFeedDocumentId": self.uploaded(content),
        }
        response = self.sp("POST", "feeds", spec)
        self.assertEqual(response.status_code, 202, response.content)
        return str(assert_matches_model(*CREATE_OP, response)["feedId"])

    def feed(self, feed_id: str) -> dict[str, Any]:
        response = self.sp("GET", f"feeds/{feed_id}")
        self.assertEqual(response.status_code, 200, response.content)
        return dict(assert_matches_model(*GET_OP, response))

    def finished(self, feed_id: str) -> dict[str, Any]:
        api.advance_clock(sandbox_feeds.PROCESSED_AFTER.total_seconds())
        return self.feed(feed_id)

    def report(self, feed: dict[str, Any]) -> dict[str, Any]:
        response = self.sp("GET", f"documents/{feed['resultFeedDocumentId']}")
        body = assert_matches_model(*GET_DOCUMENT_OP, response)
        self.assertEqual(body["compressionAlgorithm"], "GZIP")
        report = json.loads(gzip.decompress(self.client.get(sandbox_path(body["url"])).content))
        self.assertEqual(processing_report_errors(report), [])
        return dict(report)

    def shown(self, sku: str, marketplace_id: str = US) -> dict[str, Any]:
        response = self.client.get(
            f"/sandbox/na/sp/listings/2021-08-01/items/{self.seller.selling_partner_id}/{sku}",
            {"marketplaceIds": marketplace_id, "includedData": "attributes,fulfillmentAvailability"},
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(response.status_code, 200, response.content)
        return dict(response.json())

    def listing(self, sku: str, marketplace_id: str = US) -> SandboxListing:
        return SandboxListing.objects.get(seller=self.seller, sku=sku, marketplace_id=marketplace_id)


class ProcessingTests(FeedsTestCase):
    def test_a_feed_is_queued_then_in_progress_then_done_and_listings_change_only_after(self) -> None:
        feed_id = self.submit(self.document([self.message(1, "SKU-1")]))
        self.assertEqual(self.feed(feed_id)["processingStatus"], "IN_QUEUE")
        api.advance_clock(sandbox_feeds.QUEUED_FOR.total_seconds())
        running = self.feed(feed_id)
        self.assertEqual(running["processingStatus"], "IN_PROGRESS")
        self.assertNotIn("resultFeedDocumentId", running)
        self.assertEqual(self.shown("SKU-1")["fulfillmentAvailability"][0]["quantity"], 1)
        done = self.finished(feed_id)
        self.assertEqual(done["processingStatus"], "DONE")
        api.advance_clock(5)  # a listing change shows PROCESSING_DELAY after it was processed, as a patch's
        self.assertEqual(self.shown("SKU-1")["fulfillmentAvailability"][0]["quantity"], 7)

    def test_a_feed_with_one_unknown_sku_errors_that_sku_only_and_handling_time_is_unchanged(self) -> None:
        messages = [
            self.message(1, "SKU-1"),
            self.message(2, "NO-SUCH-SKU"),
            self.message(3, "SKU-3", merge(0)),
        ]
        report = self.report(self.finished(self.submit(self.document(messages), [US, CA])))
        [issue] = report["issues"]
        self.assertEqual((issue["messageId"], issue["sku"], issue["severity"]), (2, "NO-SUCH-SKU", "ERROR"))
        self.assertEqual(issue["code"], "NOT_FOUND")
        self.assertEqual(
            report["summary"],
            {"errors": 1, "warnings": 0, "messagesProcessed": 3, "messagesAccepted": 2, "messagesInvalid": 1},
        )
        for marketplace_id in (US, CA):
            self.assertEqual(self.listing("SKU-1", marketplace_id).quantity, 7)
            self.assertEqual(self.listing("SKU-3", marketplace_id).quantity, 0)
            for sku in ("SKU-1", "SKU-3"):
                self.assertEqual(self.listing(sku, marketplace_id).lead_time_to_ship_max_days, 3)
                self.assertEqual(self.listing(sku, marketplace_id).restock_date, date(2030, 1, 1))
        self.assertEqual(self.listing("SKU-2").quantity, 1)
        self.assertFalse(SandboxListing.objects.filter(sku="NO-SUCH-SKU").exists())

    def test_a_message_changes_a_listing_exactly_as_patch_listings_item_does(self) -> None:
        patches = merge(12)
        self.finished(self.submit(self.document([self.message(1, "SKU-1", patches)])))
        response = self.client.patch(
            f"/sandbox/na/sp/listings/2021-08-01/items/{self.seller.selling_partner_id}/TWIN?marketplaceIds={US}",
            {"productType": "PRODUCT", "patches": patches},
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(response.json()["status"], "ACCEPTED")
        api.advance_clock(5)
        by_feed, by_patch = self.shown("SKU-1"), self.shown("TWIN")
        self.assertEqual(
            {k: v for k, v in by_feed.items() if k != "sku"},
            {k: v for k, v in by_patch.items() if k != "sku"},
        )
        self.assertEqual(
            by_feed["attributes"]["fulfillment_availability"],
            [
                {
                    "fulfillment_channel_code": "DEFAULT",
                    "quantity": 12,
                    "lead_time_to_ship_max_days": 3,
                    "restock_date": "2030-01-01",
                }
            ],
        )

    def test_invalid_patches_and_messages_are_errors_of_their_own_message(self) -> None:
        messages = [
            self.message(1, "SKU-1", merge(-1)),
            self.message(
                2, "SKU-2", [{"op": "merge", "path": "/attributes/fulfillment_availability/0/quantity"}]
            ),
            self.message(3, "SKU-3", operationType="DELETE"),
            self.message(4, "SKU-1", productType=""),
            self.message(4, "SKU-2"),
            self.message(5, "SKU-3", merge(9)),
        ]
        report = self.report(self.finished(self.submit(self.document(messages))))
        self.assertEqual([i["messageId"] for i in report["issues"]], [1, 2, 3, 4, 4])
        self.assertEqual(report["issues"][0]["attributeName"], "fulfillment_availability")
        self.assertEqual(report["summary"]["messagesAccepted"], 1)
        self.assertEqual(self.listing("SKU-3").quantity, 9)
        self.assertEqual((self.listing("SKU-1").quantity, self.listing("SKU-2").quantity), (1, 1))

    def test_more_than_25000_messages_end_fatal_with_an_issue_of_the_whole_feed(self) -> None:
        messages = [{"messageId": n, "sku": "SKU-1", "operationType": "PATCH"} for n in range(1, 25_002)]
        done = self.finished(self.submit(self.document(messages)))
        self.assertEqual(done["processingStatus"], "FATAL")
        report = self.report(done)
        [issue] = report["issues"]
        self.assertNotIn("messageId", issue)
        self.assertIn("at most 25000", issue["message"])
        self.assertEqual(self.listing("SKU-1").quantity, 1)

    def test_a_header_of_another_seller_or_version_or_a_document_that_is_not_json_ends_fatal(self) -> None:
        for content in (
            self.document([self.message(1, "SKU-1")], sellerId="A1OTHERSELLER"),
            self.document([self.message(1, "SKU-1")], version="1.0"),
            b"<xml/>",
        ):
            with self.subTest(content=content[:40]):
                done = self.finished(self.submit(content))
                self.assertEqual(done["processingStatus"], "FATAL")
                self.assertEqual(self.report(done)["summary"]["messagesAccepted"], 0)
        self.assertEqual(self.listing("SKU-1").quantity, 1)

    def test_the_fatal_fault_applies_nothing_and_gives_no_report(self) -> None:
        api.set_fault("feeds", "fatal")
        done = self.finished(self.submit(self.document([self.message(1, "SKU-1")])))
        api.clear_faults()
        self.assertEqual(done["processingStatus"], "FATAL")
        self.assertNotIn("resultFeedDocumentId", done)
        self.assertEqual(self.listing("SKU-1").quantity, 1)


class DocumentAndLimitTests(FeedsTestCase):
    def test_create_feed_needs_an_uploaded_document_of_the_seller(self) -> None:
        created = self.sp("POST", "documents", {"contentType": "application/json"}).json()
        spec = {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US]}
        not_uploaded = self.sp("POST", "feeds", {**spec, "inputFeedDocumentId": created["feedDocumentId"]})
        self.assertEqual(not_uploaded.status_code, 400)
        self.assertIn("not uploaded", not_uploaded.json()["errors"][0]["message"])
        self.assertEqual(self.sp("POST", "feeds", {**spec, "inputFeedDocumentId": "nope"}).status_code, 404)
        self.assertEqual(self.sp("POST", "documents", {}).status_code, 400)
        other = self.sp("POST", "feeds", {**spec, "feedType": "POST_INVENTORY_AVAILABILITY_DATA"})
        self.assertEqual(other.status_code, 400)

    def test_an_upload_url_expires_after_five_minutes_as_s3s_do(self) -> None:
        created = self.sp("POST", "documents", {"contentType": "application/json"}).json()
        api.advance_clock(5 * 60 + 1)
        put = self.client.put(sandbox_path(created["url"]), b"{}", content_type="application/json")
        self.assertEqual(put.status_code, 403)
        self.assertIn("<Message>Request has expired</Message>", put.content.decode())
        # The upload URL is signed for PUT: it does not read the document.
        self.assertEqual(self.client.get(sandbox_path(created["url"])).status_code, 403)

    def test_json_listings_feeds_are_limited_to_five_per_five_minutes(self) -> None:
        content = self.document([self.message(1, "SKU-1")])
        for _n in range(5):
            self.submit(content)
        spec = {
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [US],
            "inputFeedDocumentId": self.uploaded(content),
        }
        throttled = self.sp("POST", "feeds", spec)
        self.assertEqual(throttled.status_code, 429)
        self.assertEqual(throttled.json()["errors"][0]["code"], "QuotaExceeded")
        api.advance_clock(60)
        self.assertEqual(self.sp("POST", "feeds", spec).status_code, 202)

    def test_http_faults_of_the_group_hit_the_feeds_api(self) -> None:
        api.set_fault("feeds", "http500")
        self.assertEqual(self.sp("POST", "documents", {"contentType": "application/json"}).status_code, 500)
        api.clear_faults()


class PortalClientTests(FeedsTestCase):
    """amazon/feeds.py against the sandbox through HTTP."""

    def test_a_stock_feed_with_one_unknown_sku_marks_that_sku_only(self) -> None:
        changes = [
            client.StockChange("SKU-1", 40),
            client.StockChange("GONE", 5),
            client.StockChange("SKU-2", 0),
        ]
        with sandbox_http():
            base = for_region("NA").sp_api
            target = client.create_feed_document(base, self.token)
            client.upload(target, client.stock_feed(self.seller.selling_partner_id, changes))
            created = client.create_feed(base, self.token, target.feed_document_id, [US])
            self.assertEqual(client.get_feed(base, self.token, created.feed_id).processing_status, "IN_QUEUE")
            api.advance_clock(sandbox_feeds.PROCESSED_AFTER.total_seconds())
            feed = client.get_feed(base, self.token, created.feed_id)
            client.check_outcome(feed)
            assert feed.result_feed_document_id is not None
            document = client.get_feed_document(base, self.token, feed.result_feed_document_id)
            report = client.download_processing_report(document)
        self.assertEqual(created.rate_limit, 0.0083)
        self.assertEqual([report.accepted(n) for n in (1, 2, 3)], [True, False, True])
        self.assertEqual([i.sku for i in report.errors_of(2)], ["GONE"])
        self.assertEqual((report.messages_accepted, report.messages_invalid), (2, 1))
        self.assertEqual((self.listing("SKU-1").quantity, self.listing("SKU-2").quantity), (40, 0))
        self.assertEqual(self.listing("SKU-1").lead_time_to_ship_max_days, 3)

    def test_an_expired_upload_url_is_named(self) -> None:
        with sandbox_http():
            target = client.create_feed_document(for_region("NA").sp_api, self.token)
            api.advance_clock(301)
            with self.assertRaises(client.FeedError) as caught:
                client.upload(
                    target,
                    client.stock_feed(self.seller.selling_partner_id, [client.StockChange("SKU-1", 1)]),
                )
        self.assertEqual(caught.exception.problem, "document_expired")
        self.assertTrue(caught.exception.retryable)

    def test_a_fatal_feed_is_a_named_retryable_problem(self) -> None:
        api.set_fault("feeds", "fatal")
        with sandbox_http():
            base = for_region("NA").sp_api
            target = client.create_feed_document(base, self.token)
            client.upload(
                target, client.stock_feed(self.seller.selling_partner_id, [client.StockChange("SKU-1", 1)])
            )
            created = client.create_feed(base, self.token, target.feed_document_id, [US])
            api.advance_clock(60)
            feed = client.get_feed(base, self.token, created.feed_id)
        api.clear_faults()
        with self.assertRaises(client.FeedError) as caught:
            client.check_outcome(feed)
        self.assertEqual((caught.exception.problem, caught.exception.retryable), ("fatal", True))
