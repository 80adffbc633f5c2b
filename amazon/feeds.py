"""Feeds API 2021-06-30 with the JSON_LISTINGS_FEED: many SKUs' stock in one submission.

The contract is tests/fixtures/amazon-models/feeds_2021-06-30.json (also github:amzn/selling-partner-api-models
models/feeds-api-model/feeds_2021-06-30.json), the feed document's schema listings-feed-schema-v2.json and its
processing report's listings-feed-processing-report-schema-v2.json (both from the same repository's schemas/listings/).
The steps ("Feeds API v2021-06-30 use case guide", https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-
use-case-guide):
1. createFeedDocument (contentType) → 201 with feedDocumentId and a presigned upload URL ("This URL expires after 5
   minutes.", CreateFeedDocumentResponse.url);
2. upload the document: PUT to that URL with the same Content-Type, without the access token (the URL is presigned),
   through the one HTTP wrapper (amazon/http.py, with its timeouts);
3. createFeed (feedType, marketplaceIds, inputFeedDocumentId) → 202 with feedId ("Upload the contents of the feed
   document before calling this operation");
4. getFeed until processingStatus is DONE (or CANCELLED, FATAL) → resultFeedDocumentId;
5. getFeedDocument → presigned URL (+ compressionAlgorithm GZIP) of the processing report, downloaded like a report
   document (amazon/reports.py `download_url`).

The stock feed carries, per SKU, the same JSON Patch the per-SKU push sends (amazon/listings.py `quantity_patch`: a
`merge` of /attributes/fulfillment_availability with the selector fulfillment_channel_code DEFAULT and only the
quantity, so handling time and restock date stay as they are). One feed holds at most 25,000 messages
(listings-feed-schema-v2.json messages "maxItems": 25000; "Items per request increases from 10,000 to 25,000 per
feed", https://developer-docs.amazon.com/sp-api/changelog/update-feed-size-and-rate-limit-changes-for-the-
json_listings_feed), and a region takes five JSON_LISTINGS_FEED submissions per five minutes (the same changelog;
sync/ratelimit.py PLANS "createFeed:JSON_LISTINGS_FEED").

The processing report lists issues per messageId; a message without an ERROR was accepted ("messagesAccepted: Number
of messages that were accepted, the associated updates are being applied"). Failures raise FeedError, an SpApiError
(the one error base, amazon/errors.py) with a problem named in words (`REASONS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from amazon import http, listings, reports, spapi

DOCUMENTS_PATH = "/feeds/2021-06-30/documents"
DOCUMENT_PATH = "/feeds/2021-06-30/documents/{document_id}"
FEEDS_PATH = "/feeds/2021-06-30/feeds"
FEED_PATH = "/feeds/2021-06-30/feeds/{feed_id}"
# Their usage plans: sync/ratelimit.py PLANS.
OPERATIONS = ("createFeedDocument", "createFeed", "getFeed", "getFeedDocument")

JSON_LISTINGS_FEED = "JSON_LISTINGS_FEED"
# The document's content type, given to createFeedDocument and sent again with the upload (the use case guide's
# example for JSON feeds: "application/json; charset=UTF-8").
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
MAX_MESSAGES = 25_000  # listings-feed-schema-v2.json, messages "maxItems": 25000
MAX_MESSAGE_ID = 2_147_483_647  # messageId "maximum": 2147483647
MAX_MARKETPLACES = 25  # CreateFeedSpecification.marketplaceIds "maxItems": 25
FEED_VERSION = "2.0"  # header.version "const": "2.0"
# Feed.processingStatus (the model's enum).
IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL = "IN_QUEUE", "IN_PROGRESS", "DONE", "CANCELLED", "FATAL"
PROCESSING_STATUSES = (IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL)
FINISHED = (DONE, CANCELLED, FATAL)


@dataclass(frozen=True)
class Upload:
    """CreateFeedDocumentResponse: where to PUT the document for the next 5 minutes."""

    feed_document_id: str
    url: str
    rate_limit: float | None


@dataclass(frozen=True)
class CreatedFeed:
    """createFeed's 202 (CreateFeedResponse)."""

    feed_id: str
    rate_limit: float | None


