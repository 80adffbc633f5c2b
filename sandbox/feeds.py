"""Feeds API 2021-06-30 as Amazon plays it, for JSON_LISTINGS_FEED stock updates.

The contract is tests/fixtures/amazon-models/feeds_2021-06-30.json (createFeedDocument 201 CreateFeedDocumentResponse,
createFeed 202 CreateFeedResponse, getFeed 200 Feed, getFeedDocument 200 FeedDocument; errors in ErrorList), the
document's schema listings-feed-schema-v2.json and the processing report's listings-feed-processing-report-schema-
v2.json. Rate limits (sandbox/ratelimit.py; a JSON_LISTINGS_FEED also takes a token of its feed type's "five feed
submissions per five minutes"), faults (group "feeds") and the access-token checks come from sandbox/spapi.py
`operation`.

What the sandbox does:
- createFeedDocument answers a presigned URL the sandbox takes a PUT on for 5 minutes (sandbox/documents.py; "This URL
  expires after 5 minutes.").
- createFeed needs the document uploaded ("Upload the contents of the feed document before calling this operation").
  The feed is processed there and then, its effects timed at the end of its processing on the virtual clock
  (IN_QUEUE for QUEUED_FOR, IN_PROGRESS until PROCESSED_AFTER, then DONE; Amazon gives no duration, these are the
  sandbox's own): a listing shows a change from then on, as after a patchListingsItem (PROCESSING_DELAY later).
- The document is checked against listings-feed-schema-v2.json: header.sellerId (the seller's) and header.version
  "2.0"; 1 to 25,000 messages ("maxItems": 25000; "25,000 per feed", https://developer-docs.amazon.com/sp-api/
  changelog/update-feed-size-and-rate-limit-changes-for-the-json_listings_feed). A document that breaks these ends
  FATAL with a processing report whose issue has no messageId ("Not provided if the error is not related to a
  message (e.g. feed formatting issue)").
- Each message: messageId (1 to 2147483647, "unique within this feed submission"), sku, operationType; a PATCH
  "require[s] a productType and patches" and takes no attributes or requirements (the schema's oneOf). Only PATCH is
  simulated. A message's patches are checked and applied by the same code as patchListingsItem's (sandbox/spapi.py
  `_patch_issues`, `_apply`, `_shown`), so a merge of /attributes/fulfillment_availability changes the quantity exactly
  as a per-SKU patch would and leaves lead_time_to_ship_max_days alone. A SKU the seller has no listing for in a
  marketplace of the feed is an ERROR (code NOT_FOUND and the words of getListingsItem's 404); nothing of a message
  with an ERROR is applied, the other messages are.
- The processing report (gzip, compressionAlgorithm GZIP): header (sellerId, version, feedId), issues (one per
  problem, with messageId and sku) and summary (errors, warnings, messagesProcessed, messagesAccepted,
  messagesInvalid).
- Fault injection "fatal" (group feeds): a feed created meanwhile applies nothing and ends FATAL without a report.
"""

from __future__ import annotations

import gzip
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox import catalog, documents, faults, ratelimit, spapi
from sandbox.models import SandboxDocument, SandboxFeed, SandboxListing, SandboxSeller
from sandbox.spapi import NOT_FOR_REGION, BadRequest, Call, Denied, operation

