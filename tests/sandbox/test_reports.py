"""The Reports API (2021-06-30) in the sandbox over HTTP, for GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL:
processing on the virtual clock, the gzip flat file built from the sandbox's own orders, CANCELLED without data, FATAL
past 30 days and by fault injection, presigned document URLs that expire as S3's do, the usage plans; and the
portal's client (amazon/reports.py) driving it end to end."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.test import TestCase

from amazon import reports as client
from amazon.endpoints import for_region
from sandbox import api
from sandbox import reports as sandbox_reports
from tests.sandbox.helpers import CA, DE, US, assert_matches_model, connect, new_seller
from tests.sandbox_http import sandbox_http, sandbox_path

MODEL = "reports_2021-06-30.json"
CREATE_OP = (MODEL, "/reports/2021-06-30/reports", "post")
GET_OP = (MODEL, "/reports/2021-06-30/reports/{reportId}", "get")
DOCUMENT_OP = (MODEL, "/reports/2021-06-30/documents/{reportDocumentId}", "get")
ORDERS = client.ALL_ORDERS_BY_ORDER_DATE


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def month_before(now: datetime) -> tuple[datetime, datetime]:
    """A 30-day range of whole days that ended more than a week ago (its orders are settled)."""
    start = (now - timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=30) - timedelta(seconds=1)


class ReportsTestCase(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Report Seller", marketplace_ids=[US, CA], orders_per_day=6)
        self.token = connect(self.client, self.seller)["access_token"]
        self.now = api.now()
        self.start, self.end = month_before(self.now)

    def create(self, body: dict[str, Any], token: str | None = None) -> Any:
        return self.client.post(
            "/sandbox/na/sp/reports/2021-06-30/reports",
            body,
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token if token is None else token,
        )

    def spec(self, **changes: Any) -> dict[str, Any]:
        return {
            "reportType": ORDERS,
            "marketplaceIds": [US],
            "dataStartTime": iso(self.start),
            "dataEndTime": iso(self.end),
            **changes,
        }

    def get(self, path: str, token: str | None = None) -> Any:
        return self.client.get(
            f"/sandbox/na/sp/reports/2021-06-30/{path}",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token if token is None else token,
        )

    def created(self, **changes: Any) -> str:
        response = self.create(self.spec(**changes))
        self.assertEqual(response.status_code, 202, response.content)
        return str(assert_matches_model(*CREATE_OP, response)["reportId"])

    def report(self, report_id: str) -> dict[str, Any]:
        response = self.get(f"reports/{report_id}")
        self.assertEqual(response.status_code, 200, response.content)
        return dict(assert_matches_model(*GET_OP, response))

    def finished(self, report_id: str) -> dict[str, Any]:
        api.advance_clock(sandbox_reports.PROCESSED_AFTER.total_seconds())
        return self.report(report_id)

    def document(self, document_id: str) -> dict[str, Any]:
        response = self.get(f"documents/{document_id}")
        self.assertEqual(response.status_code, 200, response.content)
        return dict(assert_matches_model(*DOCUMENT_OP, response))

    def download(self, url: str) -> Any:
        return self.client.get(sandbox_path(url))

    def refused(self, response: Any, status: int, code: str) -> str:
        self.assertEqual(response.status_code, status, response.content)
        body = assert_matches_model(*CREATE_OP, response)
        self.assertEqual(body["errors"][0]["code"], code)
        return str(body["errors"][0]["message"])


class ProcessingTests(ReportsTestCase):
    def test_a_report_is_queued_then_in_progress_then_done_on_the_virtual_clock(self) -> None:
        report_id = self.created()
        queued = self.report(report_id)
        self.assertEqual(queued["processingStatus"], "IN_QUEUE")
        self.assertNotIn("reportDocumentId", queued)
        self.assertEqual(queued["dataStartTime"], self.start.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
        api.advance_clock(sandbox_reports.QUEUED_FOR.total_seconds())
        running = self.report(report_id)
        self.assertEqual(running["processingStatus"], "IN_PROGRESS")
        self.assertIn("processingStartTime", running)
        done = self.finished(report_id)
        self.assertEqual(done["processingStatus"], "DONE")
        self.assertIn("processingEndTime", done)
        self.assertTrue(done["reportDocumentId"])

    def test_the_document_is_a_gzip_flat_file_with_amazons_columns_one_row_per_order_item(self) -> None:
        done = self.finished(self.created())
        document = self.document(done["reportDocumentId"])
        self.assertEqual(document["compressionAlgorithm"], "GZIP")
        response = self.download(document["url"])
        self.assertEqual(response.status_code, 200)
        lines = gzip.decompress(response.content).decode().splitlines()
        self.assertEqual(tuple(lines[0].split("\t")), client.ORDER_REPORT_COLUMNS)
        self.assertNotIn("order-item-id", lines[0])
        orders = list(
            api.generated_orders(self.seller, [US], created_after=self.start, created_before=self.end)
        )
        self.assertEqual(len(lines) - 1, sum(len(o.items) for o in orders))

    def test_a_month_with_no_orders_is_cancelled_without_a_document(self) -> None:
        quiet = new_seller("Quiet Seller", marketplace_ids=[US], orders_per_day=0)
        self.token = connect(self.client, quiet)["access_token"]
        done = self.finished(self.created())
        self.assertEqual(done["processingStatus"], "CANCELLED")
        self.assertNotIn("reportDocumentId", done)

    def test_orders_older_than_two_years_are_left_out_so_such_a_month_is_cancelled(self) -> None:
        start = self.now - timedelta(days=790)
        done = self.finished(
            self.created(dataStartTime=iso(start), dataEndTime=iso(start + timedelta(days=20)))
        )
        self.assertEqual(done["processingStatus"], "CANCELLED")

    def test_more_than_30_days_ends_fatal_with_amazons_words_in_the_document(self) -> None:
        done = self.finished(self.created(dataEndTime=iso(self.start + timedelta(days=30, seconds=1))))
        self.assertEqual(done["processingStatus"], "FATAL")
        document = self.document(done["reportDocumentId"])
        self.assertNotIn("compressionAlgorithm", document)
        self.assertEqual(self.download(document["url"]).content.decode(), sandbox_reports.DATE_RANGE_EXCEEDED)

    def test_exactly_30_days_is_accepted(self) -> None:
        done = self.finished(self.created(dataEndTime=iso(self.start + timedelta(days=30))))
        self.assertEqual(done["processingStatus"], "DONE")

    def test_the_fatal_fault_makes_reports_created_meanwhile_fatal_without_a_document(self) -> None:
        api.set_fault("reports", "fatal")
        failing = self.created()
        api.clear_faults()
        fine = self.created()
        self.assertEqual(self.finished(failing)["processingStatus"], "FATAL")
        self.assertNotIn("reportDocumentId", self.report(failing))
        self.assertEqual(self.report(fine)["processingStatus"], "DONE")


class DocumentUrlTests(ReportsTestCase):
    def test_an_expired_url_answers_s3s_403_access_denied_and_a_new_get_report_document_works(self) -> None:
        done = self.finished(self.created())
        old = self.document(done["reportDocumentId"])["url"]
        api.advance_clock(5 * 60 + 1)
        expired = self.download(old)
        self.assertEqual(expired.status_code, 403)
        self.assertEqual(expired["Content-Type"], "application/xml")
        text = expired.content.decode()
        self.assertIn("<Code>AccessDenied</Code>", text)
        self.assertIn("<Message>Request has expired</Message>", text)
        self.assertIn("<X-Amz-Expires>300</X-Amz-Expires>", text)
        fresh = self.document(done["reportDocumentId"])["url"]
        self.assertEqual(self.download(fresh).status_code, 200)

    def test_a_url_whose_signature_or_document_was_changed_is_refused(self) -> None:
        done = self.finished(self.created())
        url = self.document(done["reportDocumentId"])["url"]
        longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=99999")
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", self.download(longer).content.decode())
        other = url.replace(done["reportDocumentId"], done["reportDocumentId"][:-4] + "0000")
        self.assertEqual(self.download(other).status_code, 403)

    def test_another_sellers_report_and_document_are_not_found(self) -> None:
        done = self.finished(self.created())
        other = new_seller("Other Seller", marketplace_ids=[US])
        token = connect(self.client, other)["access_token"]
        self.assertEqual(self.get(f"reports/{done['reportId']}", token).status_code, 404)
        self.assertEqual(self.get(f"documents/{done['reportDocumentId']}", token).status_code, 404)


class RefusalTests(ReportsTestCase):
    def test_required_fields_types_and_dates_are_checked(self) -> None:
        self.refused(self.create({"marketplaceIds": [US]}), 400, "InvalidInput")
        self.refused(self.create(self.spec(marketplaceIds=[])), 400, "InvalidInput")
        self.refused(self.create(self.spec(dataStartTime="last week")), 400, "InvalidInput")
        future = iso(self.now + timedelta(hours=1))
        message = self.refused(self.create(self.spec(dataEndTime=future)), 400, "InvalidInput")
        self.assertIn("prior to or equal to the current date and time", message)
        self.refused(
            self.create(self.spec(dataEndTime=iso(self.start - timedelta(days=1)))), 400, "InvalidInput"
        )

    def test_a_report_type_the_sandbox_does_not_make_is_refused_by_name(self) -> None:
        message = self.refused(
            self.create(self.spec(reportType="GET_MERCHANT_LISTINGS_ALL_DATA")), 400, "InvalidInput"
        )
        self.assertIn(ORDERS, message)

    def test_marketplaces_of_another_region_or_not_the_sellers_are_denied(self) -> None:
        self.refused(self.create(self.spec(marketplaceIds=[DE])), 403, "Unauthorized")
        self.refused(self.create(self.spec(marketplaceIds=["A1AM78C64UM0Y8"])), 403, "Unauthorized")

    def test_without_a_token_access_is_denied(self) -> None:
        self.refused(self.create(self.spec(), token=""), 403, "Unauthorized")

    def test_create_report_has_a_burst_of_15_and_then_is_throttled(self) -> None:
        # reports_2021-06-30.json createReport: rate 0.0167 per second, burst 15.
        for n in range(15):
            self.assertEqual(self.create(self.spec()).status_code, 202, n)
        response = self.create(self.spec())
        self.refused(response, 429, "QuotaExceeded")
        api.advance_clock(60)
        self.assertEqual(self.create(self.spec()).status_code, 202)

    def test_the_fatal_fault_is_for_reports_and_feeds_only(self) -> None:
        with self.assertRaisesMessage(ValueError, "The fault fatal is for reports and feeds only."):
            api.set_fault("orders", "fatal")

    def test_http_faults_of_the_group_hit_the_reports_api(self) -> None:
        api.set_fault("reports", "http500")
        self.refused(self.create(self.spec()), 500, "InternalFailure")
        api.clear_faults()


class PortalClientTests(ReportsTestCase):
    """amazon/reports.py against the sandbox through HTTP."""

    def test_a_month_report_downloads_decompresses_and_parses_to_the_sandboxs_orders(self) -> None:
        with sandbox_http():
            base = for_region("NA").sp_api
            created = client.create_report(
                base, self.token, ORDERS, [US, CA], data_start_time=self.start, data_end_time=self.end
            )
            self.assertEqual(
                client.get_report(base, self.token, created.report_id).processing_status, "IN_QUEUE"
            )
            api.advance_clock(sandbox_reports.PROCESSED_AFTER.total_seconds())
            report = client.get_report(base, self.token, created.report_id)
            self.assertTrue(report.finished)
            client.check_outcome(report)
            assert report.report_document_id is not None
            document = client.get_report_document(base, self.token, report.report_document_id)
            rows = client.order_rows(client.download(document))
        self.assertEqual(created.rate_limit, 0.0167)
        self.assertEqual((report.data_start_time, report.data_end_time), (self.start, self.end))
        orders = api.generated_orders(
            self.seller, [US, CA], created_after=self.start, created_before=self.end
        )
        expected = sorted(
            (
                o.order_id,
                o.created_time,
                item["sku"],
                item["asin"],
                int(item["quantity"]),
                Decimal(item["unitPrice"]) * int(item["quantity"]),
                o.currency,
            )
            for o in orders
            for item in o.items
        )
        got = sorted(
            (r.order_id, r.purchase_date, r.sku, r.asin, r.quantity, r.item_price, r.currency) for r in rows
        )
        self.assertEqual(got, expected)
        self.assertGreater(len({r.order_id for r in rows}), 30 * 6 * 2 * 0.9)
        statuses = {o.order_id: o.state_at(self.now)[0] for o in orders}
        names = sandbox_reports.ORDER_STATUS
        self.assertTrue(all(r.order_status == names[statuses[r.order_id]] for r in rows))
        self.assertEqual({r.sales_channel for r in rows}, {"Amazon.com", "Amazon.ca"})

    def test_an_expired_link_is_named_and_a_new_one_is_fetched(self) -> None:
        report_id = self.created()
        api.advance_clock(sandbox_reports.PROCESSED_AFTER.total_seconds())
        with sandbox_http():
            base = for_region("NA").sp_api
            report = client.get_report(base, self.token, report_id)
            assert report.report_document_id is not None
            document = client.get_report_document(base, self.token, report.report_document_id)
            api.advance_clock(301)
            with self.assertRaises(client.ReportError) as expired:
                client.download(document)
            again = client.get_report_document(base, self.token, report.report_document_id)
            text = client.download(again)
        self.assertEqual(expired.exception.kind, "document_expired")
        self.assertEqual(expired.exception.problem, "document_expired")
        self.assertTrue(expired.exception.retryable)
        self.assertTrue(text.startswith("amazon-order-id\t"))

    def test_cancelled_and_too_long_reports_are_named_problems(self) -> None:
        too_long = self.created(dataEndTime=iso(self.start + timedelta(days=31)))
        quiet = new_seller("Quiet Seller", marketplace_ids=[US], orders_per_day=0)
        quiet_token = connect(self.client, quiet)["access_token"]
        with sandbox_http():
            base = for_region("NA").sp_api
            empty = client.create_report(
                base, quiet_token, ORDERS, [US], data_start_time=self.start, data_end_time=self.end
            )
            api.advance_clock(sandbox_reports.PROCESSED_AFTER.total_seconds())
            cancelled = client.get_report(base, quiet_token, empty.report_id)
            fatal = client.get_report(base, self.token, too_long)
            assert fatal.report_document_id is not None
            explanation = client.download(
                client.get_report_document(base, self.token, fatal.report_document_id)
            )
        with self.assertRaises(client.ReportError) as no_data:
            client.check_outcome(cancelled)
        self.assertEqual(no_data.exception.problem, "cancelled")
        with self.assertRaises(client.ReportError) as range_error:
            client.check_outcome(fatal, explanation)
        self.assertEqual(range_error.exception.problem, "date_range")
