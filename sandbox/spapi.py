"""SP-API operations in the shapes of Amazon's models (sellers, orders 2026-01-01, listings items 2021-08-01)."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from sandbox import catalog, clock, faults, guard, orders, ratelimit, services
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


def operation(endpoint: str, name: str) -> Callable[[Handler], Handler]:
    """Fault injection, access-token check, region check and rate limit around an SP-API handler."""

    def decorate(handler: Handler) -> Handler:
        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest, region: str, *args: Any, **kwargs: Any) -> HttpResponse:
            fault = faults.apply(endpoint, _fault_error)
            if fault is not None:
                return fault
            at = clock.now()
            try:
                auth = services.check_access_token(request.headers.get("x-amz-access-token", ""), at)
            except services.AccessDenied as denied:
                return error_response(
                    403, "Unauthorized", "Access to requested resource is denied.", denied.details
                )
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
                response = error_response(bad.status, bad.code, bad.message)
            # Amazon never sends the usage plan on 401/403/429 answers.
            # The header carries the rate applied per real second: with a compressed clock (time scale > 1) the
            # sandbox really allows scale × the plan's rate, and a client that follows the header keeps up.
            if response.status_code not in (401, 403, 429):
                scale = clock.config().time_scale
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
    if not isinstance(data, dict) or not isinstance(data.get("offset"), int):
        raise BadRequest("Invalid paginationToken.")
    return data


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
    """The searchOrders query as a dict of plain values (what a paginationToken carries), validated per the model."""
    marketplace_ids = _seller_marketplaces(request, call, limit=MAX_SEARCH_MARKETPLACES)
    window = _search_window(request, call.at)
    statuses = _list_param(request, "fulfillmentStatuses")
    for status in statuses:
        if status not in STATUSES:
            raise BadRequest(f"Invalid fulfillmentStatuses value: {status}.")
    return {
        "marketplaceIds": marketplace_ids,
        **{name: value.isoformat() if value else None for name, value in window.items()},
        "statuses": statuses,
        "max": _max_results(request),
    }


def _seller_marketplaces(request: HttpRequest, call: Call, limit: int | None = None) -> list[str]:
    """The required marketplaceIds, each one the seller participates in."""
    marketplace_ids = _list_param(request, "marketplaceIds")
    if not marketplace_ids:
        raise BadRequest("marketplaceIds is required.")
    if limit is not None and len(marketplace_ids) > limit:
        raise BadRequest(f"marketplaceIds accepts at most {limit} values.")
    for marketplace_id in marketplace_ids:
        if marketplace_id not in call.seller.marketplace_ids:
            raise BadRequest(
                f"Invalid marketplaceId: {marketplace_id}. The seller does not participate in it."
            )
    return marketplace_ids


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


def run_search(seller: SandboxSeller, query: dict[str, Any], at: datetime) -> Any:
    return orders.search(
        seller,
        query["marketplaceIds"],
        at,
        created_after=_dt(query["createdAfter"]),
        created_before=_dt(query["createdBefore"]),
        last_updated_after=_dt(query["lastUpdatedAfter"]),
        last_updated_before=_dt(query["lastUpdatedBefore"]),
        statuses=query["statuses"],
    )


@operation("orders", "searchOrders")
def search_orders(request: HttpRequest, call: Call) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    token = request.GET.get("paginationToken")
    if token:
        # The token pins the query and the moment of the first page, so later pages never shift.
        data = _decode_token(token)
        if data.get("seller") != call.seller.selling_partner_id or not isinstance(data.get("query"), dict):
            raise BadRequest("Invalid paginationToken.")
        query, offset = data["query"], data["offset"]
        try:
            at = datetime.fromisoformat(data["at"])
            qs = run_search(call.seller, query, at)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("Invalid paginationToken.") from exc
    else:
        query, offset, at = parse_search(request, call), 0, call.at
        qs = run_search(call.seller, query, at)
    size = int(query["max"])
    page = list(qs[offset : offset + size + 1])
    body: dict[str, Any] = {"orders": [orders.order_json(o, at) for o in page[:size]]}
    if len(page) > size:
        body["pagination"] = {
            "nextToken": _encode_token(
                {
                    "seller": call.seller.selling_partner_id,
                    "query": query,
                    "at": at.isoformat(),
                    "offset": offset + size,
                }
            )
        }
    if query["createdAfter"]:
        body["createdBefore"] = orders.iso(_dt(query["createdBefore"]) or at)
    else:
        body["lastUpdatedBefore"] = orders.iso(_dt(query["lastUpdatedBefore"]) or at)
    return JsonResponse(body)


@operation("orders", "getOrder")
def get_order(request: HttpRequest, call: Call, order_id: str) -> HttpResponse:
    if request.method != "GET":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    order = SandboxOrder.objects.filter(
        order_id=order_id, seller=call.seller, created_time__lte=call.at
    ).first()
    if order is None:
        raise BadRequest(f"Order {order_id} was not found.", status=404, code="NotFound")
    return JsonResponse({"order": orders.order_json(order, call.at)})


QUANTITY_PATH = "/attributes/fulfillment_availability"
PATCH_OPS = {"add", "replace", "merge", "delete"}


def _quantity_from(patches: list[dict[str, Any]]) -> tuple[int | None, list[dict[str, Any]]]:
    """The quantity set by the patches (None if they set none) and listing issues for invalid values."""
    quantity: int | None = None
    issues: list[dict[str, Any]] = []
    for patch in patches:
        if patch["path"] != QUANTITY_PATH or patch["op"] == "delete":
            continue
        for entry in patch.get("value") or []:
            value = entry.get("quantity")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                issues.append(
                    {
                        "code": "90220",
                        "message": "'quantity' must be a whole number of zero or more.",
                        "severity": "ERROR",
                        "attributeNames": ["fulfillment_availability"],
                        "categories": ["INVALID_ATTRIBUTE"],
                    }
                )
            else:
                quantity = value
    return quantity, issues


MAX_SKU = 200  # SandboxListing.sku
MAX_PRODUCT_TYPE = 100  # SandboxListing.product_type


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
        value = patch.get("value")
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise BadRequest("A patch value must be an array of objects.")
    return body


@operation("listings", "patchListingsItem")
def listings_item(request: HttpRequest, call: Call, seller_id: str, sku: str) -> HttpResponse:
    if request.method != "PATCH":
        raise BadRequest("Only PATCH is simulated for listings items.", status=405, code="MethodNotAllowed")
    if seller_id != call.seller.selling_partner_id:
        raise BadRequest("Access to requested resource is denied.", status=403, code="Unauthorized")
    if len(sku) > MAX_SKU:
        raise BadRequest(f"sku has at most {MAX_SKU} characters.")
    marketplace_ids = _seller_marketplaces(request, call)
    body = _patch_body(request)
    quantity, issues = _quantity_from(body["patches"])
    submission_id = uuid.uuid4().hex
    if issues:
        for issue in issues:
            issue["marketplaceIds"] = marketplace_ids
        return JsonResponse(
            {"sku": sku, "status": "INVALID", "submissionId": submission_id, "issues": issues}
        )
    if request.GET.get("mode") == "VALIDATION_PREVIEW":
        return JsonResponse({"sku": sku, "status": "VALID", "submissionId": submission_id, "issues": []})
    for marketplace_id in marketplace_ids:
        defaults: dict[str, Any] = {"product_type": body["productType"], "updated": call.at}
        if quantity is not None:
            defaults["quantity"] = quantity
        SandboxListing.objects.update_or_create(
            seller=call.seller, sku=sku, marketplace_id=marketplace_id, defaults=defaults
        )
    return JsonResponse({"sku": sku, "status": "ACCEPTED", "submissionId": submission_id, "issues": []})


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
    marketplace_ids = _seller_marketplaces(request, call)
    try:
        page_size = int(request.GET.get("pageSize", "10"))
    except ValueError:
        raise BadRequest("pageSize must be an integer.") from None
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadRequest(f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    rows = SandboxListing.objects.filter(seller=call.seller, marketplace_id__in=marketplace_ids).order_by("sku")
    items = [{"sku": row.sku} for row in rows[:page_size]]
    return JsonResponse({"numberOfResults": rows.count(), "items": items})