JSON_LISTINGS_FEED = "JSON_LISTINGS_FEED"
FEED_TYPE_PLAN = "createFeed:JSON_LISTINGS_FEED"
QUEUED_FOR = timedelta(seconds=15)
PROCESSED_AFTER = timedelta(seconds=60)
MAX_MESSAGES = 25_000
MAX_MESSAGE_ID = 2_147_483_647
MAX_MARKETPLACES = 25  # CreateFeedSpecification.marketplaceIds "maxItems": 25
IN_QUEUE, IN_PROGRESS, DONE, FATAL = "IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL"
OPERATION_TYPES = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")  # the schema's operationType enum
CHUNK = 500


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _body(request: HttpRequest, what: str) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("Request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest(f"Request body must be a {what} object.")
    return body


@operation("feeds", "createFeedDocument")
def create_feed_document(request: HttpRequest, call: Call) -> HttpResponse:
    if request.method != "POST":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    content_type = _body(request, "CreateFeedDocumentSpecification").get("contentType")
    if not isinstance(content_type, str) or not content_type.strip() or len(content_type) > 200:
        raise BadRequest("contentType: is required.")
    document = documents.new_document(
        call.seller, SandboxDocument.Kind.FEED, call.at, content_type=content_type
    )
    body = {"feedDocumentId": document.document_id, "url": documents.presigned_url(document, "PUT", call.at)}
    return JsonResponse(body, status=201)


@operation("feeds", "getFeedDocument")
def get_feed_document(request: HttpRequest, call: Call, document_id: str) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    document = (
        SandboxDocument.objects.select_related("seller")
        .filter(
            document_id=document_id,
            seller=call.seller,
            kind__in=[SandboxDocument.Kind.FEED, SandboxDocument.Kind.FEED_RESULT],
            created__lte=call.at,
        )
        .first()
    )
    if document is None:
        raise BadRequest(f"Feed document {document_id[:120]} was not found.", status=404, code="NotFound")
    return documents.download_answer(document, "feedDocumentId", call.at)


def _marketplaces(body: dict[str, Any], call: Call) -> list[str]:
    ids = body.get("marketplaceIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise BadRequest("marketplaceIds: is required, a list of 1 to 25 marketplace ids.")
    if len(ids) > MAX_MARKETPLACES:
        raise BadRequest(f"marketplaceIds: accepts at most {MAX_MARKETPLACES} values.")
    for marketplace_id in ids:  # as createReport (sandbox/reports.py) and searchOrders refuse them
        m = catalog.marketplace(marketplace_id)
        if m is None or m.region != call.seller.region:
            raise Denied(NOT_FOR_REGION)
        if marketplace_id not in call.seller.marketplace_ids:
            raise Denied()
    return list(dict.fromkeys(ids))


def _input_document(body: dict[str, Any], call: Call) -> SandboxDocument:
    document_id = body.get("inputFeedDocumentId")
    if not isinstance(document_id, str) or not document_id:
        raise BadRequest("inputFeedDocumentId: is required.")
    document = SandboxDocument.objects.filter(
        document_id=document_id, seller=call.seller, kind=SandboxDocument.Kind.FEED
    ).first()
    if document is None:
        raise BadRequest(
            f"inputFeedDocumentId {document_id[:120]} was not found.", status=404, code="NotFound"
        )
    if document.uploaded_at is None:
        # "Upload the contents of the feed document before calling this operation." (createFeed)
        raise BadRequest(f"inputFeedDocumentId {document_id[:120]}: the feed document was not uploaded.")
    return document


def _new_feed_id() -> str:
    return str(10**10 + secrets.randbelow(9 * 10**10))


@operation("feeds", "createFeed")
def create_feed(request: HttpRequest, call: Call) -> HttpResponse:
    if request.method != "POST":
        raise BadRequest("Only createFeed (POST) is simulated here.", status=405, code="MethodNotAllowed")
    body = _body(request, "CreateFeedSpecification")
    feed_type = body.get("feedType")
    if not isinstance(feed_type, str) or not feed_type:
        raise BadRequest("feedType: is required.")
    if feed_type != JSON_LISTINGS_FEED:
        raise BadRequest(
            f"feedType {feed_type[:100]!r} is not simulated: the sandbox takes {JSON_LISTINGS_FEED}."
        )
    marketplace_ids = _marketplaces(body, call)
    document = _input_document(body, call)
    if not ratelimit.take(call.seller, call.application, FEED_TYPE_PLAN, call.at):
        raise BadRequest(
            "You exceeded your quota for the requested resource.", status=429, code="QuotaExceeded"
        )
    feed_id = _new_feed_id()
    done_at = call.at + PROCESSED_AFTER
    with transaction.atomic():
        if faults.fatal("feeds"):
            outcome, report = FATAL, None
        else:
            outcome, report = process(call.seller, feed_id, marketplace_ids, bytes(document.content), done_at)
        result = None
        if report is not None:
            result = documents.new_document(
                call.seller,
                SandboxDocument.Kind.FEED_RESULT,
                done_at,
                content=gzip.compress(json.dumps(report).encode(), mtime=0),
                compressed=True,
                content_type="application/json; charset=UTF-8",
            )
        SandboxFeed.objects.create(
            feed_id=feed_id,
            seller=call.seller,
            feed_type=feed_type,
            marketplace_ids=marketplace_ids,
            created_time=call.at,
            input_document=document,
            outcome=outcome,
            result_document=result,
        )
    return JsonResponse({"feedId": feed_id}, status=202)


@operation("feeds", "getFeed")
def get_feed(request: HttpRequest, call: Call, feed_id: str) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Only getFeed (GET) is simulated here.", status=405, code="MethodNotAllowed")
    feed = (
        SandboxFeed.objects.select_related("result_document")
        .filter(feed_id=feed_id, seller=call.seller)
        .first()
    )
    if feed is None:
        raise BadRequest(f"Feed {feed_id[:40]} was not found.", status=404, code="NotFound")
    return JsonResponse(feed_json(feed, call.at))


def feed_json(feed: SandboxFeed, at: datetime) -> dict[str, Any]:
    if at < feed.created_time + QUEUED_FOR:
        status = IN_QUEUE
    elif at < feed.created_time + PROCESSED_AFTER:
        status = IN_PROGRESS
    else:
        status = feed.outcome
    body: dict[str, Any] = {
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "marketplaceIds": feed.marketplace_ids,
        "createdTime": _iso(feed.created_time),
        "processingStatus": status,
    }
    if status != IN_QUEUE:
        body["processingStartTime"] = _iso(feed.created_time + QUEUED_FOR)
    if status in (DONE, FATAL):
        body["processingEndTime"] = _iso(feed.created_time + PROCESSED_AFTER)
        if feed.result_document is not None:
            body["resultFeedDocumentId"] = feed.result_document.document_id
    return body


# --- processing -----------------------------------------------------------------------------------------------------


def _issue(message_id: int | None, sku: str, code: str, message: str, attribute: str = "") -> dict[str, Any]:
    issue: dict[str, Any] = {"code": code, "severity": "ERROR", "message": message}
    if message_id is not None:
        issue["messageId"] = message_id
    if sku:
        issue["sku"] = sku
    if attribute:
        issue["attributeName"] = attribute
    return issue


def _report(
    seller: SandboxSeller, feed_id: str, issues: list[dict[str, Any]], processed: int, invalid: int
) -> dict[str, Any]:
    return {
        "header": {"sellerId": seller.selling_partner_id, "version": "2.0", "feedId": feed_id},
        "issues": issues,
        "summary": {
            "errors": len(issues),
            "warnings": 0,
            "messagesProcessed": processed,
            "messagesAccepted": processed - invalid,
            "messagesInvalid": invalid,
        },
    }


def _document_problem(seller: SandboxSeller, doc: Any) -> str:
    """What makes the whole document unusable (the schema's header and messages rules), or ""."""
    if not isinstance(doc, dict) or not isinstance(doc.get("header"), dict) or "messages" not in doc:
        return "The feed document must be a JSON object with a header and messages."
    header = doc["header"]
    if header.get("version") != "2.0":
        return 'header.version must be "2.0".'
    if header.get("sellerId") != seller.selling_partner_id:
        return "header.sellerId must be the selling partner identifier of the seller submitting the feed."
    messages = doc["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages must be an array of at least one message."
    if len(messages) > MAX_MESSAGES:
        return f"The feed has {len(messages)} messages; a JSON_LISTINGS_FEED holds at most {MAX_MESSAGES}."
    return ""


def _message_problems(message: Any, seen: set[int]) -> tuple[int | None, str, list[dict[str, Any]]]:
    """(messageId, sku, issues) of one message against the schema; no issues: it can be applied."""
    if not isinstance(message, dict):
        return None, "", [_issue(None, "", "INVALID_MESSAGE", "A message must be a JSON object.")]
    raw_id, sku = message.get("messageId"), message.get("sku")
    message_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
    sku = sku if isinstance(sku, str) else ""
    if message_id is None or not 1 <= message_id <= MAX_MESSAGE_ID:
        return None, sku, [_issue(None, sku, "INVALID_MESSAGE", "messageId must be a whole number from 1.")]
    if message_id in seen:
        return (
            message_id,
            sku,
            [_issue(message_id, sku, "INVALID_MESSAGE", "messageId must be unique within the feed.")],
        )
    seen.add(message_id)
    if not sku or len(sku) > spapi.MAX_SKU or spapi._has_nul(sku):
        return message_id, sku, [_issue(message_id, sku, "INVALID_MESSAGE", "sku is required.")]
    operation_type = message.get("operationType")
    if operation_type not in OPERATION_TYPES:
        return (
            message_id,
            sku,
            [
                _issue(
                    message_id,
                    sku,
                    "INVALID_MESSAGE",
                    f"operationType must be one of {', '.join(OPERATION_TYPES)}.",
                )
            ],
        )
    if operation_type != "PATCH":
        text = f"operationType {operation_type} is not simulated by the sandbox; use PATCH."
        return message_id, sku, [_issue(message_id, sku, "INVALID_MESSAGE", text)]
    product_type = message.get("productType")
    if not isinstance(product_type, str) or not product_type or len(product_type) > spapi.MAX_PRODUCT_TYPE:
        return message_id, sku, [_issue(message_id, sku, "INVALID_MESSAGE", "PATCH requires a productType.")]
    if "attributes" in message or "requirements" in message:
        text = "attributes and requirements are not applicable to PATCH operations."
        return message_id, sku, [_issue(message_id, sku, "INVALID_MESSAGE", text)]
    return message_id, sku, _patch_problems(message_id, sku, message.get("patches"))


def _patch_problems(message_id: int, sku: str, patches: Any) -> list[dict[str, Any]]:
    """patchListingsItem's checks (sandbox/spapi.py `_patch_body` and `_patch_issues`) as issues of the message."""
    if not isinstance(patches, list) or not patches:
        return [_issue(message_id, sku, "INVALID_MESSAGE", "PATCH requires a non-empty array of patches.")]
    for patch in patches:
        if (
            not isinstance(patch, dict)
            or patch.get("op") not in spapi.PATCH_OPS
            or not isinstance(patch.get("path"), str)
        ):
            text = "Each patch needs an op (add, replace, merge or delete) and a path."
            return [_issue(message_id, sku, "INVALID_MESSAGE", text)]
        if not spapi.ATTRIBUTE_PATH.match(patch["path"]):
            return [_issue(message_id, sku, "INVALID_MESSAGE", spapi.TOP_LEVEL_ONLY)]
        value = patch.get("value")
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            return [_issue(message_id, sku, "INVALID_MESSAGE", "A patch value must be an array of objects.")]
        if spapi._has_nul(value):
            return [
                _issue(message_id, sku, "INVALID_MESSAGE", "A patch value must not contain NUL characters.")
            ]
    return [
        _issue(message_id, sku, issue["code"], issue["message"], (issue.get("attributeNames") or [""])[0])
        for issue in spapi._patch_issues(patches)
    ]


def _listings(
    seller: SandboxSeller, skus: list[str], marketplace_ids: list[str]
) -> dict[tuple[str, str], SandboxListing]:
    found: dict[tuple[str, str], SandboxListing] = {}
    for start in range(0, len(skus), CHUNK):
        rows = SandboxListing.objects.select_for_update().filter(
            seller=seller, marketplace_id__in=marketplace_ids, sku__in=skus[start : start + CHUNK]
        )
        found.update({(row.sku, row.marketplace_id): row for row in rows})
    return found


UPDATED_FIELDS = [
    "product_type", "quantity", "lead_time_to_ship_max_days", "restock_date", "attributes", "updated", "published",
    "processed_at",
]  # fmt: skip


def process(
    seller: SandboxSeller, feed_id: str, marketplace_ids: list[str], content: bytes, done_at: datetime
) -> tuple[str, dict[str, Any]]:
    """(outcome, processing report) of a JSON_LISTINGS_FEED document; the accepted messages are applied to the
    seller's listings with their changes timed at `done_at`, in bulk (one read and one write per chunk of SKUs)."""
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        doc = None
    problem = _document_problem(seller, doc) if doc is not None else "The feed document is not valid JSON."
    if problem:
        return FATAL, _report(seller, feed_id, [_issue(None, "", "INVALID_DOCUMENT", problem)], 0, 0)
    messages = doc["messages"]
    issues: list[dict[str, Any]] = []
    valid: list[tuple[int, str, dict[str, Any]]] = []
    seen: set[int] = set()
    for message in messages:
        message_id, sku, found = _message_problems(message, seen)
        if found:
            issues.extend(found)
        else:
            assert message_id is not None
            valid.append((message_id, sku, message))
    listings = _listings(seller, sorted({sku for _i, sku, _m in valid}), marketplace_ids)
    changed: dict[int, SandboxListing] = {}
    accepted = 0
    for message_id, sku, message in valid:
        missing = [m for m in marketplace_ids if (sku, m) not in listings]
        if missing:
            # getListingsItem's words for an unknown SKU (sandbox/spapi.py get_listings_item).
            text = f"SKU '{sku}' not found in marketplace {','.join(missing)}"
            issues.append(_issue(message_id, sku, "NOT_FOUND", text))
            continue
        for marketplace_id in marketplace_ids:
            listing = listings[(sku, marketplace_id)]
            _submit(listing, message["productType"], message["patches"], done_at)
            changed[listing.pk] = listing
        accepted += 1
    rows = list(changed.values())
    for start in range(0, len(rows), CHUNK):
        SandboxListing.objects.bulk_update(rows[start : start + CHUNK], UPDATED_FIELDS)
    return DONE, _report(seller, feed_id, issues, len(messages), len(messages) - accepted)


def _submit(listing: SandboxListing, product_type: str, patches: list[dict[str, Any]], at: datetime) -> None:
    """sandbox/spapi.py `_submit` on a listing already read: reads show the item before this change until its
    processing ends, PROCESSING_DELAY after `at`."""
    if listing.processed_at is None or at >= listing.processed_at:
        listing.published = spapi._shown(listing)
    listing.product_type = product_type
    spapi._apply(listing, patches)
    listing.updated = at
    listing.processed_at = at + spapi.PROCESSING_DELAY
