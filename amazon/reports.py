"""Reports API 2021-06-30: createReport, getReport, getReportDocument, and the report document's download.

The contract is tests/fixtures/amazon-models/reports_2021-06-30.json (also github:amzn/selling-partner-api-models
models/reports-api-model/reports_2021-06-30.json). A report is asked for (createReport, 202 with a reportId), polled
(getReport: processingStatus IN_QUEUE → IN_PROGRESS → DONE, or CANCELLED, or FATAL) and, once DONE, fetched:
getReportDocument gives a presigned URL ("This URL expires after 5 minutes.", ReportDocument.url) and
compressionAlgorithm GZIP when the content is compressed ("you must decompress the report when you download").

The document is read from the URL without the SP-API access token (the URL is presigned: it carries its own
authorization) through the one HTTP wrapper (amazon/http.py, with its timeouts). A URL that has expired answers as
Amazon S3 answers any expired presigned request: 403 with an XML body whose Code is AccessDenied and Message "Request
has expired" (Amazon S3, "Error responses", https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html);
the remedy is another getReportDocument, which signs a new URL.

The order report of the backfill is GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL: a tab-separated flat file,
one row per order item, with the columns of "Order Tracking reports attributes"
(https://developer-docs.amazon.com/sp-api/docs/order-tracking-reports-attributes); rows carry no order-item id, so an
item is known by its order and SKU. "Order reports only support orders that are less than two years old" and "The
reports are canceled if no eligible data is found" ("Order Reports", https://developer-docs.amazon.com/sp-api/docs/
report-type-values-order); one report covers at most 30 days: a longer range ends in "Date range exceeded. Report can
be requested only upto 30 days" (github:amzn/selling-partner-api-models #2591; #385 for the earlier 31-day limit).

Failures raise ReportError, an SpApiError (the one error base, amazon/errors.py) naming the problem with a reason in
words and what to do (`REASONS`).
"""

from __future__ import annotations

import csv
import html
import io
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from amazon import http, spapi

REPORTS_PATH = "/reports/2021-06-30/reports"
REPORT_PATH = "/reports/2021-06-30/reports/{report_id}"
DOCUMENT_PATH = "/reports/2021-06-30/documents/{document_id}"
# Their usage plans: sync/ratelimit.py PLANS (createReport 0.0167/15, getReport 2/15, getReportDocument 0.0167/15).
OPERATIONS = ("createReport", "getReport", "getReportDocument")

ALL_ORDERS_BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
# The longest range one order report covers (github:amzn/selling-partner-api-models #2591: "Report can be requested
# only upto 30 days").
MAX_ORDER_REPORT_RANGE = timedelta(days=30)
# Report.processingStatus (the model's enum and its descriptions).
IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL = "IN_QUEUE", "IN_PROGRESS", "DONE", "CANCELLED", "FATAL"
PROCESSING_STATUSES = (IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL)
FINISHED = (DONE, CANCELLED, FATAL)
# CreateReportSpecification.marketplaceIds: "minItems": 1, "maxItems": 25.
MAX_MARKETPLACES = 25
# ReportDocument.url: "This URL expires after 5 minutes."
DOCUMENT_URL_LIFETIME = timedelta(minutes=5)
# A decompressed document larger than this is refused rather than held in memory (a month of a seller with 2,000
# orders a day is about 60,000 rows of ~400 bytes: 25 MB).
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

# GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL's columns, in Amazon's order ("Order Tracking reports
# attributes", https://developer-docs.amazon.com/sp-api/docs/order-tracking-reports-attributes).
ORDER_REPORT_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "cpf", "is-business-order",
    "purchase-order-number", "price-designation",
)  # fmt: skip
# What `order_rows` needs of them: a document without one of these is not the documented report.
S3_CODE = re.compile(r"<Code>([^<]*)</Code>")
S3_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
REQUIRED_COLUMNS = (
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "sku",
    "quantity",
)


@dataclass(frozen=True)
class CreatedReport:
    """createReport's 202 (CreateReportResponse): the report is queued."""

    report_id: str
    rate_limit: float | None  # x-amzn-RateLimit-Limit, when Amazon sent it


@dataclass(frozen=True)
class Report:
    """The model's Report (required: processingStatus, reportId, reportType, createdTime)."""

    report_id: str
    report_type: str
    processing_status: str  # one of PROCESSING_STATUSES
    created_time: datetime
    marketplace_ids: tuple[str, ...]
    data_start_time: datetime | None
    data_end_time: datetime | None
    processing_start_time: datetime | None
    processing_end_time: datetime | None
    # "Pass this into the getReportDocument operation": set when DONE, and on a FATAL report whose document holds
    # Amazon's explanation.
    report_document_id: str | None
    rate_limit: float | None

    @property
    def finished(self) -> bool:
        """Polling can stop: DONE, CANCELLED or FATAL."""
        return self.processing_status in FINISHED


