"""The portal's Feeds API client (amazon/feeds.py) against Amazon's documented shapes (`responses`): the stock feed
document validated with listings-feed-schema-v2.json, requests with the model's specifications
(tests/fixtures/amazon-models/feeds_2021-06-30.json), the presigned upload, getFeed's statuses and a processing report
valid under listings-feed-processing-report-schema-v2.json read into each message's outcome."""

from __future__ import annotations

import gzip
import json
from typing import Any, cast

import responses
from django.test import SimpleTestCase
from django.utils import translation
from jsonschema import Draft4Validator, Draft7Validator

from amazon import feeds
from amazon.feeds import FeedError, StockChange
from tests.sandbox.helpers import MODELS, _registry

AMAZON = "https://sellingpartnerapi-na.amazon.com"
UPLOAD = "https://tortuga-prod-na.s3-external-1.amazonaws.com/feed?X-Amz-Signature=abc"
RESULT = "https://tortuga-prod-na.s3-external-1.amazonaws.com/result?X-Amz-Signature=def"
DOCUMENT_ID = "amzn1.tortuga.3.ed4cd0d8-447b-4fbd-ab68-1eeb5d7f2f27.T3YUZFD9NK5NL"


def schema(name: str) -> Draft7Validator:
    return Draft7Validator(json.loads((MODELS / name).read_text()))


def conforms(definition: str, body: Any) -> Any:
    validator = Draft4Validator(
        {"$ref": f"feeds_2021-06-30.json#/definitions/{definition}"},
        registry=_registry(),
        format_checker=Draft4Validator.FORMAT_CHECKER,
    )
    errors = [e.message for e in validator.iter_errors(body)]
    assert not errors, errors
    return body


def processing_report(**changes: Any) -> dict[str, Any]:
    report = {
        "header": {"sellerId": "A3SELLER", "version": "2.0", "feedId": "50012345"},
        "issues": [
            {
                "messageId": 2,
                "sku": "GONE",
                "code": "NOT_FOUND",
                "severity": "ERROR",
                "message": "SKU 'GONE' not found in marketplace ATVPDKIKX0DER",
            },
            {"messageId": 1, "sku": "A", "code": "18", "severity": "WARNING", "message": "A warning only."},
        ],
        "summary": {
            "errors": 1,
            "warnings": 1,
            "messagesProcessed": 2,
            "messagesAccepted": 1,
            "messagesInvalid": 1,
        },
        **changes,
    }
    assert not list(schema("listings-feed-processing-report-schema-v2.json").iter_errors(report))
    return report


class DocumentTests(SimpleTestCase):
    def test_the_stock_feed_is_a_valid_listings_feed_with_the_per_sku_merge(self) -> None:
        document = json.loads(
            feeds.stock_feed("A3SELLER", [StockChange("A", 5), StockChange("B", 0, "SHOES")])
        )
        self.assertEqual(
            [e.message for e in schema("listings-feed-schema-v2.json").iter_errors(document)], []
        )
        self.assertEqual(
            document["header"], {"sellerId": "A3SELLER", "version": "2.0", "issueLocale": "en_US"}
        )
        first, second = document["messages"]
        self.assertEqual((first["messageId"], first["sku"], first["operationType"]), (1, "A", "PATCH"))
        self.assertEqual(
            first["patches"],
            [
                {
                    "op": "merge",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 5}],
                }
            ],
        )
        self.assertEqual((second["messageId"], second["productType"]), (2, "SHOES"))

    def test_more_than_25000_skus_or_none_are_refused_before_anything_is_built(self) -> None:
        with self.assertRaises(FeedError) as caught:
            feeds.stock_feed("A3SELLER", [StockChange(f"S{n}", 1) for n in range(25_001)])
        self.assertEqual(caught.exception.problem, "too_many_messages")
        with translation.override("zh-hans"):
            self.assertEqual(str(caught.exception.reason), "一个刊登数据源最多包含 25,000 个 SKU。")
        self.assertEqual(
            len(json.loads(feeds.stock_feed("A", [StockChange("S", 1)] * 25_000))["messages"]), 25_000
        )
        with self.assertRaises(FeedError):
            feeds.stock_feed("A3SELLER", [])


