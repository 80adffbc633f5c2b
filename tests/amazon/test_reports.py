"""The portal's Reports API client (amazon/reports.py) against Amazon's documented shapes (`responses`): requests
validated with the model's CreateReportSpecification, answers checked against the model's Report and ReportDocument
(tests/fixtures/amazon-models/reports_2021-06-30.json) before the client reads them, the gzip document download with
S3's expired-URL answer, the flat file's columns, and Amazon's failures as named problems with reasons in words."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

import responses
from django.test import SimpleTestCase
from django.utils import translation
from jsonschema import Draft4Validator

from amazon import reports
from amazon.reports import ReportError
from tests.sandbox.helpers import _registry

AMAZON = "https://sellingpartnerapi-na.amazon.com"
REPORTS = f"{AMAZON}/reports/2021-06-30/reports"
DOCUMENT_ID = "amzn1.spdoc.1.4.na.0b5c8d6a-1c2f-4a55-9c80-1d5e7e3c4a1b"
S3 = "https://tortuga-prod-na.s3-external-1.amazonaws.com/report.gz?X-Amz-Signature=abc"
START = datetime(2026, 6, 1, tzinfo=UTC)
END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message>'
    b"<X-Amz-Expires>300</X-Amz-Expires><Expires>2026-07-01T00:05:00Z</Expires>"
    b"<ServerTime>2026-07-01T00:06:00Z</ServerTime><RequestId>1</RequestId><HostId>2</HostId></Error>"
)


def conforms(definition: str, body: Any) -> Any:
    """`body` checked against the model's definition: the test's Amazon answers are Amazon's shape."""
    validator = Draft4Validator(
        {"$ref": f"reports_2021-06-30.json#/definitions/{definition}"},
        registry=_registry(),
        format_checker=Draft4Validator.FORMAT_CHECKER,
    )
    errors = [e.message for e in validator.iter_errors(body)]
    assert not errors, errors
    return body


def report_body(status: str, **extra: Any) -> dict[str, Any]:
    return conforms(
        "Report",
        {
            "reportId": "189396019568",
            "reportType": reports.ALL_ORDERS_BY_ORDER_DATE,
            "dataStartTime": "2026-06-01T00:00:00+00:00",
            "dataEndTime": "2026-06-30T23:59:59+00:00",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "createdTime": "2026-07-01T00:00:00+00:00",
            "processingStatus": status,
            **extra,
        },
    )


ROW = {
    "amazon-order-id": "112-0000000-0000001",
    "purchase-date": "2026-06-03T10:20:30+00:00",
    "last-updated-date": "2026-06-04T12:00:00+00:00",
    "order-status": "Shipped",
    "fulfillment-channel": "Merchant",
    "sales-channel": "Amazon.com",
    "ship-service-level": "Standard",
    "product-name": "Trail bottle",
    "sku": "SKU-A",
    "asin": "B000000001",
    "item-status": "Shipped",
    "quantity": "2",
    "currency": "USD",
    "item-price": "25.98",
    "is-business-order": "false",
}