@dataclass(frozen=True)
class Feed:
    """The model's Feed (required: createdTime, feedId, feedType, processingStatus)."""

    feed_id: str
    feed_type: str
    processing_status: str  # one of PROCESSING_STATUSES
    created_time: datetime
    marketplace_ids: tuple[str, ...]
    processing_start_time: datetime | None
    processing_end_time: datetime | None
    result_feed_document_id: str | None
    rate_limit: float | None

    @property
    def finished(self) -> bool:
        return self.processing_status in FINISHED


@dataclass(frozen=True)
class FeedDocument:
    """The model's FeedDocument: the processing report's URL for the next 5 minutes and its compression."""

    feed_document_id: str
    url: str
    compression_algorithm: str | None  # "GZIP" or None
    rate_limit: float | None


@dataclass(frozen=True)
class StockChange:
    """One SKU's new quantity, sent as a message of the feed."""

    sku: str
    quantity: int
    product_type: str = "PRODUCT"


@dataclass(frozen=True)
class Issue:
    """An issue of the processing report (listings-feed-processing-report-schema-v2.json issues[])."""

    message_id: (
        int | None
    )  # "Not provided if the error is not related to a message (e.g. feed formatting issue)."
    sku: str
    code: str
    severity: str  # ERROR, WARNING or INFO
    message: str
    attribute_name: str


@dataclass(frozen=True)
class ProcessingReport:
    """The processing report: summary counts and the issues, with each message's outcome."""

    feed_id: str
    errors: int
    warnings: int
    messages_processed: int
    messages_accepted: int
    messages_invalid: int
    issues: tuple[Issue, ...]

    def errors_of(self, message_id: int) -> list[Issue]:
        return [i for i in self.issues if i.message_id == message_id and i.severity == "ERROR"]

    def accepted(self, message_id: int) -> bool:
        """A processed message without an ERROR issue was accepted; an ERROR without messageId (a formatting issue
        of the whole document) fails every message when none was accepted."""
        if self.messages_accepted == 0 and any(
            i.message_id is None and i.severity == "ERROR" for i in self.issues
        ):
            return False
        return not self.errors_of(message_id)


REASONS: dict[str, tuple[Promise, Promise]] = {
    "too_many_messages": (
        _("A listings feed holds at most 25,000 SKUs."),
        _("Send the SKUs in several feeds."),
    ),
    "fatal": (
        _("Amazon aborted the feed: none of its changes can be relied on."),
        _("Nothing to do: the stock is sent again automatically."),
    ),
    "cancelled": (
        _("The feed was cancelled before Amazon processed it."),
        _("Nothing to do: the stock is sent again automatically."),
    ),
    "document_expired": (
        _("The feed's upload or download link expired (Amazon's links last 5 minutes)."),
        _("Nothing to do: a new link is requested automatically."),
    ),
    "document_unreadable": (
        _("The feed's processing report could not be read."),
        _("Nothing to do: the stock is sent again automatically."),
    ),
    "not_found": (
        _("Amazon does not know this feed for this seller."),
        _("Nothing to do: the stock is sent again automatically."),
    ),
    "unauthorized": (
        _(
            "Amazon refused access: the store's authorization is revoked, expired or lacks the role for listings."
        ),
        _("Renew the store's authorization, then send the stock again."),
    ),
    "throttled": (
        _("Amazon is limiting how many feeds are sent."),
        _("Nothing to do: it is sent again automatically."),
    ),
    "unavailable": (
        _("Amazon did not answer properly."),
        _("Nothing to do: it is sent again automatically."),
    ),
    "invalid": (
        _("Amazon refused the feed."),
        _("Check the feed against Amazon's message."),
    ),
}
RETRYABLE_KINDS = ("throttled", "server_error", "network", "bad_response", "document_expired", "fatal")


class FeedError(spapi.SpApiError):
    """A Feeds API call, an upload or a download failed. `kind`, `status`, `code`, `message` as answered
    (amazon/errors.py; kinds of its own: too_many_messages, fatal, cancelled, document_expired,
    document_unreadable); `problem` names it (a key of REASONS)."""

    def __init__(self, kind: str, message: str = "", status: int | None = None, code: str = "") -> None:
        super().__init__(kind, message, status, code)
        if kind in REASONS:
            self.problem = kind
        elif kind in ("server_error", "network", "bad_response"):
            self.problem = "unavailable"
        else:
            self.problem = "invalid"

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    @property
    def reason(self) -> Promise:
        return REASONS[self.problem][0]

    @property
    def what_to_do(self) -> Promise:
        return REASONS[self.problem][1]