class CallTests(SimpleTestCase):
    @responses.activate
    def test_document_upload_and_feed_follow_the_model(self) -> None:
        responses.add(
            "POST",
            f"{AMAZON}/feeds/2021-06-30/documents",
            status=201,
            json=conforms("CreateFeedDocumentResponse", {"feedDocumentId": DOCUMENT_ID, "url": UPLOAD}),
        )
        responses.add("PUT", UPLOAD, status=200)
        responses.add(
            "POST",
            f"{AMAZON}/feeds/2021-06-30/feeds",
            status=202,
            json=conforms("CreateFeedResponse", {"feedId": "50012345"}),
            headers={"x-amzn-RateLimit-Limit": "0.0083"},
        )
        target = feeds.create_feed_document(AMAZON, "Atza|t")
        content = feeds.stock_feed("A3SELLER", [StockChange("A", 5)])
        feeds.upload(target, content)
        created = feeds.create_feed(AMAZON, "Atza|t", target.feed_document_id, ["ATVPDKIKX0DER"])
        self.assertEqual(created, feeds.CreatedFeed("50012345", 0.0083))
        document_call, upload_call, feed_call = responses.calls
        sent = conforms(
            "CreateFeedDocumentSpecification", json.loads(cast(bytes, document_call.request.body))
        )
        self.assertEqual(sent, {"contentType": "application/json; charset=UTF-8"})
        self.assertEqual(upload_call.request.body, content)
        self.assertEqual(upload_call.request.headers["Content-Type"], "application/json; charset=UTF-8")
        self.assertNotIn("x-amz-access-token", upload_call.request.headers)
        spec = conforms("CreateFeedSpecification", json.loads(cast(bytes, feed_call.request.body)))
        self.assertEqual(
            spec,
            {
                "feedType": "JSON_LISTINGS_FEED",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "inputFeedDocumentId": DOCUMENT_ID,
            },
        )

    @responses.activate
    def test_get_feed_then_the_gzip_processing_report_gives_each_messages_outcome(self) -> None:
        feed = conforms(
            "Feed",
            {
                "feedId": "50012345",
                "feedType": "JSON_LISTINGS_FEED",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "createdTime": "2026-07-01T00:00:00+00:00",
                "processingStatus": "DONE",
                "processingStartTime": "2026-07-01T00:00:15+00:00",
                "processingEndTime": "2026-07-01T00:01:00+00:00",
                "resultFeedDocumentId": DOCUMENT_ID,
            },
        )
        responses.add("GET", f"{AMAZON}/feeds/2021-06-30/feeds/50012345", json=feed)
        responses.add(
            "GET",
            f"{AMAZON}/feeds/2021-06-30/documents/{DOCUMENT_ID}",
            json=conforms(
                "FeedDocument", {"feedDocumentId": DOCUMENT_ID, "url": RESULT, "compressionAlgorithm": "GZIP"}
            ),
        )
        responses.add("GET", RESULT, body=gzip.compress(json.dumps(processing_report()).encode()))
        got = feeds.get_feed(AMAZON, "t", "50012345")
        self.assertTrue(got.finished)
        feeds.check_outcome(got)
        assert got.result_feed_document_id is not None
        report = feeds.download_processing_report(
            feeds.get_feed_document(AMAZON, "t", got.result_feed_document_id)
        )
        self.assertEqual((report.accepted(1), report.accepted(2)), (True, False))
        self.assertEqual([i.code for i in report.errors_of(2)], ["NOT_FOUND"])
        self.assertEqual((report.messages_processed, report.errors, report.warnings), (2, 1, 1))

    def test_an_error_of_the_whole_document_fails_every_message(self) -> None:
        whole = processing_report(
            issues=[{"severity": "ERROR", "message": 'header.version must be "2.0".'}],
            summary={
                "errors": 1,
                "warnings": 0,
                "messagesProcessed": 0,
                "messagesAccepted": 0,
                "messagesInvalid": 0,
            },
        )
        report = feeds.parse_processing_report(json.dumps(whole))
        self.assertFalse(report.accepted(1))
        for text in ("[]", "{}", "nope", json.dumps({**whole, "summary": {"errors": -1}})):
            with self.subTest(text=text), self.assertRaises(FeedError) as caught:
                feeds.parse_processing_report(text)
            self.assertEqual(caught.exception.problem, "document_unreadable")

    @responses.activate
    def test_an_expired_upload_url_and_amazons_refusals_are_named(self) -> None:
        expired = (
            b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message>"
            b"<X-Amz-Expires>300</X-Amz-Expires></Error>"
        )
        responses.add("PUT", UPLOAD, status=403, body=expired)
        with self.assertRaises(FeedError) as caught:
            feeds.upload(feeds.Upload(DOCUMENT_ID, UPLOAD, None), b"{}")
        self.assertEqual((caught.exception.problem, caught.exception.retryable), ("document_expired", True))
        responses.add(
            "POST",
            f"{AMAZON}/feeds/2021-06-30/feeds",
            status=429,
            json={"errors": [{"code": "QuotaExceeded"}]},
        )
        with self.assertRaises(FeedError) as caught:
            feeds.create_feed(AMAZON, "t", DOCUMENT_ID, ["ATVPDKIKX0DER"])
        self.assertEqual((caught.exception.problem, caught.exception.retryable), ("throttled", True))

    def test_fatal_and_cancelled_feeds_are_named(self) -> None:
        base = {"feedId": "1", "feedType": "JSON_LISTINGS_FEED", "createdTime": "2026-07-01T00:00:00Z"}
        for status, problem in (("FATAL", "fatal"), ("CANCELLED", "cancelled")):
            with self.subTest(status=status), self.assertRaises(FeedError) as caught:
                feeds.check_outcome(feeds.parse_feed(conforms("Feed", {**base, "processingStatus": status})))
            self.assertEqual(caught.exception.problem, problem)
        with self.assertRaises(FeedError):
            feeds.parse_feed({**base, "processingStatus": "WAITING"})
