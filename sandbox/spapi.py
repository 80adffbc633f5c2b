"""SP-API operations in the shapes of Amazon's models (sellers, orders 2026-01-01, listings items 2021-08-01)."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from sandbox import catalog, clock, faults, guard, ratelimit, services, simulated_orders
from sandbox.models import (
    SandboxAppAuthorization,
    SandboxApplication,
    SandboxListing,
    SandboxOrder,
    SandboxSeller,
)

FAULT_ERRORS = {
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service is temporarily unavailable. Please try again."),
    429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
}


def error_response(status: int, code: str, message: str, details: str = "") -> JsonResponse:
    response = JsonResponse(
        {"errors": [{"code": code, "message": message, "details": details}]}, status=status
    )
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """The guard's refusal (sandbox/guard.py) in the SP-API's format."""
    return error_response(400, "InvalidInput", message)


def _fault_error(status: int) -> HttpResponse:
    code, message = FAULT_ERRORS[status]
    return error_response(status, code, message)


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "InvalidInput") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass
class Call:
    seller: SandboxSeller
    application: SandboxApplication
    authorization: SandboxAppAuthorization
    at: datetime


Handler = Callable[..., HttpResponse]
ACCESS_DENIED = "Access to requested resource is denied."
MISSING_TOKEN = "Access token is missing in the request header."


def operation(endpoint: str, name: str) -> Callable[[Handler], Handler]:
    """Fault injection, access-token check, region check and rate limit around an SP-API handler."""

    def decorate(handler: Handler) -> Handler:
        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest, region: str, *args: Any, **kwargs: Any) -> HttpResponse:
            # The clock and the faults live in one configuration row: read once per request.
            cfg = clock.config()
            fault = faults.apply(endpoint, _fault_error, cfg)
            if fault is not None:
                return fault
            at = clock.virtual_at(cfg, timezone.now())
            token = request.headers.get("x-amz-access-token", "")
            if not token:
                # Amazon's own example of an error response: code Unauthorized, message "Access to requested
                # resource is denied.", details "Access token is missing in the request header."
                # (https://developer-docs.amazon.com/sp-api/docs/response-format; github:amzn/selling-partner-api-docs
                # guides/en-US/developer-guide/SellingPartnerApiDeveloperGuide.md, "Error response").
                return error_response(403, "Unauthorized", ACCESS_DENIED, MISSING_TOKEN)
            try:
                auth = services.check_access_token(token, at)
            except services.AccessDenied as denied:
                # An unknown, revoked or expired token keeps the message, with its own details.
                return error_response(403, "Unauthorized", ACCESS_DENIED, denied.details)
            # Tokens are regional: another region's host denies them, as Amazon does.
            if auth.application.kind != SandboxApplication.Kind.SP or auth.seller.region != region:
                return error_response(403, "Unauthorized", "Access to requested resource is denied.")
            plan = ratelimit.PLANS[name]
            if not ratelimit.take(auth.seller, auth.application, name, at):
                return error_response(
                    429, "QuotaExceeded", "You exceeded your quota for the requested resource."
                )
            call = Call(seller=auth.seller, application=auth.application, authorization=auth, at=at)
            try:
                response = handler(request, call, *args, **kwargs)
            except BadRequest as bad:
                response = error_response(bad.status, bad.code, bad.message, getattr(bad, "details", ""))
            # Amazon never sends the usage plan on 401/403/429 answers.
            # The header carries the rate applied per real second: with a compressed clock (time scale > 1) the
            # sandbox really allows scale × the plan's rate, and a client that follows the header keeps up.
            if response.status_code not in (401, 403, 429):
                scale = cfg.time_scale
                response["x-amzn-RateLimit-Limit"] = f"{plan.rate * scale:g}" if scale > 0 else plan.header
            if "x-amzn-RequestId" not in response:
                response["x-amzn-RequestId"] = str(uuid.uuid4())
            return response

        return view

    return decorate


def _marketplace_json(marketplace_id: str) -> dict[str, Any] | None:
    m = catalog.marketplace(marketplace_id)
    if m is None:
        return None
    return {
        "id": m.marketplace_id,
        "name": catalog.marketplace_name(m),
        "countryCode": catalog.country_code(m),
        "defaultCurrencyCode": m.currency,
        "defaultLanguageCode": catalog.LANGUAGES.get(m.site, "en_US"),
        "domainName": f"www.{m.amazon_domain}",
    }


@operation("sellers", "getMarketplaceParticipations")
def marketplace_participations(request: HttpRequest, call: Call) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    payload = []
    for marketplace_id in call.seller.marketplace_ids:
        marketplace = _marketplace_json(marketplace_id)
        if marketplace is not None:
            payload.append(
                {
                    "marketplace": marketplace,
                    "participation": {"isParticipating": True, "hasSuspendedListings": False},
                    "storeName": call.seller.name,
                }
            )
    return JsonResponse({"payload": payload})


def _list_param(request: HttpRequest, name: str) -> list[str]:
    # Swagger 2.0 arrays default to csv; repeated parameters are accepted too.
    values: list[str] = []
    for raw in request.GET.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def _date_param(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise BadRequest(f"Invalid {name}: '{raw}' is not an ISO 8601 date-time.")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("Invalid paginationToken.") from exc
    if not isinstance(data, dict) or not _valid_position(data.get("after")):
        raise BadRequest("Invalid paginationToken.")
    return data


def _valid_position(after: Any) -> bool:
    """A token's position: the sort key and order id of the last order already sent, [iso date-time, order id]."""
    return (
        isinstance(after, list)
        and len(after) == 2
        and all(isinstance(part, str) for part in after)
        and parse_datetime(after[0]) is not None
    )


