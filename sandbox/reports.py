"""Reports API 2021-06-30 as Amazon plays it, for the order report GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL.

The contract is tests/fixtures/amazon-models/reports_2021-06-30.json: createReport (202 CreateReportResponse),
getReport (200 Report), getReportDocument (200 ReportDocument); errors in the model's ErrorList. Rate limits (the
models' usage plans, sandbox/ratelimit.py), faults (group "reports") and the access-token checks come from
sandbox/spapi.py `operation`.

What the sandbox does, and Amazon's source for each:
- Processing on the virtual clock: IN_QUEUE for QUEUED_FOR, then IN_PROGRESS until PROCESSED_AFTER, then one of DONE,
  CANCELLED, FATAL (the model's processingStatus enum). Amazon gives no duration; these are the sandbox's own.
- The report is built once, from the sandbox's own orders (sandbox/simulated_orders.py, generated lazily per day as
  for searchOrders) as they stand at the end of processing, with one query for the whole range (no query per order).
- Columns: "Order Tracking reports attributes" (https://developer-docs.amazon.com/sp-api/docs/order-tracking-reports-
  attributes), GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL; a tab-delimited flat file with a header row
  ("Report output type: Tab-delimited flat file", "Order Reports", https://developer-docs.amazon.com/sp-api/docs/
  report-type-values-order), one row per order item; there is no order-item id column. The attribute list names no
  values: order-status and item-status use the words of Orders API v0's OrderStatus (ordersV0.json: Pending,
  Unshipped, PartiallyShipped, Shipped, Canceled); columns the sandbox keeps no data for (taxes, shipping and gift
  wrap prices, promotions, the ship-to address, cpf, purchase order) are empty.
- The range covers purchase dates from dataStartTime to dataEndTime, both included; "Order reports only support orders
  that are less than two years old" (Order Reports; the JP, AU and SG exception as searchOrders, RETENTION in
  simulated_orders), so older orders are left out.
- At most 30 days per report: a longer range ends FATAL with a document holding Amazon's words "Date range exceeded.
  Report can be requested only upto 30 days" (github:amzn/selling-partner-api-models #2591; before that Amazon
  answered an empty report past 31 days, #385).
- "The reports are canceled if no eligible data is found." (Order Reports; the model's CANCELLED: "an automatic
  cancellation if there is no data to return"): no reportDocumentId then.
- Fault injection "fatal" (group reports): every report created while it is set ends FATAL, without a document.
- The document: gzip (ReportDocument.compressionAlgorithm GZIP), served through a presigned URL that "expires after 5
  minutes" (sandbox/documents.py); each getReportDocument signs a new one. "Order reports are retained for 30 days"
  (Order Reports): after that getReport and getReportDocument answer 404.
"""

from __future__ import annotations

import gzip
import io
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_datetime

from sandbox import catalog, documents, faults, simulated_orders
from sandbox.models import SandboxDocument, SandboxOrder, SandboxReport, SandboxSeller
from sandbox.spapi import NOT_FOR_REGION, BadRequest, Call, Denied, operation

ALL_ORDERS_BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
REPORT_TYPES = (ALL_ORDERS_BY_ORDER_DATE,)
QUEUED_FOR = timedelta(seconds=15)
PROCESSED_AFTER = timedelta(seconds=60)
MAX_RANGE = timedelta(days=30)
DATE_RANGE_EXCEEDED = "Date range exceeded. Report can be requested only upto 30 days"
RETAINED_FOR = timedelta(days=30)
MAX_MARKETPLACES = 25  # CreateReportSpecification.marketplaceIds "maxItems": 25
IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL = "IN_QUEUE", "IN_PROGRESS", "DONE", "CANCELLED", "FATAL"

COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "cpf", "is-business-order",
    "purchase-order-number", "price-designation",
)  # fmt: skip
# The sandbox's statuses (simulated_orders.status_at) in ordersV0.json's OrderStatus words.
ORDER_STATUS = {
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
}
FULFILLMENT_CHANNEL = {"MERCHANT": "Merchant", "AMAZON": "Amazon"}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _cell(value: str) -> str:
    # A tab or line break inside a value would shift the columns of a flat file.
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _item_status(status: str, item: dict[str, Any], shipped_items: dict[str, Any]) -> str:
    if status != "PARTIALLY_SHIPPED":
        return ORDER_STATUS[status]
    shipped = shipped_items.get(item["orderItemId"], 0) if isinstance(shipped_items, dict) else 0
    return "Shipped" if isinstance(shipped, int) and shipped >= int(item["quantity"]) else "Unshipped"


FIELDS = (
    "order_id", "created_time", "last_updated", "status", "marketplace_id", "currency", "fulfilled_by", "items",
    "shipped_items",
)  # fmt: skip