@dataclass(frozen=True)
class ReportDocument:
    """The model's ReportDocument: where to download the content for the next 5 minutes, and how it is compressed."""

    report_document_id: str
    url: str
    compression_algorithm: str | None  # "GZIP" or None (the content is not compressed)
    rate_limit: float | None


@dataclass(frozen=True)
class OrderRow:
    """One row (one order item) of GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL, typed. `columns` keeps every
    column as Amazon wrote it, including those not typed here."""

    order_id: str  # amazon-order-id
    purchase_date: datetime
    last_updated_date: datetime
    order_status: str
    fulfillment_channel: str
    sales_channel: str
    sku: str
    asin: str
    product_name: str
    item_status: str
    quantity: int
    currency: str
    item_price: Decimal | None  # the item's price for the whole quantity; None when the column is empty
    columns: dict[str, str]


# problem → (what went wrong, what to do).
REASONS: dict[str, tuple[Promise, Promise]] = {
    "cancelled": (
        _("Amazon cancelled the report: there were no orders in that period."),
        _("Nothing to do: the period has no orders."),
    ),
    "fatal": (
        _("Amazon could not produce the report."),
        _("Request the report again later; if it fails again, load the period through the order search."),
    ),
    "date_range": (
        _("An order report covers at most 30 days."),
        _("Request the period in slices of at most 30 days."),
    ),
    "document_expired": (
        _("The report's download link expired (Amazon's links last 5 minutes)."),
        _("Nothing to do: a new link is requested automatically."),
    ),
    "document_unreadable": (
        _("The report's document could not be read."),
        _("Request the report again."),
    ),
    "not_found": (
        _("Amazon does not know this report for this seller."),
        _("Request the report again."),
    ),
    "unauthorized": (
        _(
            "Amazon refused access: the store's authorization is revoked, expired or lacks the role for reports."
        ),
        _("Renew the store's authorization with the role for order reports."),
    ),
    "throttled": (
        _("Amazon is limiting how fast reports are requested."),
        _("Nothing to do: it is sent again automatically."),
    ),
    "unavailable": (
        _("Amazon did not answer properly."),
        _("Nothing to do: it is sent again automatically."),
    ),
    "invalid": (
        _("Amazon refused the report request."),
        _("Check the report type, marketplaces and dates against Amazon's message."),
    ),
}
RETRYABLE_KINDS = ("throttled", "server_error", "network", "bad_response", "document_expired")


class ReportError(spapi.SpApiError):
    """A Reports API call or a document download failed. `kind`, `status`, `code`, `message` as answered
    (amazon/errors.py; kinds of its own: cancelled, fatal, document_expired, document_unreadable); `problem` names
    it (a key of REASONS); `retryable` says whether trying again later can succeed."""

    def __init__(self, kind: str, message: str = "", status: int | None = None, code: str = "") -> None:
        super().__init__(kind, message, status, code)
        self.problem = _problem(kind, message)

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    @property
    def reason(self) -> Promise:
        return REASONS[self.problem][0]

    @property
    def what_to_do(self) -> Promise:
        return REASONS[self.problem][1]