SETTLE_DELAY = timedelta(minutes=2)
STATUSES = [
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
]


SEARCH_BOUNDS = (("createdAfter", "createdBefore"), ("lastUpdatedAfter", "lastUpdatedBefore"))
MAX_SEARCH_MARKETPLACES = 50


def parse_search(request: HttpRequest, call: Call) -> dict[str, Any]:
    """The searchOrders filters as a dict of plain values (what a paginationToken pins), validated per the model.

    maxResultsPerPage and includedData are not pinned: the model's Pagination says every other parameter must be
    sent again unchanged, "with the exception of maxResultsPerPage and includedData, which can be modified between
    calls" (orders_2026-01-01.json, definitions.Pagination). They are read from each request (`_page_options`).
    """
    marketplace_ids = _order_marketplaces(request, call)
    window = _search_window(request, call.at)
    return {
        "marketplaceIds": marketplace_ids,
        **{name: value.isoformat() if value else None for name, value in window.items()},
        "statuses": _enum_list(request, "fulfillmentStatuses", STATUSES),
        "fulfilledBy": _enum_list(request, "fulfilledBy", simulated_orders.FULFILLED_BY),
    }


def _enum_list(request: HttpRequest, name: str, allowed: Any) -> list[str]:
    """An array parameter whose items are an enum of the model (fulfillmentStatuses, fulfilledBy, includedData)."""
    values = _list_param(request, name)
    for value in values:
        if value not in allowed:
            raise BadRequest(f"Invalid {name} value: {value}.")
    return values


class Denied(BadRequest):
    """403 Unauthorized with Amazon's message and its details."""

    def __init__(self, details: str = "") -> None:
        super().__init__(ACCESS_DENIED, status=403, code="Unauthorized")
        self.details = details


NOT_FOR_REGION = "The marketplaces you provided are not valid for region."


def _order_marketplaces(request: HttpRequest, call: Call) -> list[str]:
    """searchOrders' marketplaceIds, refused the way Amazon refuses them.

    The parameter is optional (orders_2026-01-01.json: "required": false, maxItems 50) and the model names no
    default; without it the search is not narrowed to some marketplaces, so it covers every marketplace the seller
    participates in (in the host's region, the only ones its token reaches).
    A marketplace of another region: 403 Unauthorized "Access to requested resource is denied." with details "The
    marketplaces you provided are not valid for region." (Amazon's answer to searchOrders 2026-01-01,
    github:amzn/selling-partner-api-models issue #5126). A marketplace of the region the seller does not participate
    in: 403 Unauthorized "Access to requested resource is denied." (issue #5295 of the same repository; the model's
    403: "access to the resource is forbidden").
    """
    marketplace_ids = _list_param(request, "marketplaceIds")
    if not marketplace_ids:
        return list(call.seller.marketplace_ids)
    if len(marketplace_ids) > MAX_SEARCH_MARKETPLACES:
        raise BadRequest(f"marketplaceIds accepts at most {MAX_SEARCH_MARKETPLACES} values.")
    for marketplace_id in marketplace_ids:
        m = catalog.marketplace(marketplace_id)
        if m is None or m.region != call.seller.region:
            raise Denied(NOT_FOR_REGION)
    for marketplace_id in marketplace_ids:
        if marketplace_id not in call.seller.marketplace_ids:
            raise Denied()
    return list(dict.fromkeys(marketplace_ids))