def _orders(
    seller: SandboxSeller, marketplace_ids: list[str], start: datetime, upper: datetime, at: datetime
) -> Iterator[dict[str, Any]]:
    """The orders purchased in [start, upper] as seen at `at`, in one query (values only, no model instances)."""
    rows = (
        SandboxOrder.objects.filter(
            seller=seller,
            marketplace_id__in=marketplace_ids,
            created_time__gte=start,
            created_time__lte=upper,
        )
        .filter(simulated_orders.retained(marketplace_ids, at))
        .annotate(status=simulated_orders.status_at(at), last_updated=simulated_orders.last_updated_at(at))
        .order_by("created_time", "order_id")
        .values(*FIELDS)
    )
    return rows.iterator(chunk_size=2000)


def _row(order: dict[str, Any], item: dict[str, Any], sales_channel: str) -> list[str]:
    quantity = int(item["quantity"])
    values = {
        "amazon-order-id": order["order_id"],
        "purchase-date": _iso(order["created_time"]),
        "last-updated-date": _iso(order["last_updated"]),
        "order-status": ORDER_STATUS[order["status"]],
        "fulfillment-channel": FULFILLMENT_CHANNEL.get(order["fulfilled_by"], "Merchant"),
        "sales-channel": sales_channel,
        "ship-service-level": "Standard",
        "product-name": _cell(str(item["title"])),
        "sku": _cell(str(item["sku"])),
        "asin": str(item["asin"]),
        "item-status": _item_status(order["status"], item, order["shipped_items"]),
        "quantity": str(quantity),
        "currency": order["currency"],
        # item-price: the price of the row's whole quantity.
        "item-price": f"{Decimal(item['unitPrice']) * quantity:.2f}",
        "is-business-order": "false",
    }
    return [values.get(column, "") for column in COLUMNS]


def order_rows(
    seller: SandboxSeller, marketplace_ids: list[str], start: datetime, end: datetime, at: datetime
) -> Iterator[list[str]]:
    """The report's rows (one per order item) for orders purchased in [start, end] as seen at `at`: the range's days
    are generated in bulk if missing, then read in one query."""
    upper = min(end, at)
    if upper < start:
        return
    simulated_orders.ensure_generated(seller, marketplace_ids, start.date(), upper.date())
    channels: dict[str, str] = {}
    for order in _orders(seller, marketplace_ids, start, upper, at):
        marketplace_id = order["marketplace_id"]
        if marketplace_id not in channels:
            m = catalog.marketplace(marketplace_id)
            channels[marketplace_id] = catalog.marketplace_name(m) if m else ""
        for item in order["items"]:
            yield _row(order, item, channels[marketplace_id])


def flat_file(rows: Iterator[list[str]]) -> tuple[bytes, int]:
    """The gzip of the tab-separated file (header first) and its number of rows."""
    buffer = io.BytesIO()
    count = 0
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=5, mtime=0) as out:
        out.write(("\t".join(COLUMNS) + "\n").encode())
        for row in rows:
            out.write(("\t".join(row) + "\n").encode())
            count += 1
    return buffer.getvalue(), count


def processing_status(report: SandboxReport, at: datetime) -> str:
    """The status at `at`; a report whose processing has ended is settled (built) on the way."""
    if report.outcome:
        return report.outcome
    if at < report.created_time + QUEUED_FOR:
        return IN_QUEUE
    if at < report.created_time + PROCESSED_AFTER:
        return IN_PROGRESS
    settle(report)
    return report.outcome


def settle(report: SandboxReport) -> None:
    """Build the report as it stands at the end of its processing, once (concurrent readers wait for the first)."""
    with transaction.atomic():
        locked = SandboxReport.objects.select_for_update().select_related("seller").get(pk=report.pk)
        if not locked.outcome:
            ended = locked.created_time + PROCESSED_AFTER
            if locked.fault == "fatal":
                locked.outcome = FATAL
            elif locked.data_end_time - locked.data_start_time > MAX_RANGE:
                locked.outcome = FATAL
                locked.document = documents.new_document(
                    locked.seller,
                    SandboxDocument.Kind.REPORT,
                    ended,
                    content=DATE_RANGE_EXCEEDED.encode(),
                    content_type="text/plain; charset=UTF-8",
                )
            else:
                rows = order_rows(
                    locked.seller, locked.marketplace_ids, locked.data_start_time, locked.data_end_time, ended
                )
                content, count = flat_file(rows)
                if count == 0:
                    locked.outcome = CANCELLED
                else:
                    locked.outcome = DONE
                    locked.document = documents.new_document(
                        locked.seller,
                        SandboxDocument.Kind.REPORT,
                        ended,
                        content=content,
                        compressed=True,
                        content_type="text/tab-separated-values; charset=UTF-8",
                    )
            locked.save(update_fields=["outcome", "document"])
    report.outcome, report.document_id = locked.outcome, locked.document_id
    report.document = locked.document