def _problem(kind: str, message: str) -> str:
    if kind in ("cancelled", "fatal", "document_expired", "document_unreadable", "not_found", "throttled"):
        if kind == "fatal" and "date range exceeded" in message.lower():
            return "date_range"
        return kind
    if kind in ("server_error", "network", "bad_response"):
        return "unavailable"
    if kind == "unauthorized":
        return "unauthorized"
    return "invalid"


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the model's date-time fields."""
    if value.utcoffset() is None:
        raise ReportError("invalid", "A report's data start and end times need a time zone.")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def datetime_field(
    value: Any, name: str, *, required: bool = False, error: type[spapi.SpApiError] = ReportError
) -> datetime | None:
    """An ISO 8601 date-time of a Reports or Feeds answer (UTC when it carries no offset); None when absent and not
    required; anything else is `error` bad_response."""
    if value is None and not required:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise error("bad_response", f"{name} is not an ISO 8601 date-time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def create_report(
    sp_api_base: str,
    access_token: str,
    report_type: str,
    marketplace_ids: list[str],
    *,
    data_start_time: datetime | None = None,
    data_end_time: datetime | None = None,
) -> CreatedReport:
    """Ask for a report (CreateReportSpecification: reportType, marketplaceIds, optional dataStartTime and
    dataEndTime, "The default is now"). ReportError "invalid" without sending when the request breaks the model."""
    if not report_type:
        raise ReportError("invalid", "reportType is required.")
    if not 1 <= len(marketplace_ids) <= MAX_MARKETPLACES:
        raise ReportError("invalid", f"marketplaceIds needs 1 to {MAX_MARKETPLACES} marketplaces.")
    body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
    if data_start_time is not None:
        body["dataStartTime"] = iso(data_start_time)
    if data_end_time is not None:
        body["dataEndTime"] = iso(data_end_time)
    if data_start_time is not None and data_end_time is not None and data_end_time < data_start_time:
        raise ReportError("invalid", "dataEndTime must not be before dataStartTime.")
    # Not replay safe: a createReport sent twice queues two reports (harmless but counted against the usage plan).
    answer = spapi.call(ReportError, "POST", sp_api_base + REPORTS_PATH, access_token, json=body)
    report_id = answer.body.get("reportId") if isinstance(answer.body, dict) else None
    if answer.status != 202 or not isinstance(report_id, str) or not report_id:
        raise ReportError("bad_response", "createReport did not answer 202 with a reportId", answer.status)
    return CreatedReport(report_id, answer.rate_limit)


def parse_report(doc: Any, rate_limit: float | None = None) -> Report:
    """The model's Report from a getReport answer; ReportError bad_response when it is not that shape."""
    if not isinstance(doc, dict):
        raise ReportError("bad_response", "getReport did not answer a Report object")
    status = doc.get("processingStatus")
    if status not in PROCESSING_STATUSES:
        raise ReportError("bad_response", f"unknown processingStatus {str(status)[:40]!r}")
    report_id, report_type = doc.get("reportId"), doc.get("reportType")
    if not isinstance(report_id, str) or not isinstance(report_type, str):
        raise ReportError("bad_response", "reportId and reportType are required")
    marketplaces = doc.get("marketplaceIds") or []
    document_id = doc.get("reportDocumentId")
    created = datetime_field(doc.get("createdTime"), "createdTime", required=True)
    assert created is not None
    return Report(
        report_id=report_id,
        report_type=report_type,
        processing_status=status,
        created_time=created,
        marketplace_ids=tuple(str(m) for m in marketplaces if isinstance(m, str)),
        data_start_time=datetime_field(doc.get("dataStartTime"), "dataStartTime"),
        data_end_time=datetime_field(doc.get("dataEndTime"), "dataEndTime"),
        processing_start_time=datetime_field(doc.get("processingStartTime"), "processingStartTime"),
        processing_end_time=datetime_field(doc.get("processingEndTime"), "processingEndTime"),
        report_document_id=document_id if isinstance(document_id, str) and document_id else None,
        rate_limit=rate_limit,
    )


def get_report(sp_api_base: str, access_token: str, report_id: str) -> Report:
    """The report's state (getReport, 200 with the model's Report)."""
    url = sp_api_base + REPORT_PATH.format(report_id=quote(report_id, safe=""))
    answer = spapi.call(ReportError, "GET", url, access_token)
    return parse_report(answer.body, answer.rate_limit)


def get_report_document(sp_api_base: str, access_token: str, report_document_id: str) -> ReportDocument:
    """A fresh presigned URL for a report document (getReportDocument, 200 with the model's ReportDocument). Each
    call signs a new URL, so it is the remedy for an expired one."""
    url = sp_api_base + DOCUMENT_PATH.format(document_id=quote(report_document_id, safe=""))
    answer = spapi.call(ReportError, "GET", url, access_token)
    doc = answer.body
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str) or not doc.get("reportDocumentId"):
        raise ReportError("bad_response", "getReportDocument did not answer a ReportDocument", answer.status)
    algorithm = doc.get("compressionAlgorithm")
    if algorithm not in (None, "GZIP"):
        raise ReportError("bad_response", f"unknown compressionAlgorithm {str(algorithm)[:20]!r}")
    return ReportDocument(str(doc["reportDocumentId"]), doc["url"], algorithm, answer.rate_limit)


def s3_error(body: bytes) -> tuple[str, str]:
    """(Code, Message) of Amazon S3's XML error body (<Error><Code>…</Code><Message>…</Message>…</Error>)."""
    # Two fixed elements of a small document: read with a pattern, not an XML parser (no entity expansion).
    text = body[:4096].decode("utf-8", errors="replace")
    code, message = S3_CODE.search(text), S3_MESSAGE.search(text)
    return (code.group(1) if code else "")[:60], (html.unescape(message.group(1)) if message else "")[:300]


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
    try:
        out = inflater.decompress(data, MAX_DOCUMENT_BYTES + 1)
    except zlib.error as exc:
        raise ReportError("document_unreadable", "the document is not valid gzip") from exc
    if len(out) > MAX_DOCUMENT_BYTES or inflater.unconsumed_tail:
        raise ReportError("document_unreadable", "the document is larger than the portal reads")
    return out


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _sep, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