def _search_window(request: HttpRequest, at: datetime) -> dict[str, datetime | None]:
    """The four date bounds by parameter name; the model wants upper bounds SETTLE_DELAY before the request."""
    window = {name: _date_param(request, name) for pair in SEARCH_BOUNDS for name in pair}
    _require_one_kind(window)
    for lower, upper in SEARCH_BOUNDS:
        _check_upper_bound(window, lower, upper, at - SETTLE_DELAY)
    return window


def _require_one_kind(window: dict[str, datetime | None]) -> None:
    created_after, created_before = window["createdAfter"], window["createdBefore"]
    updated_after, updated_before = window["lastUpdatedAfter"], window["lastUpdatedBefore"]
    if (created_after is None) == (updated_after is None):
        raise BadRequest("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if created_after is not None and (updated_after or updated_before):
        raise BadRequest(
            "If createdAfter is provided, neither lastUpdatedAfter nor lastUpdatedBefore may be provided."
        )
    if updated_after is not None and created_before is not None:
        raise BadRequest(
            "If lastUpdatedAfter is provided, neither createdAfter nor createdBefore may be provided."
        )


def _check_upper_bound(window: dict[str, datetime | None], lower: str, upper: str, latest: datetime) -> None:
    start, end = window[lower], window[upper]
    if end is None:
        return
    if start is not None and end < start:
        raise BadRequest(f"{upper} must be equal to or after {lower}.")
    if end > latest:
        raise BadRequest(f"{upper} must be at least two minutes before the time of the request.")


def _max_results(request: HttpRequest) -> int:
    raw_max = request.GET.get("maxResultsPerPage", "100")
    try:
        max_results = int(raw_max)
    except ValueError as exc:
        raise BadRequest("maxResultsPerPage must be an integer between 1 and 100.") from exc
    if not 1 <= max_results <= 100:
        raise BadRequest("maxResultsPerPage must be an integer between 1 and 100.")
    return max_results


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def run_search(
    seller: SandboxSeller, query: dict[str, Any], at: datetime, after: tuple[datetime, str] | None = None
) -> Any:
    """The orders a search pins, in its order; with `after` (a next page) only those after that position, and
    without generating order history again (the first page generated the whole window)."""
    return simulated_orders.search(
        seller,
        query["marketplaceIds"],
        at,
        created_after=_dt(query["createdAfter"]),
        created_before=_dt(query["createdBefore"]),
        last_updated_after=_dt(query["lastUpdatedAfter"]),
        last_updated_before=_dt(query["lastUpdatedBefore"]),
        statuses=query["statuses"],
        fulfilled_by=query.get("fulfilledBy") or [],
        # Older orders never show (orders_2026-01-01.json, info.description; RETENTION_YEARS of
        # sandbox/simulated_orders.py).
        retention=True,
        after=after,
        generate=after is None,
        annotate=False,
    )


def _page_options(request: HttpRequest) -> tuple[int, list[str]]:
    """maxResultsPerPage (default 100) and includedData (default: basic information only), read per page."""
    return _max_results(request), _enum_list(request, "includedData", simulated_orders.INCLUDED_DATA)


def _check_resent(request: HttpRequest, call: Call, query: dict[str, Any]) -> None:
    """Filters sent again with a paginationToken must keep the values of the first request (the model's
    Pagination: "All other parameters must be provided with the same values"). Filters left out are taken from the
    token."""
    differ = []
    for name in (n for pair in SEARCH_BOUNDS for n in pair):
        if request.GET.get(name):
            value = _date_param(request, name)
            if (value.isoformat() if value else None) != query.get(name):
                differ.append(name)
    if _list_param(request, "marketplaceIds") and sorted(_order_marketplaces(request, call)) != sorted(
        query["marketplaceIds"]
    ):
        differ.append("marketplaceIds")
    for name, key in (("fulfillmentStatuses", "statuses"), ("fulfilledBy", "fulfilledBy")):
        if _list_param(request, name) and sorted(_list_param(request, name)) != sorted(query.get(key) or []):
            differ.append(name)
    if differ:
        raise BadRequest(
            f"The paginationToken belongs to a search with other values of {', '.join(differ)}: every parameter "
            "except maxResultsPerPage and includedData must be sent with the values of the first request."
        )


# The model's Pagination: "The token will expire after 24 hours." (orders_2026-01-01.json); each token from the
# moment its page was sent.
TOKEN_LIFETIME = timedelta(hours=24)
# How Amazon words a searchOrders input it does not take, paginationToken included: 400, code InvalidInput
# (github:amzn/selling-partner-api-models issue #5144).
INVALID_INPUT = "The input you have submitted is not valid. Please check your input and try again."


def _check_expiry(data: dict[str, Any], now: datetime) -> None:
    try:
        issued = datetime.fromisoformat(data["issued"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest("Invalid paginationToken.") from exc
    if timezone.is_naive(issued):
        raise BadRequest("Invalid paginationToken.")
    if now - issued > TOKEN_LIFETIME:
        expired = BadRequest(INVALID_INPUT)
        expired.details = "The paginationToken expired: a token is valid for 24 hours."  # type: ignore[attr-defined]
        raise expired


def _pinned(
    request: HttpRequest, call: Call, token: str
) -> tuple[dict[str, Any], tuple[datetime, str], datetime]:
    """The filters, position and moment a paginationToken pins, so later pages never shift.

    The token is opaque to clients (the model's Pagination: "an opaque token"); the sandbox's carries the sort key
    and id of the last order it sent, so every page costs the same however deep into the results it is.
    """
    data = _decode_token(token)
    if data.get("seller") != call.seller.selling_partner_id or not isinstance(data.get("query"), dict):
        raise BadRequest("Invalid paginationToken.")
    try:
        at = datetime.fromisoformat(data["at"])
        key = datetime.fromisoformat(data["after"][0])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest("Invalid paginationToken.") from exc
    if timezone.is_naive(at) or timezone.is_naive(key):
        raise BadRequest("Invalid paginationToken.")
    _check_expiry(data, call.at)
    _check_resent(request, call, data["query"])
    return data["query"], (key, data["after"][1]), at


@operation("orders", "searchOrders")
def search_orders(request: HttpRequest, call: Call) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    size, included = _page_options(request)
    token = request.GET.get("paginationToken")
    after: tuple[datetime, str] | None = None
    if token:
        query, after, at = _pinned(request, call, token)
    else:
        query, at = parse_search(request, call), call.at
    try:
        qs = run_search(call.seller, query, at, after)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest("Invalid paginationToken.") from exc
    page = list(qs[: size + 1])
    shown = page[:size]
    role = holds_restricted_role(call)
    body: dict[str, Any] = {"orders": [_order_doc(o, at, included, role) for o in shown]}
    if len(page) > size:
        last = shown[-1]
        key = last.created_time if query["createdAfter"] else last.last_updated
        body["pagination"] = {
            "nextToken": _encode_token(
                {
                    "seller": call.seller.selling_partner_id,
                    "query": query,
                    "at": at.isoformat(),
                    "issued": call.at.isoformat(),
                    "after": [key.isoformat(), last.order_id],
                }
            )
        }
    if query["createdAfter"]:
        body["createdBefore"] = simulated_orders.iso(_dt(query["createdBefore"]) or at)
    else:
        body["lastUpdatedBefore"] = simulated_orders.iso(_dt(query["lastUpdatedBefore"]) or at)
    return JsonResponse(body)


@operation("orders", "getOrder")
def get_order(request: HttpRequest, call: Call, order_id: str) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    included = _enum_list(request, "includedData", simulated_orders.INCLUDED_DATA)
    order = SandboxOrder.objects.filter(
        order_id=order_id, seller=call.seller, created_time__lte=call.at
    ).first()
    # An order past Amazon's retention is not shown (orders_2026-01-01.json, info.description).
    if order is None or order.created_time < simulated_orders.retained_since(order.marketplace_id, call.at):
        raise BadRequest(f"Order {order_id} was not found.", status=404, code="NotFound")
    return JsonResponse({"order": _order_doc(order, call.at, included, holds_restricted_role(call))})


def _order_doc(order: SandboxOrder, at: datetime, included: list[str], role: bool) -> dict[str, Any]:
    """The order as searchOrders/getOrder show it; RECIPIENT per the calling application's role."""
    doc = simulated_orders.order_json(order, at, included)
    if "RECIPIENT" in included:
        doc["recipient"] = simulated_orders.recipient_json(order, role)
    return doc


def holds_restricted_role(call: Call) -> bool:
    """Whether the calling application was granted the Direct-to-Consumer Delivery (Restricted) role (settings
    SANDBOX_RESTRICTED_ROLE_APPLICATIONS): only then does RECIPIENT carry its PII attributes."""
    return call.application.application_id in settings.SANDBOX_RESTRICTED_ROLE_APPLICATIONS


# --- Listings Items 2021-08-01 (listingsItems_2021-08-01.json) ----------------------------------------------------
#
# getListingsItem and patchListingsItem share the path /listings/2021-08-01/items/{sellerId}/{sku}; `listings_item`
# dispatches on the method, and each operation keeps its own usage plan.

FULFILLMENT = "fulfillment_availability"
DEFAULT_CHANNEL = "DEFAULT"
# The members of a fulfillment_availability entry the sandbox keeps besides its selector fulfillment_channel_code.
FULFILLMENT_MEMBERS = ("quantity", "lead_time_to_ship_max_days", "restock_date")
# PatchOperation.op in the model.
PATCH_OPS = {"add", "replace", "merge", "delete"}
# The model, patchListingsItem: "Only top-level listings item attributes can be patched. Patching nested attributes is
# not supported."
TOP_LEVEL_ONLY = (
    "Only top-level listings item attributes can be patched. Patching nested attributes is not supported."
)
ATTRIBUTE_PATH = re.compile(r"^/attributes/([a-z0-9_]{1,100})$")
# "Merge a listing" (https://developer-docs.amazon.com/sp-api/docs/merge-a-listing): "You must provide non-empty
# values for the selector field such as fulfillment_channel_code" (audience for purchasable_offer). A merge entry of
# another attribute is matched to the stored entry with the same values of these selectors.
SELECTORS = ("fulfillment_channel_code", "marketplace_id", "language_tag", "audience", "currency")
# ACCEPTED means "accepted for processing" (the model's ListingsItemSubmissionResponse), and "Accepted does not mean
# the process is complete" ("Manage Listings Issues", https://developer-docs.amazon.com/sp-api/docs/manage-listings-
# issues). Amazon gives no duration; the sandbox shows an accepted submission to getListingsItem after this much
# virtual time, so a client reading too early still sees the old quantity (a frozen clock gets there only when
# advanced).
PROCESSING_DELAY = timedelta(seconds=5)
# getListingsItem includedData (the model's enum); default summaries.
INCLUDED_DATA = (
    "summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement", "relationships",
    "productTypes",
)  # fmt: skip
MAX_SKU = 200  # SandboxListing.sku
MAX_PRODUCT_TYPE = 100  # SandboxListing.product_type


def _listing_marketplaces(request: HttpRequest, call: Call) -> list[str]:
    """The required marketplaceIds, refused the way the Listings Items API refuses them.

    A marketplace the seller does not sell in: 400 InvalidInput "Invalid 'sellerId' and 'marketplaceId' combination
    provided." with empty details (Amazon's answer to patchListingsItem quoted in
    github.com/jlevers/selling-partner-api/issues/777; a public client's test records the same answer to
    getListingsItem). An id that is no Amazon marketplace: 400 InvalidInput "Invalid 'marketplaceIds' provided.",
    Amazon's wording for a refused marketplaceIds (github.com/amzn/selling-partner-api-models/issues/2771, where the
    trigger is not stated).
    """
    marketplace_ids = _list_param(request, "marketplaceIds")
    if not marketplace_ids:
        raise BadRequest("marketplaceIds is required.")
    for marketplace_id in marketplace_ids:
        if catalog.marketplace(marketplace_id) is None:
            raise BadRequest("Invalid 'marketplaceIds' provided.")
        if marketplace_id not in call.seller.marketplace_ids:
            raise BadRequest("Invalid 'sellerId' and 'marketplaceId' combination provided.")
    return marketplace_ids


def _check_item(call: Call, seller_id: str, sku: str) -> None:
    # A seller id the access token does not belong to: 403, as for every Listings Items operation.
    if seller_id != call.seller.selling_partner_id:
        raise BadRequest("Access to requested resource is denied.", status=403, code="Unauthorized")
    if len(sku) > MAX_SKU:
        raise BadRequest(f"sku has at most {MAX_SKU} characters.")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return guard.NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _patch_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object with productType and patches.")
    if not isinstance(body.get("productType"), str) or not body["productType"]:
        raise BadRequest("productType is required.")
    if len(body["productType"]) > MAX_PRODUCT_TYPE or guard.NUL in body["productType"]:
        raise BadRequest("productType is not a valid product type.")
    patches = body.get("patches")
    if not isinstance(patches, list) or not patches:
        raise BadRequest("patches must be a non-empty array.")
    for patch in patches:
        if (
            not isinstance(patch, dict)
            or patch.get("op") not in PATCH_OPS
            or not isinstance(patch.get("path"), str)
        ):
            raise BadRequest("Each patch needs an op (add, replace, merge or delete) and a path.")
        if not ATTRIBUTE_PATH.match(patch["path"]):
            raise BadRequest(TOP_LEVEL_ONLY)
        value = patch.get("value")
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise BadRequest("A patch value must be an array of objects.")
        if _has_nul(value):
            # PostgreSQL cannot store NUL in JSON text, as sandbox/guard.py explains for parameters.
            raise BadRequest(guard.NUL_MESSAGE)
    return body


def _issue(message: str, attribute: str, category: str = "INVALID_ATTRIBUTE") -> dict[str, Any]:
    # The model's Issue; 90220 is the code of its own example of an attribute issue.
    return {
        "code": "90220",
        "message": message,
        "severity": "ERROR",
        "attributeNames": [attribute],
        "categories": [category],
    }


MAX_STORED_INT = 2**31 - 1  # SandboxListing's integer columns (PostgreSQL integer)


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_STORED_INT


def _fulfillment_issues(op: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Synchronous issues of one fulfillment_availability entry (a merge may null a member to remove it)."""
    issues = []
    channel = entry.get("fulfillment_channel_code")
    if op == "merge" and not (isinstance(channel, str) and channel):
        issues.append(
            _issue("'fulfillment_channel_code' is required to merge.", FULFILLMENT, "MISSING_ATTRIBUTE")
        )
    elif channel is not None and channel != DEFAULT_CHANNEL:
        # The sandbox's sellers fulfil their own orders: DEFAULT is their only channel.
        issues.append(_issue(f"'fulfillment_channel_code' {channel!r} is not available.", FULFILLMENT))
    for member in ("quantity", "lead_time_to_ship_max_days"):
        value = entry.get(member)
        if member in entry and not _whole_number(value) and not (op == "merge" and value is None):
            issues.append(_issue(f"'{member}' must be a whole number of zero or more.", FULFILLMENT))
    restock = entry.get("restock_date")
    if "restock_date" in entry and not (op == "merge" and restock is None) and _date(restock) is None:
        issues.append(_issue("'restock_date' must be a date (YYYY-MM-DD).", FULFILLMENT))
    return issues


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_date(value)
    except ValueError:
        return None


def _patch_issues(patches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    for patch in patches:
        name = _attribute_name(patch)
        if patch["op"] == "delete":
            continue
        for entry in patch.get("value") or []:
            if name == FULFILLMENT:
                issues.extend(_fulfillment_issues(patch["op"], entry))
            elif patch["op"] == "merge" and not any(entry.get(k) for k in SELECTORS):
                issues.append(
                    _issue(f"A merge of '{name}' needs its selector values.", name, "MISSING_ATTRIBUTE")
                )
    return issues


def _attribute_name(patch: dict[str, Any]) -> str:
    match = ATTRIBUTE_PATH.match(patch["path"])
    assert match is not None  # _patch_body checked it
    return match.group(1)


def _apply(listing: SandboxListing, patches: list[dict[str, Any]]) -> None:
    """Apply valid patches in order: add/replace set the whole attribute value, merge changes only the members it
    names (an explicit null removes one, "Merge a listing"), delete removes the attribute."""
    for patch in patches:
        name, op, value = _attribute_name(patch), patch["op"], patch.get("value") or []
        if name == FULFILLMENT:
            _apply_fulfillment(listing, op, value)
        else:
            listing.attributes = _apply_attribute(dict(listing.attributes or {}), name, op, value)


def _apply_fulfillment(listing: SandboxListing, op: str, value: list[dict[str, Any]]) -> None:
    entries = [e for e in value if e.get("fulfillment_channel_code", DEFAULT_CHANNEL) == DEFAULT_CHANNEL]
    if op == "merge":
        for entry in entries:
            for member in FULFILLMENT_MEMBERS:
                if member in entry:
                    _set_member(listing, member, entry[member])
        return
    # replace/add: the new value is the whole attribute, so members it leaves out are gone; delete: all are.
    entry = entries[-1] if entries and op != "delete" else {}
    for member in FULFILLMENT_MEMBERS:
        _set_member(listing, member, entry.get(member))


def _set_member(listing: SandboxListing, member: str, value: Any) -> None:
    if member == "restock_date":
        listing.restock_date = _date(value)
    else:
        setattr(listing, member, value)


def _apply_attribute(
    attributes: dict[str, Any], name: str, op: str, value: list[dict[str, Any]]
) -> dict[str, Any]:
    if op == "delete":
        attributes.pop(name, None)
    elif op in ("add", "replace"):
        attributes[name] = value
    else:
        current = [dict(e) for e in attributes.get(name) or [] if isinstance(e, dict)]
        for entry in value:
            keys = {k: entry[k] for k in SELECTORS if entry.get(k)}
            stored = next((c for c in current if all(c.get(k) == v for k, v in keys.items())), None)
            if stored is None:
                current.append({k: v for k, v in entry.items() if v is not None})
                continue
            for k, v in entry.items():
                if v is None:
                    stored.pop(k, None)
                else:
                    stored[k] = v
        attributes[name] = current
    return attributes


def _shown(listing: SandboxListing) -> dict[str, Any]:
    """The listing as getListingsItem shows it (also what `published` keeps while a submission is processed)."""
    return {
        "product_type": listing.product_type,
        "quantity": listing.quantity,
        "lead_time_to_ship_max_days": listing.lead_time_to_ship_max_days,
        "restock_date": listing.restock_date.isoformat() if listing.restock_date else None,
        "attributes": listing.attributes or {},
        "created": simulated_orders.iso(listing.created or listing.updated),
        "updated": simulated_orders.iso(listing.updated),
    }


def _visible(listing: SandboxListing, at: datetime) -> dict[str, Any] | None:
    if listing.processed_at is not None and at < listing.processed_at:
        published: dict[str, Any] | None = listing.published
        return published
    return _shown(listing)


def _submit(call: Call, sku: str, marketplace_id: str, body: dict[str, Any]) -> None:
    listing, created = SandboxListing.objects.get_or_create(
        seller=call.seller,
        sku=sku,
        marketplace_id=marketplace_id,
        defaults={"created": call.at, "updated": call.at},
    )
    listing = SandboxListing.objects.select_for_update().get(pk=listing.pk)
    if created:
        published = None
    elif listing.processed_at is None or call.at >= listing.processed_at:
        published = _shown(listing)
    else:
        # The previous submission is still being processed: reads keep showing what was there before it.
        published = listing.published
    listing.product_type = body["productType"]
    _apply(listing, body["patches"])
    listing.updated = call.at
    listing.published = published
    listing.processed_at = call.at + PROCESSING_DELAY
    listing.save()


@csrf_exempt
def listings_item(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """GET is getListingsItem, PATCH (and any other method, refused there) patchListingsItem."""
    view = get_listings_item if request.method == "GET" else patch_listings_item
    return view(request, **kwargs)


@operation("listings", "patchListingsItem")
def patch_listings_item(request: HttpRequest, call: Call, seller_id: str, sku: str) -> HttpResponse:
    if request.method != "PATCH":
        raise BadRequest(
            "Only GET and PATCH are simulated for listings items.", status=405, code="MethodNotAllowed"
        )
    _check_item(call, seller_id, sku)
    marketplace_ids = _listing_marketplaces(request, call)
    # issueLocale (optional): the sandbox words issues in en_US only, which is the model's fallback ("Localized
    # messages default to `en_US` when localization is not available for the specified locale").
    mode = request.GET.get("mode")
    if mode is not None and mode != "VALIDATION_PREVIEW":
        raise BadRequest(f"Invalid mode: {mode}.")
    body = _patch_body(request)
    issues = _patch_issues(body["patches"])
    submission_id = uuid.uuid4().hex
    if issues:
        for issue in issues:
            issue["marketplaceIds"] = marketplace_ids
        return JsonResponse(
            {"sku": sku, "status": "INVALID", "submissionId": submission_id, "issues": issues}
        )
    if mode == "VALIDATION_PREVIEW":
        return JsonResponse({"sku": sku, "status": "VALID", "submissionId": submission_id, "issues": []})
    with transaction.atomic():
        for marketplace_id in marketplace_ids:
            _submit(call, sku, marketplace_id, body)
    return JsonResponse({"sku": sku, "status": "ACCEPTED", "submissionId": submission_id, "issues": []})


@operation("listings", "getListingsItem")
def get_listings_item(request: HttpRequest, call: Call, seller_id: str, sku: str) -> HttpResponse:
    """The listing as Amazon shows it now: an accepted patch shows once PROCESSING_DELAY has passed."""
    _check_item(call, seller_id, sku)
    marketplace_ids = _listing_marketplaces(request, call)
    # issueLocale (optional): accepted; issues stay in en_US, the model's fallback (see patch_listings_item).
    included = _list_param(request, "includedData") or ["summaries"]
    for name in included:
        if name not in INCLUDED_DATA:
            raise BadRequest(f"Invalid includedData value: {name}.")
    rows = {
        row.marketplace_id: row
        for row in SandboxListing.objects.filter(
            seller=call.seller, sku=sku, marketplace_id__in=marketplace_ids
        )
    }
    shown = [
        (marketplace_id, rows[marketplace_id], view)
        for marketplace_id in marketplace_ids
        if marketplace_id in rows and (view := _visible(rows[marketplace_id], call.at)) is not None
    ]
    if not shown:
        # Amazon's 404 for an unknown SKU: code NOT_FOUND (github.com/amzn/selling-partner-api-models/issues/4283),
        # "SKU '…' not found in marketplace …" (as reported in github.com/jrl84/amazon-sp-api/issues/176).
        raise BadRequest(
            f"SKU '{sku}' not found in marketplace {','.join(marketplace_ids)}", status=404, code="NOT_FOUND"
        )
    return JsonResponse(_item_json(sku, shown, included))


Shown = list[tuple[str, SandboxListing, dict[str, Any]]]


def _item_json(sku: str, shown: Shown, included: list[str]) -> dict[str, Any]:
    """The model's Item with the requested data sets; item-wide ones come from the first requested marketplace."""
    first = shown[0][2]
    data: dict[str, Any] = {
        "summaries": lambda: [_summary(m, sku, view) for m, _row, view in shown],
        "attributes": lambda: _attributes_json(first),
        "issues": lambda: [
            {"marketplaceIds": [m], **issue}
            for m, row, _view in shown
            for issue in row.issues or []
            if isinstance(issue, dict)
        ],
        # The sandbox keeps no prices, and vendor procurement does not apply to sellers.
        "offers": lambda: [],
        "fulfillmentAvailability": lambda: _availability_json(first),
        "procurement": lambda: [],
        "relationships": lambda: [{"marketplaceId": m, "relationships": []} for m, _row, _view in shown],
        "productTypes": lambda: [
            {"marketplaceId": m, "productType": view["product_type"] or "PRODUCT"} for m, _row, view in shown
        ],
    }
    body: dict[str, Any] = {"sku": sku}
    for name in INCLUDED_DATA:
        if name in included:
            body[name] = data[name]()
    return body


def _summary(marketplace_id: str, sku: str, view: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "marketplaceId": marketplace_id,
        "productType": view["product_type"] or "PRODUCT",
        # BUYABLE: "can be purchased by shoppers", which takes stock; a listing is visible either way.
        "status": ["BUYABLE", "DISCOVERABLE"] if (view["quantity"] or 0) > 0 else ["DISCOVERABLE"],
        "createdDate": view["created"],
        "lastUpdatedDate": view["updated"],
    }
    product = next((p for p in catalog.PRODUCTS if p[0] == sku), None)
    if product is not None:
        summary["asin"], summary["itemName"] = product[1], product[2]
    return summary


def _fulfillment_entry(view: dict[str, Any]) -> dict[str, Any] | None:
    members = {m: view[m] for m in FULFILLMENT_MEMBERS if view.get(m) is not None}
    return {"fulfillment_channel_code": DEFAULT_CHANNEL, **members} if members else None


def _attributes_json(view: dict[str, Any]) -> dict[str, Any]:
    attributes = dict(view["attributes"])
    entry = _fulfillment_entry(view)
    if entry is not None:
        attributes[FULFILLMENT] = [entry]
    return attributes


def _availability_json(view: dict[str, Any]) -> list[dict[str, Any]]:
    if view["quantity"] is None:
        return []
    return [{"fulfillmentChannelCode": DEFAULT_CHANNEL, "quantity": view["quantity"]}]


MAX_PAGE_SIZE = 20  # listingsItems_2021-08-01.json, searchListingsItems pageSize: "maximum": 20, default 10.


@operation("listings", "searchListingsItems")
def search_listings_items(request: HttpRequest, call: Call, seller_id: str) -> HttpResponse:
    """GET /listings/2021-08-01/items/{sellerId}: the seller's listings items (sku and summaries only).

    A seller id the access token does not belong to is refused with 403, as for every Listings Items operation.
    """
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    if seller_id != call.seller.selling_partner_id:
        raise BadRequest("Access to requested resource is denied.", status=403, code="Unauthorized")
    marketplace_ids = _listing_marketplaces(request, call)
    try:
        page_size = int(request.GET.get("pageSize", "10"))
    except ValueError:
        raise BadRequest("pageSize must be an integer.") from None
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadRequest(f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    rows = SandboxListing.objects.filter(seller=call.seller, marketplace_id__in=marketplace_ids).order_by(
        "sku"
    )
    items = [{"sku": row.sku} for row in rows[:page_size]]
    return JsonResponse({"numberOfResults": rows.count(), "items": items})