def report_json(report: SandboxReport, at: datetime) -> dict[str, Any]:
    status = processing_status(report, at)
    body: dict[str, Any] = {
        "reportId": report.report_id,
        "reportType": report.report_type,
        "dataStartTime": _iso(report.data_start_time),
        "dataEndTime": _iso(report.data_end_time),
        "marketplaceIds": report.marketplace_ids,
        "createdTime": _iso(report.created_time),
        "processingStatus": status,
    }
    if status != IN_QUEUE:
        body["processingStartTime"] = _iso(report.created_time + QUEUED_FOR)
    if status in (DONE, CANCELLED, FATAL):
        body["processingEndTime"] = _iso(report.created_time + PROCESSED_AFTER)
    if report.document is not None:
        body["reportDocumentId"] = report.document.document_id
    return body


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("Request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a CreateReportSpecification object.")
    return body


def _time(body: dict[str, Any], name: str, at: datetime) -> datetime:
    raw = body.get(name)
    if raw is None:
        return at  # "The default is now." (CreateReportSpecification)
    value = None
    if isinstance(raw, str):
        try:
            value = parse_datetime(raw)
        except ValueError:
            value = None
    if value is None:
        raise BadRequest(f"{name}: is invalid, must be an ISO 8601 date-time.")
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value > at:
        # "The value must be prior to or equal to the current date and time." (CreateReportSpecification)
        raise BadRequest(f"{name}: must be prior to or equal to the current date and time.")
    return value


def _marketplaces(body: dict[str, Any], call: Call) -> list[str]:
    ids = body.get("marketplaceIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise BadRequest("marketplaceIds: is required, a list of 1 to 25 marketplace ids.")
    if len(ids) > MAX_MARKETPLACES:
        raise BadRequest(f"marketplaceIds: accepts at most {MAX_MARKETPLACES} values.")
    # As searchOrders refuses them (sandbox/spapi.py `_order_marketplaces`): another region's marketplace, or one
    # the seller does not sell in, is access denied.
    for marketplace_id in ids:
        m = catalog.marketplace(marketplace_id)
        if m is None or m.region != call.seller.region:
            raise Denied(NOT_FOR_REGION)
        if marketplace_id not in call.seller.marketplace_ids:
            raise Denied()
    return list(dict.fromkeys(ids))


def _new_report_id() -> str:
    # Amazon's report ids are digits (e.g. "189396019568", github:amzn/selling-partner-api-models #2668).
    return str(10**11 + secrets.randbelow(9 * 10**11))


@operation("reports", "createReport")
def create_report(request: HttpRequest, call: Call) -> HttpResponse:
    if request.method != "POST":
        raise BadRequest("Only createReport (POST) is simulated here.", status=405, code="MethodNotAllowed")
    body = _body(request)
    report_type = body.get("reportType")
    if not isinstance(report_type, str) or not report_type:
        raise BadRequest("reportType: is required.")
    if report_type not in REPORT_TYPES:
        raise BadRequest(
            f"reportType {report_type[:100]!r} is not simulated: the sandbox makes {', '.join(REPORT_TYPES)}."
        )
    marketplace_ids = _marketplaces(body, call)
    start, end = _time(body, "dataStartTime", call.at), _time(body, "dataEndTime", call.at)
    if end < start:
        raise BadRequest("dataEndTime: must be equal to or after dataStartTime.")
    report = SandboxReport.objects.create(
        report_id=_new_report_id(),
        seller=call.seller,
        report_type=report_type,
        marketplace_ids=marketplace_ids,
        data_start_time=start,
        data_end_time=end,
        created_time=call.at,
        fault="fatal" if faults.fatal("reports") else "",
    )
    return JsonResponse({"reportId": report.report_id}, status=202)


def _report(call: Call, report_id: str) -> SandboxReport:
    report = (
        SandboxReport.objects.select_related("document")
        .filter(report_id=report_id, seller=call.seller, created_time__gte=call.at - RETAINED_FOR)
        .first()
    )
    if report is None:
        raise BadRequest(f"Report {report_id[:40]} was not found.", status=404, code="NotFound")
    return report


@operation("reports", "getReport")
def get_report(request: HttpRequest, call: Call, report_id: str) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Only getReport (GET) is simulated here.", status=405, code="MethodNotAllowed")
    return JsonResponse(report_json(_report(call, report_id), call.at))


@operation("reports", "getReportDocument")
def get_report_document(request: HttpRequest, call: Call, document_id: str) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    document = (
        SandboxDocument.objects.select_related("seller")
        .filter(
            document_id=document_id,
            seller=call.seller,
            kind=SandboxDocument.Kind.REPORT,
            created__gte=call.at - RETAINED_FOR,
        )
        .first()
    )
    if document is None:
        raise BadRequest(f"Report document {document_id[:120]} was not found.", status=404, code="NotFound")
    return documents.download_answer(document, "reportDocumentId", call.at)