def stock_feed(
    seller_id: str, changes: list[StockChange], issue_locale: str = listings.ISSUE_LOCALE
) -> bytes:
    """The JSON_LISTINGS_FEED document (listings-feed-schema-v2.json) that sets each SKU's quantity with the
    per-SKU push's patch; messageId n is changes[n - 1]. FeedError too_many_messages past 25,000."""
    if not changes:
        raise FeedError("invalid", "A feed needs at least one message.")
    if len(changes) > MAX_MESSAGES:
        raise FeedError("too_many_messages", f"{len(changes)} messages; a feed holds at most {MAX_MESSAGES}.")
    messages = []
    for message_id, change in enumerate(changes, start=1):
        patch = listings.quantity_patch(change.quantity, change.product_type)
        messages.append(
            {
                "messageId": message_id,
                "sku": change.sku,
                "operationType": "PATCH",
                "productType": patch["productType"],
                "patches": patch["patches"],
            }
        )
    document = {
        "header": {"sellerId": seller_id, "version": FEED_VERSION, "issueLocale": issue_locale},
        "messages": messages,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def create_feed_document(
    sp_api_base: str, access_token: str, content_type: str = JSON_CONTENT_TYPE
) -> Upload:
    answer = spapi.call(
        FeedError, "POST", sp_api_base + DOCUMENTS_PATH, access_token, json={"contentType": content_type}
    )
    doc = answer.body
    if (
        answer.status != 201
        or not isinstance(doc, dict)
        or not isinstance(doc.get("feedDocumentId"), str)
        or not isinstance(doc.get("url"), str)
    ):
        raise FeedError(
            "bad_response", "createFeedDocument did not answer 201 with a document and URL", answer.status
        )
    return Upload(doc["feedDocumentId"], doc["url"], answer.rate_limit)


def upload(target: Upload, content: bytes, content_type: str = JSON_CONTENT_TYPE) -> None:
    """PUT the document to its presigned URL (no access token). An expired URL: FeedError document_expired."""
    try:
        r = http.request("PUT", target.url, data=content, headers={"Content-Type": content_type})
    except http.TransportError as exc:
        raise FeedError("network", "timeout" if exc.timeout else str(exc)) from exc
    if 200 <= r.status_code < 300:
        return
    code, message = reports.s3_error(r.content)
    if r.status_code == 403 and code == "AccessDenied" and "expired" in message.lower():
        raise FeedError("document_expired", message, 403, code)
    kind = "unauthorized" if r.status_code == 403 else "server_error" if r.status_code >= 500 else "invalid"
    raise FeedError(kind, message or f"HTTP {r.status_code}", r.status_code, code)


def create_feed(
    sp_api_base: str,
    access_token: str,
    input_feed_document_id: str,
    marketplace_ids: list[str],
    feed_type: str = JSON_LISTINGS_FEED,
) -> CreatedFeed:
    """createFeed (CreateFeedSpecification: feedType, marketplaceIds, inputFeedDocumentId) after the upload."""
    if not 1 <= len(marketplace_ids) <= MAX_MARKETPLACES:
        raise FeedError("invalid", f"marketplaceIds needs 1 to {MAX_MARKETPLACES} marketplaces.")
    body = {
        "feedType": feed_type,
        "marketplaceIds": list(marketplace_ids),
        "inputFeedDocumentId": input_feed_document_id,
    }
    answer = spapi.call(FeedError, "POST", sp_api_base + FEEDS_PATH, access_token, json=body)
    feed_id = answer.body.get("feedId") if isinstance(answer.body, dict) else None
    if answer.status != 202 or not isinstance(feed_id, str) or not feed_id:
        raise FeedError("bad_response", "createFeed did not answer 202 with a feedId", answer.status)
    return CreatedFeed(feed_id, answer.rate_limit)


def _datetime(value: Any, name: str) -> datetime | None:
    return reports.datetime_field(value, name, error=FeedError)


def parse_feed(doc: Any, rate_limit: float | None = None) -> Feed:
    if not isinstance(doc, dict):
        raise FeedError("bad_response", "getFeed did not answer a Feed object")
    status = doc.get("processingStatus")
    if status not in PROCESSING_STATUSES:
        raise FeedError("bad_response", f"unknown processingStatus {str(status)[:40]!r}")
    if not isinstance(doc.get("feedId"), str) or not isinstance(doc.get("feedType"), str):
        raise FeedError("bad_response", "feedId and feedType are required")
    created = _datetime(doc.get("createdTime"), "createdTime")
    if created is None:
        raise FeedError("bad_response", "createdTime is required")
    result = doc.get("resultFeedDocumentId")
    return Feed(
        feed_id=doc["feedId"],
        feed_type=doc["feedType"],
        processing_status=status,
        created_time=created,
        marketplace_ids=tuple(m for m in doc.get("marketplaceIds") or [] if isinstance(m, str)),
        processing_start_time=_datetime(doc.get("processingStartTime"), "processingStartTime"),
        processing_end_time=_datetime(doc.get("processingEndTime"), "processingEndTime"),
        result_feed_document_id=result if isinstance(result, str) and result else None,
        rate_limit=rate_limit,
    )


def get_feed(sp_api_base: str, access_token: str, feed_id: str) -> Feed:
    url = sp_api_base + FEED_PATH.format(feed_id=quote(feed_id, safe=""))
    answer = spapi.call(FeedError, "GET", url, access_token)
    return parse_feed(answer.body, answer.rate_limit)


def check_outcome(feed: Feed) -> None:
    """CANCELLED → FeedError cancelled; FATAL ("aborted due to a fatal error. Some, none, or all of the operations
    within the feed may have completed successfully.") → FeedError fatal: send the stock again."""
    if feed.processing_status == CANCELLED:
        raise FeedError("cancelled", "the feed was cancelled")
    if feed.processing_status == FATAL:
        raise FeedError("fatal", "the feed ended FATAL")


def get_feed_document(sp_api_base: str, access_token: str, feed_document_id: str) -> FeedDocument:
    url = sp_api_base + DOCUMENT_PATH.format(document_id=quote(feed_document_id, safe=""))
    answer = spapi.call(FeedError, "GET", url, access_token)
    doc = answer.body
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str) or not doc.get("feedDocumentId"):
        raise FeedError("bad_response", "getFeedDocument did not answer a FeedDocument", answer.status)
    algorithm = doc.get("compressionAlgorithm")
    if algorithm not in (None, "GZIP"):
        raise FeedError("bad_response", f"unknown compressionAlgorithm {str(algorithm)[:20]!r}")
    return FeedDocument(str(doc["feedDocumentId"]), doc["url"], algorithm, answer.rate_limit)


