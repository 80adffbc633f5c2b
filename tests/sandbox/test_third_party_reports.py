"""python-amazon-sp-api (`sp_api`, a third-party client, not ours), unmodified, runs an order report against the sandbox.

Its Reports client posts createReport, polls getReport and, with `download=True`, fetches getReportDocument's
presigned URL with httpx and gunzips it as compressionAlgorithm GZIP says (tests/fixtures/amazon-models/
reports_2021-06-30.json). The router of test_third_party_client.py hands Amazon's hosts to the sandbox's views; here it
also hands the sandbox's document host (what S3 is to Amazon) to the sandbox's presigned-URL view.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings
from django.test.utils import override_settings
from sp_api.api import Reports
from sp_api.base import SellingApiRequestThrottledException

from amazon import reports as portal_reports
from sandbox import api
from sandbox import reports as sandbox_reports
from tests.sandbox.helpers import US, orders_app
from tests.sandbox.test_reports import month_before
from tests.sandbox.test_third_party_client import AmazonRouter, ThirdPartyClientTestCase, iso

DOCUMENT_HOST = "s3.sandbox.test"


class DocumentRouter(AmazonRouter):
    """Amazon's hosts as AmazonRouter routes them, and https://s3.sandbox.test/<path> to the sandbox's /<path>."""

    @staticmethod
    def sandbox_path(url: httpx.URL) -> str | None:
        if url.scheme == "https" and url.host == DOCUMENT_HOST:
            return url.raw_path.decode("ascii")
        return AmazonRouter.sandbox_path(url)


class DocumentHostTestCase(ThirdPartyClientTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.router = DocumentRouter()  # the transport patch reads self.router on each request
        hosts = override_settings(
            SANDBOX_BASE_URL=f"https://{DOCUMENT_HOST}/sandbox",
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, DOCUMENT_HOST],
        )
        hosts.enable()
        self.addCleanup(hosts.disable)


class ThirdPartyReportsTests(DocumentHostTestCase):
    def setUp(self) -> None:
        super().setUp()
        app = orders_app()
        self.reports: Any = self.sp_client(Reports, app, self.refresh_token(app))
        self.start, self.end = month_before(api.now())

    def test_the_library_creates_polls_and_downloads_a_month_of_orders(self) -> None:
        created = self.reports.create_report(
            reportType=portal_reports.ALL_ORDERS_BY_ORDER_DATE,
            marketplaceIds=[US],
            dataStartTime=iso(self.start),
            dataEndTime=iso(self.end),
        )
        report_id = created.payload["reportId"]
        self.assertEqual(self.reports.get_report(report_id).payload["processingStatus"], "IN_QUEUE")
        api.advance_clock(sandbox_reports.PROCESSED_AFTER.total_seconds())
        report = self.reports.get_report(report_id).payload
        self.assertEqual(report["processingStatus"], "DONE", self.router.dump())
        document = self.reports.get_report_document(report["reportDocumentId"], download=True).payload
        self.assertEqual(document["compressionAlgorithm"], "GZIP")
        rows = portal_reports.order_rows(document["document"])
        orders = api.generated_orders(self.seller, [US], created_after=self.start, created_before=self.end)
        self.assertEqual(
            sorted((r.order_id, r.sku) for r in rows),
            sorted((o.order_id, item["sku"]) for o in orders for item in o.items),
        )
        downloads = [e for e in self.router.log if DOCUMENT_HOST in e.url]
        self.assertEqual([e.status for e in downloads], [200])
        self.assertNotIn("x-amz-access-token", downloads[0].headers)

    def test_the_librarys_throttling_exception_carries_the_sandboxs_429(self) -> None:
        spec = {
            "reportType": portal_reports.ALL_ORDERS_BY_ORDER_DATE,
            "marketplaceIds": [US],
            "dataStartTime": iso(self.start),
            "dataEndTime": iso(self.end),
        }
        for _n in range(15):
            self.reports.create_report(**spec)
        with self.assertRaises(SellingApiRequestThrottledException):
            self.reports.create_report(**spec)