def flat_file(*rows: dict[str, str]) -> str:
    lines = ["\t".join(reports.ORDER_REPORT_COLUMNS)]
    lines += ["\t".join(row.get(c, "") for c in reports.ORDER_REPORT_COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


class CreateAndPollTests(SimpleTestCase):
    @responses.activate
    def test_create_report_sends_the_models_specification_and_reads_the_report_id(self) -> None:
        responses.add(
            "POST",
            REPORTS,
            status=202,
            json=conforms("CreateReportResponse", {"reportId": "189396019568"}),
            headers={"x-amzn-RateLimit-Limit": "0.0167"},
        )
        china = timezone(timedelta(hours=8))
        created = reports.create_report(
            AMAZON,
            "Atza|token",
            reports.ALL_ORDERS_BY_ORDER_DATE,
            ["ATVPDKIKX0DER"],
            data_start_time=START.astimezone(china),
            data_end_time=END,
        )
        self.assertEqual(created, reports.CreatedReport("189396019568", 0.0167))
        sent = conforms("CreateReportSpecification", json.loads(cast(bytes, responses.calls[0].request.body)))
        self.assertEqual(
            sent,
            {
                "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "dataStartTime": "2026-06-01T00:00:00Z",
                "dataEndTime": "2026-06-30T23:59:59Z",
            },
        )
        self.assertEqual(responses.calls[0].request.headers["x-amz-access-token"], "Atza|token")

    @responses.activate
    def test_a_request_that_breaks_the_model_is_refused_before_sending(self) -> None:
        cases = [
            ([], {}),
            (["ATVPDKIKX0DER"] * 26, {}),
            (["ATVPDKIKX0DER"], {"data_start_time": datetime(2026, 6, 1)}),
            (["ATVPDKIKX0DER"], {"data_start_time": END, "data_end_time": START}),
        ]
        for marketplaces, dates in cases:
            with (
                self.subTest(marketplaces=len(marketplaces), dates=dates),
                self.assertRaises(ReportError) as caught,
            ):
                reports.create_report(AMAZON, "t", reports.ALL_ORDERS_BY_ORDER_DATE, marketplaces, **dates)
            self.assertEqual(caught.exception.problem, "invalid")
        self.assertEqual(len(responses.calls), 0)

    @responses.activate
    def test_get_report_reads_every_status_and_the_document_id_when_done(self) -> None:
        url = f"{REPORTS}/189396019568"
        responses.add("GET", url, json=report_body("IN_QUEUE"))
        responses.add(
            "GET",
            url,
            json=report_body(
                "DONE",
                processingStartTime="2026-07-01T00:00:10+00:00",
                processingEndTime="2026-07-01T00:01:00+00:00",
                reportDocumentId=DOCUMENT_ID,
            ),
        )
        queued = reports.get_report(AMAZON, "t", "189396019568")
        done = reports.get_report(AMAZON, "t", "189396019568")
        self.assertEqual(
            (queued.processing_status, queued.finished, queued.report_document_id), ("IN_QUEUE", False, None)
        )
        self.assertEqual(
            (done.processing_status, done.finished, done.report_document_id), ("DONE", True, DOCUMENT_ID)
        )
        self.assertEqual(done.data_end_time, END)
        self.assertEqual(done.processing_end_time, datetime(2026, 7, 1, 0, 1, tzinfo=UTC))
        reports.check_outcome(done)

    def test_cancelled_fatal_and_amazons_date_range_words_are_named_problems(self) -> None:
        cancelled = reports.parse_report(report_body("CANCELLED"))
        fatal = reports.parse_report(report_body("FATAL", reportDocumentId=DOCUMENT_ID))
        cases = [
            (cancelled, "", "cancelled"),
            (fatal, "", "fatal"),
            (fatal, "Date range exceeded. Report can be requested only upto 30 days", "date_range"),
        ]
        for report, explanation, problem in cases:
            with self.subTest(problem=problem), self.assertRaises(ReportError) as caught:
                reports.check_outcome(report, explanation)
            self.assertEqual(caught.exception.problem, problem)
            self.assertFalse(caught.exception.retryable)
        with self.assertRaises(ReportError) as caught:
            reports.check_outcome(cancelled)
        with translation.override("zh-hans"):
            self.assertEqual(str(caught.exception.reason), "亚马逊取消了报告：该时段没有订单。")

    def test_an_answer_that_is_not_the_models_report_is_a_bad_response(self) -> None:
        for body in ({}, {**report_body("DONE"), "processingStatus": "FINISHED"}, [1]):
            with self.subTest(body=body), self.assertRaises(ReportError) as caught:
                reports.parse_report(body)
            self.assertEqual(
                (caught.exception.kind, caught.exception.problem), ("bad_response", "unavailable")
            )

    @responses.activate
    def test_amazons_error_answers_become_problems(self) -> None:
        url = f"{REPORTS}/1"
        cases = [
            (403, "Unauthorized", "unauthorized"),
            (429, "QuotaExceeded", "throttled"),
            (404, "NotFound", "not_found"),
            (400, "InvalidInput", "invalid"),
            (503, "ServiceUnavailable", "unavailable"),
        ]
        for status, code, problem in cases:
            responses.upsert("GET", url, status=status, json={"errors": [{"code": code, "message": "m"}]})
            with self.subTest(status=status), self.assertRaises(ReportError) as caught:
                reports.get_report(AMAZON, "t", "1")
            self.assertEqual(caught.exception.problem, problem)
            self.assertEqual(caught.exception.code, code)


class DocumentTests(SimpleTestCase):
    def add_document(self, algorithm: str | None = "GZIP") -> reports.ReportDocument:
        body: dict[str, Any] = {"reportDocumentId": DOCUMENT_ID, "url": S3}
        if algorithm:
            body["compressionAlgorithm"] = algorithm
        responses.add(
            "GET",
            f"{AMAZON}/reports/2021-06-30/documents/{DOCUMENT_ID}",
            json=conforms("ReportDocument", body),
        )
        return reports.get_report_document(AMAZON, "t", DOCUMENT_ID)

    @responses.activate
    def test_a_gzip_document_is_downloaded_without_the_access_token_and_decompressed(self) -> None:
        document = self.add_document()
        self.assertEqual(document.compression_algorithm, "GZIP")
        responses.add("GET", S3, body=gzip.compress(flat_file(ROW).encode()), content_type="text/plain")
        rows = reports.order_rows(reports.download(document))
        self.assertNotIn("x-amz-access-token", responses.calls[-1].request.headers)
        [row] = rows
        self.assertEqual(row.order_id, "112-0000000-0000001")
        self.assertEqual(row.purchase_date, datetime(2026, 6, 3, 10, 20, 30, tzinfo=UTC))
        self.assertEqual((row.sku, row.quantity, row.item_price), ("SKU-A", 2, Decimal("25.98")))
        self.assertEqual(row.columns["ship-city"], "")
        self.assertEqual(set(row.columns), set(reports.ORDER_REPORT_COLUMNS))

    @responses.activate
    def test_an_uncompressed_document_is_read_in_its_declared_charset(self) -> None:
        document = self.add_document(algorithm=None)
        text = flat_file({**ROW, "product-name": "Gourde été"})
        responses.add("GET", S3, body=text.encode("cp1252"), content_type="text/plain; charset=Cp1252")
        [row] = reports.order_rows(reports.download(document))
        self.assertEqual(row.product_name, "Gourde été")

    @responses.activate
    def test_an_expired_url_is_named_and_retryable(self) -> None:
        document = self.add_document()
        responses.add("GET", S3, status=403, body=EXPIRED, content_type="application/xml")
        with self.assertRaises(ReportError) as caught:
            reports.download(document)
        self.assertEqual((caught.exception.kind, caught.exception.code), ("document_expired", "AccessDenied"))
        self.assertTrue(caught.exception.retryable)

    @responses.activate
    def test_a_broken_document_or_missing_columns_are_unreadable(self) -> None:
        document = self.add_document()
        responses.add("GET", S3, body=b"not gzip")
        with self.assertRaises(ReportError) as caught:
            reports.download(document)
        self.assertEqual(caught.exception.problem, "document_unreadable")
        with self.assertRaises(ReportError) as caught:
            reports.order_rows("amazon-order-id\tsku\n1\tA\n")
        self.assertEqual(caught.exception.problem, "document_unreadable")
        with self.assertRaises(ReportError):
            reports.order_rows(flat_file({**ROW, "quantity": "two"}))
        self.assertEqual(reports.order_rows(""), [])