def _count(summary: dict[str, Any], name: str) -> int:
    value = summary.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FeedError("document_unreadable", f"summary.{name} is not a count")
    return value


def parse_processing_report(text: str) -> ProcessingReport:
    """listings-feed-processing-report-schema-v2.json (required: header, issues, summary)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise FeedError("document_unreadable", "the processing report is not JSON") from exc
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), t) for k, t in PARTS.items()):
        raise FeedError("document_unreadable", "the processing report lacks its header, issues or summary")
    issues = []
    for raw in doc["issues"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("message"), str):
            raise FeedError("document_unreadable", "an issue of the processing report is not readable")
        message_id = raw.get("messageId")
        issues.append(
            Issue(
                message_id=message_id
                if isinstance(message_id, int) and not isinstance(message_id, bool)
                else None,
                sku=str(raw.get("sku") or ""),
                code=str(raw.get("code") or ""),
                severity=str(raw.get("severity") or ""),
                message=raw["message"],
                attribute_name=str(raw.get("attributeName") or ""),
            )
        )
    summary = doc["summary"]
    return ProcessingReport(
        feed_id=str(doc["header"].get("feedId") or ""),
        errors=_count(summary, "errors"),
        warnings=_count(summary, "warnings"),
        messages_processed=_count(summary, "messagesProcessed"),
        messages_accepted=_count(summary, "messagesAccepted"),
        messages_invalid=_count(summary, "messagesInvalid"),
        issues=tuple(issues),
    )


PARTS: dict[str, type] = {"header": dict, "issues": list, "summary": dict}


def download_processing_report(document: FeedDocument) -> ProcessingReport:
    """Download (gunzip when GZIP) and read the processing report. An expired URL: FeedError document_expired
    (call get_feed_document again)."""
    return parse_processing_report(
        reports.download_url(document.url, document.compression_algorithm, FeedError)
    )