def download(document: ReportDocument) -> str:
    """The document's text: fetched from its presigned URL (no access token: the URL carries its own authorization),
    gunzipped when compressionAlgorithm is GZIP, decoded with the charset of its Content-Type (UTF-8 without one).

    An expired URL (S3's 403 AccessDenied "Request has expired") raises kind document_expired: call
    get_report_document again for a new URL."""
    return download_url(document.url, document.compression_algorithm, ReportError)


def download_url(url: str, compression_algorithm: str | None, error: type[spapi.SpApiError]) -> str:
    """`download` for any presigned document URL (the Feeds API's documents too), raising `error`'s class."""
    try:
        r = http.request("GET", url)
    except http.TransportError as exc:
        raise error("network", "timeout" if exc.timeout else str(exc)) from exc
    if r.status_code == 403:
        code, message = s3_error(r.content)
        if code == "AccessDenied" and "expired" in message.lower():
            raise error("document_expired", message, 403, code)
        raise error("unauthorized", message or "HTTP 403", 403, code)
    if r.status_code != 200:
        code, message = s3_error(r.content)
        kind = "server_error" if r.status_code >= 500 else "invalid"
        raise error(kind, message or f"HTTP {r.status_code}", r.status_code, code)
    content = r.content
    if compression_algorithm == "GZIP":
        try:
            content = _gunzip(content)
        except ReportError as exc:
            raise error(exc.kind, exc.message) from exc
    try:
        return content.decode(_charset(r.headers.get("Content-Type", "")))
    except (LookupError, UnicodeDecodeError) as exc:
        raise error("document_unreadable", "the document's text is not in its declared encoding") from exc


def flat_file(text: str) -> list[dict[str, str]]:
    """A tab-separated flat file report (a header row, then one row per record) as dicts by column."""
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return []
    header = [h.strip() for h in header]
    return [dict(zip(header, row, strict=False)) for row in reader if any(cell.strip() for cell in row)]


def _decimal(value: str) -> Decimal | None:
    if not value.strip():
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation as exc:
        raise ReportError("document_unreadable", "a price is not a number") from exc


def order_rows(text: str) -> list[OrderRow]:
    """GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL's rows, typed. ReportError document_unreadable when the
    document lacks a column `REQUIRED_COLUMNS` names or a value is not of its type."""
    rows = flat_file(text)
    if rows:
        missing = [c for c in REQUIRED_COLUMNS if c not in rows[0]]
        if missing:
            raise ReportError("document_unreadable", f"the report lacks the columns {', '.join(missing)}")
    out = []
    for row in rows:
        try:
            purchased = datetime_field(row["purchase-date"], "purchase-date", required=True)
            updated = datetime_field(row["last-updated-date"], "last-updated-date", required=True)
            quantity = int(row["quantity"])
        except (ReportError, ValueError) as exc:
            raise ReportError("document_unreadable", f"a row of the report is not readable: {exc}") from exc
        assert purchased is not None and updated is not None
        out.append(
            OrderRow(
                order_id=row["amazon-order-id"],
                purchase_date=purchased,
                last_updated_date=updated,
                order_status=row["order-status"],
                fulfillment_channel=row.get("fulfillment-channel", ""),
                sales_channel=row.get("sales-channel", ""),
                sku=row["sku"],
                asin=row.get("asin", ""),
                product_name=row.get("product-name", ""),
                item_status=row.get("item-status", ""),
                quantity=quantity,
                currency=row.get("currency", ""),
                item_price=_decimal(row.get("item-price", "")),
                columns=row,
            )
        )
    return out


def check_outcome(report: Report, explanation: str = "") -> None:
    """Raise for a report that ended without data: CANCELLED ("an automatic cancellation if there is no data to
    return", the model's enum) → kind cancelled; FATAL ("aborted due to a fatal error") → kind fatal, with the text
    of its document as message when the caller read it (Amazon's "Date range exceeded…" becomes problem date_range).
    """
    if report.processing_status == CANCELLED:
        raise ReportError("cancelled", "the report was cancelled: no data")
    if report.processing_status == FATAL:
        raise ReportError("fatal", explanation.strip()[:300] or "the report ended FATAL")
