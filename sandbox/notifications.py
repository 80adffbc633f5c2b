"""The Notifications API v1 as the sandbox plays it, and the ORDER_CHANGE notifications it sends.

Operations (github:amzn/selling-partner-api-models models/notifications-api-model/notifications.json):
- Grantless, with an access token of the client_credentials grant and the scope sellingpartnerapi::notifications
  (sandbox.services.check_grantless_token, as rotateApplicationClientSecret in sandbox/applications.py):
  createDestination and getDestinations (/notifications/v1/destinations), getDestination and deleteDestination
  (/destinations/{destinationId}), getSubscriptionById and deleteSubscriptionById
  (/subscriptions/{notificationType}/{subscriptionId}). Usage plan of each: rate 1, burst 5, per application.
  deleteSubscriptionById also takes the seller's own access token, as Amazon does (see its handler).
- With the seller's access token (sandbox.spapi.operation): createSubscription and getSubscription
  (/subscriptions/{notificationType}) and getSubscriptions (/subscriptions?notificationTypes=…); ORDER_CHANGE needs the seller's authorization ("Tutorial: Subscribe to the
  ORDER_CHANGE notification"). Rate 1, burst 5, per seller and application.

The sandbox plays SQS destinations and the ORDER_CHANGE type (payload version 1.0). Every destination's messages go
to settings.SANDBOX_NOTIFICATIONS_QUEUE_URL (the ARN is recorded, not resolved).

`deliver_order_changes` sends Amazon's ORDER_CHANGE document (schemas/notifications/OrderChangeNotification.json)
for every order change of a subscribed seller, in batches of ten (applications.send_batch). Delivery is at least
once: the window moves only after the queue took the messages, so a failed pass sends them again. The delivery
faults of sandbox.faults (drop, duplicate) lose or repeat single notifications.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import applications, clock, faults, ratelimit, services, simulated_orders, spapi
from sandbox.models import (
    SandboxAppAuthorization,
    SandboxApplication,
    SandboxDestination,
    SandboxOrder,
    SandboxSeller,
    SandboxSubscription,
)
from sandbox.spapi import BadRequest, Call, error_response

ORDER_CHANGE = "ORDER_CHANGE"
# The notification types and payload versions the sandbox plays. ORDER_CHANGE: payload version 1.0 (the
# OrderChangeNotification.json example; the ORDER_CHANGE tutorial subscribes with "payloadVersion": "1.0").
PAYLOAD_VERSIONS: dict[str, tuple[str, ...]] = {ORDER_CHANGE: ("1.0",)}
NOTIFICATION_VERSION = "1.0"
# SqsResource.arn: "maxLength": 1000, "pattern": "^arn:aws:sqs:\\S+:\\S+:\\S+" (notifications.json).
SQS_ARN = re.compile(r"^arn:aws:sqs:\S+:\S+:\S+")
MAX_ARN = 1000
MAX_NAME = 256  # Destination.name "maxLength": 256
# 409 answers as Amazon words them: a second subscription (github:amzn/selling-partner-api-docs issue #1564) and a
# destination for an ARN the application already has (issue #2072 of the same repository).
STATE_CONFLICT = ("StateConflict", "The resource specified conflicts with the current state.")
DESTINATION_CONFLICT = ("Conflict", "The requested resource conflict with a resource in the server.")
NOT_FOUND = ("NotFound", "The resource specified does not exist.")  # notifications.json, 404's description
# deleteDestination of a destination with subscriptions (amzn/selling-partner-api-models issue #2113).
DESTINATION_IN_USE = ("Unauthorized", "The requested action is forbidden.", "Destination has subscriptions")

# Amazon's OrderStatus values (OrderChangeNotification.json Summary.OrderStatus enum) for the sandbox's statuses.
ORDER_STATUS = {"PENDING": "Pending", "UNSHIPPED": "Unshipped", "SHIPPED": "Shipped", "CANCELLED": "Canceled",
                "PARTIALLY_SHIPPED": "PartiallyShipped"}  # fmt: skip
# OrderChangeTrigger.ChangeReason: "The reason for this ORDER_CHANGE notification" (no values listed in the schema;
# the sandbox's wording).
CHANGE_REASON = {"PENDING": "NewOrder", "UNSHIPPED": "OrderStatusChange", "SHIPPED": "OrderStatusChange",
                 "CANCELLED": "OrderStatusChange", "PARTIALLY_SHIPPED": "OrderStatusChange"}  # fmt: skip
FULFILLMENT_TYPE = {"MERCHANT": "MFN", "AMAZON": "AFN"}  # Summary.FulfillmentType enum: AFN, MFN


# ---------------------------------------------------------------------------------------------------------------
# HTTP operations


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise BadRequest("Request has missing or invalid parameters and cannot be parsed.")
    return body


def _with_rate_header(response: HttpResponse, name: str) -> HttpResponse:
    # As sandbox/spapi.py: the rate applied per real second; never on 401/403/429.
    if response.status_code not in (401, 403, 429):
        plan = ratelimit.PLANS[name]
        scale = clock.config().time_scale
        response["x-amzn-RateLimit-Limit"] = f"{plan.rate * scale:g}" if scale > 0 else plan.header
    if "x-amzn-RequestId" not in response:
        response["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


Grantless = Callable[..., HttpResponse]


def _seller_call(token: str, region: str, at: datetime) -> SandboxAppAuthorization | None:
    """The seller authorization an SP-API access token of this region stands for, or None."""
    try:
        auth = services.check_access_token(token, at)
    except services.AccessDenied:
        return None
    if auth.application.kind != SandboxApplication.Kind.SP or auth.seller.region != region:
        return None
    return auth


def grantless_operation(name: str, seller_token_too: bool = False) -> Callable[[Grantless], Grantless]:
    """Faults, the grantless token (scope sellingpartnerapi::notifications) and the application's rate limit.

    A seller's access token is refused here (grantless operations take a client_credentials token; "Grantless
    operations", SP-API developer guide), and a grantless token is refused by the seller operations
    (check_access_token never finds it). Except with `seller_token_too`: the handler then also takes a seller's
    access token, gets its seller as `seller` (None for a grantless token) and that seller's rate limit."""

    def decorate(handler: Grantless) -> Grantless:
        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest, region: str, *args: Any, **kwargs: Any) -> HttpResponse:
            fault = faults.apply(
                "notifications", lambda status: error_response(status, *spapi.FAULT_ERRORS[status])
            )
            if fault is not None:
                return fault
            at = clock.now()
            token = request.headers.get("x-amz-access-token", "")
            if not token:
                return error_response(403, "Unauthorized", spapi.ACCESS_DENIED, spapi.MISSING_TOKEN)
            seller: SandboxSeller | None = None
            try:
                application = services.check_grantless_token(token, services.NOTIFICATIONS_SCOPE, at)
            except services.AccessDenied as denied:
                auth = _seller_call(token, region, at) if seller_token_too else None
                if auth is None:
                    return error_response(403, "Unauthorized", spapi.ACCESS_DENIED, denied.details)
                application, seller = auth.application, auth.seller
            taken = (
                ratelimit.take(seller, application, name, at)
                if seller is not None
                else ratelimit.take_grantless(application, name, at)
            )
            if not taken:
                return error_response(
                    429, "QuotaExceeded", "You exceeded your quota for the requested resource."
                )
            if seller_token_too:
                kwargs["seller"] = seller
            try:
                response = handler(request, application, at, *args, **kwargs)
            except BadRequest as bad:
                response = error_response(bad.status, bad.code, bad.message, getattr(bad, "details", ""))
            return _with_rate_header(response, name)

        return view

    return decorate


def _method_not_allowed() -> BadRequest:
    return BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")


def _conflict(code_message: tuple[str, str], details: str = "") -> BadRequest:
    bad = BadRequest(code_message[1], status=409, code=code_message[0])
    bad.details = details  # type: ignore[attr-defined]
    return bad


def _not_found() -> BadRequest:
    return BadRequest(NOT_FOUND[1], status=404, code=NOT_FOUND[0])


def destination_json(destination: SandboxDestination) -> dict[str, Any]:
    # Destination: name, destinationId, resource {sqs {arn}} (notifications.json).
    return {
        "name": destination.name,
        "destinationId": str(destination.destination_id),
        "resource": {"sqs": {"arn": destination.arn}},
    }


def subscription_json(subscription: SandboxSubscription) -> dict[str, Any]:
    # Subscription: subscriptionId, payloadVersion, destinationId, processingDirective? (notifications.json).
    doc: dict[str, Any] = {
        "subscriptionId": str(subscription.subscription_id),
        "payloadVersion": subscription.payload_version,
        "destinationId": str(subscription.destination.destination_id),
    }
    if subscription.processing_directive:
        doc["processingDirective"] = subscription.processing_directive
    return doc


@csrf_exempt
def destinations(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """GET is getDestinations, POST createDestination (other methods are refused by getDestinations)."""
    view = create_destination if request.method == "POST" else get_destinations
    return view(request, **kwargs)


@grantless_operation("getDestinations")
def get_destinations(request: HttpRequest, application: SandboxApplication, at: datetime) -> HttpResponse:
    if request.method != "GET":
        raise _method_not_allowed()
    rows = SandboxDestination.objects.filter(application=application)
    return JsonResponse({"payload": [destination_json(d) for d in rows]})


@grantless_operation("createDestination")
def create_destination(request: HttpRequest, application: SandboxApplication, at: datetime) -> HttpResponse:
    """CreateDestinationRequest {name, resourceSpecification {sqs {arn}}}: both required."""
    body = _json_body(request)
    name = body.get("name")
    spec = body.get("resourceSpecification")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or not isinstance(spec, dict):
        raise BadRequest("Request has missing or invalid parameters and cannot be parsed.")
    if "eventBridge" in spec:
        raise BadRequest("The sandbox plays SQS destinations only.")
    arn = (spec.get("sqs") or {}).get("arn") if isinstance(spec.get("sqs"), dict) else None
    if not isinstance(arn, str) or len(arn) > MAX_ARN or not SQS_ARN.match(arn):
        raise BadRequest(
            "Request has missing or invalid parameters and cannot be parsed.", code="InvalidInput"
        )
    details = f"A destination with arn {arn} already exists for the application {application.application_id}"
    if SandboxDestination.objects.filter(application=application, arn=arn).exists():
        raise _conflict(DESTINATION_CONFLICT, details)
    try:
        with transaction.atomic():
            destination = SandboxDestination.objects.create(
                application=application, name=name, arn=arn, created_at=at
            )
    except IntegrityError:
        raise _conflict(DESTINATION_CONFLICT, details) from None
    return JsonResponse({"payload": destination_json(destination)})


def _destination(application: SandboxApplication, destination_id: str) -> SandboxDestination:
    try:
        key = uuid.UUID(destination_id)
    except ValueError:
        raise _not_found() from None
    found = SandboxDestination.objects.filter(application=application, destination_id=key).first()
    if found is None:
        raise _not_found()
    return found


@csrf_exempt
def destination(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """GET is getDestination, DELETE deleteDestination."""
    view = delete_destination if request.method == "DELETE" else get_destination
    return view(request, **kwargs)


@grantless_operation("getDestination")
def get_destination(
    request: HttpRequest, application: SandboxApplication, at: datetime, destination_id: str
) -> HttpResponse:
    if request.method != "GET":
        raise _method_not_allowed()
    return JsonResponse({"payload": destination_json(_destination(application, destination_id))})


@grantless_operation("deleteDestination")
def delete_destination(
    request: HttpRequest, application: SandboxApplication, at: datetime, destination_id: str
) -> HttpResponse:
    found = _destination(application, destination_id)
    if found.subscriptions.exists():
        # No cascade: a destination that subscriptions still deliver to is kept, and Amazon answers 403 (the
        # model's "access to the resource is forbidden") with its own words, as quoted in
        # amzn/selling-partner-api-models issue #2113.
        return error_response(403, *DESTINATION_IN_USE)
    found.delete()
    return JsonResponse({})  # DeleteDestinationResponse: errors only


def _check_type(notification_type: str) -> tuple[str, ...]:
    versions = PAYLOAD_VERSIONS.get(notification_type)
    if versions is None:
        # The wording Amazon uses for a notificationType it does not take (selling-partner-api-models issue #467).
        raise BadRequest(f'Invalid value "{notification_type[:100]}" for path parameter notificationType')
    return versions


@csrf_exempt
def subscriptions(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """GET is getSubscription, POST createSubscription."""
    view = create_subscription if request.method == "POST" else get_subscription
    return view(request, **kwargs)


def _processing_directive(body: dict[str, Any], notification_type: str) -> dict[str, Any] | None:
    directive = body.get("processingDirective")
    if directive is None:
        return None
    if not isinstance(directive, dict) or not set(directive) <= {"eventFilter", "filterExpression"}:
        raise BadRequest("Request has missing or invalid parameters and cannot be parsed.")
    # "eventFilter and filterExpression are mutually exclusive" (ProcessingDirective).
    if "eventFilter" in directive and "filterExpression" in directive:
        raise BadRequest("eventFilter and filterExpression cannot be used together.")
    event_filter = directive.get("eventFilter")
    if event_filter is not None:
        # EventFilter: eventFilterType required, one of ANY_OFFER_CHANGED, ORDER_CHANGE, …; it must fit the type.
        if not isinstance(event_filter, dict) or event_filter.get("eventFilterType") != notification_type:
            raise BadRequest(
                f"EventFilter Payload {json.dumps(event_filter)[:200]} failed to validate for notification type "
                f"{notification_type}"
            )
        change_types = event_filter.get("orderChangeTypes")
        if change_types is not None and (
            not isinstance(change_types, list)
            or any(
                t not in ("BuyerRequestedChange", "DeliveryTipChange", "OrderStatusChange")
                for t in change_types
            )
        ):
            raise BadRequest("Invalid orderChangeTypes.")
    return directive


@spapi.operation("notifications", "createSubscription")
def create_subscription(request: HttpRequest, call: Call, notification_type: str) -> HttpResponse:
    """CreateSubscriptionRequest {payloadVersion, destinationId, processingDirective?}; one subscription per seller,
    application, type and payload version ("you can use this operation to subscribe to a different payload version
    if you already have an existing subscription for a different payload version", notifications.json); another
    answers 409 StateConflict."""
    if request.method != "POST":
        raise _method_not_allowed()
    versions = _check_type(notification_type)
    body = _json_body(request)
    payload_version, destination_id = body.get("payloadVersion"), body.get("destinationId")
    if not isinstance(payload_version, str) or not isinstance(destination_id, str):
        raise BadRequest("Request has missing or invalid parameters and cannot be parsed.")
    if payload_version not in versions:
        raise BadRequest(
            f"Invalid payloadVersion {payload_version[:20]} for notification type {notification_type}."
        )
    directive = _processing_directive(body, notification_type)
    try:
        target = _destination(call.application, destination_id)
    except BadRequest:
        raise BadRequest(f"Invalid destinationId {destination_id[:100]}.") from None
    keys = {
        "seller": call.seller,
        "application": call.application,
        "notification_type": notification_type,
        "payload_version": payload_version,
    }
    if SandboxSubscription.objects.filter(**keys).exists():
        raise _conflict(STATE_CONFLICT)
    try:
        with transaction.atomic():
            subscription = SandboxSubscription.objects.create(
                **keys, destination=target, processing_directive=directive, created_at=call.at
            )
    except IntegrityError:
        raise _conflict(STATE_CONFLICT) from None
    return JsonResponse({"payload": subscription_json(subscription)})


def _subscriptions_of(
    request: HttpRequest, call: Call, notification_type: str
) -> QuerySet[SandboxSubscription]:
    """The caller's subscriptions of one type (its seller and application), of the asked payloadVersion if any."""
    rows = SandboxSubscription.objects.filter(
        seller=call.seller, application=call.application, notification_type=notification_type
    ).select_related("destination")
    payload_version = request.GET.get("payloadVersion")
    return rows.filter(payload_version=payload_version) if payload_version else rows


@spapi.operation("notifications", "getSubscription")
def get_subscription(request: HttpRequest, call: Call, notification_type: str) -> HttpResponse:
    """The seller's subscription of the type; without payloadVersion "the latest payload version subscription's
    information" (notifications.json); 404 when there is none."""
    if request.method != "GET":
        raise _method_not_allowed()
    _check_type(notification_type)
    rows = _subscriptions_of(request, call, notification_type)
    found = rows.order_by("-payload_version").first()
    if found is None:
        raise _not_found()
    return JsonResponse({"payload": subscription_json(found)})


# getSubscriptions pageSize: "Minimum value is 30. Maximum value is 100. Default is 30."
PAGE_SIZES = range(30, 101)


def _page_size(request: HttpRequest) -> int:
    raw = request.GET.get("pageSize")
    if raw is None or raw == "":
        return PAGE_SIZES.start
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size not in PAGE_SIZES:
        raise BadRequest(f"Invalid pageSize {raw[:20]}: it must be between 30 and 100.")
    return size


@spapi.operation("notifications", "getSubscriptions")
def get_subscriptions(request: HttpRequest, call: Call) -> HttpResponse:
    """getSubscriptions, GET /notifications/v1/subscriptions (notifications.json): "all subscriptions for the
    caller's party" of one notification type (notificationTypes: required, "Currently limited to a single
    notification type per request"), across payload versions unless payloadVersion is given; pageSize 30 to 100
    (default 30). Not grantless (Amazon's "Grantless operations" table lists only
    the destination operations and getSubscriptionById / deleteSubscriptionById): the caller is the seller of the
    access token, with the token's application. No subscription is an empty list."""
    if request.method != "GET":
        raise _method_not_allowed()
    types = spapi._list_param(request, "notificationTypes")
    if len(types) != 1:
        raise BadRequest("notificationTypes is required and takes exactly one notification type.")
    notification_type = types[0]
    _check_type(notification_type)
    size = _page_size(request)
    rows = _subscriptions_of(request, call, notification_type)
    if request.GET.get("nextToken"):
        # A seller has one subscription per application, type and payload version, and the sandbox plays one
        # payload version per type: every answer fits one page, so no nextToken is ever issued to come back with.
        raise BadRequest("Invalid nextToken.")
    page = rows.order_by("pk")[:size]
    return JsonResponse({"payload": {"subscriptions": [subscription_json(s) for s in page]}})


def _subscription(
    application: SandboxApplication,
    notification_type: str,
    subscription_id: str,
    seller: SandboxSeller | None = None,
) -> SandboxSubscription:
    _check_type(notification_type)
    try:
        key = uuid.UUID(subscription_id)
    except ValueError:
        raise _not_found() from None
    rows = SandboxSubscription.objects.filter(
        application=application, notification_type=notification_type, subscription_id=key
    )
    if seller is not None:
        rows = rows.filter(seller=seller)  # a seller's token reaches that seller's subscriptions only
    found = rows.select_related("destination").first()
    if found is None:
        raise _not_found()
    return found


@csrf_exempt
def subscription_by_id(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """GET is getSubscriptionById, DELETE deleteSubscriptionById."""
    view = delete_subscription_by_id if request.method == "DELETE" else get_subscription_by_id
    return view(request, **kwargs)


@grantless_operation("getSubscriptionById")
def get_subscription_by_id(
    request: HttpRequest,
    application: SandboxApplication,
    at: datetime,
    notification_type: str,
    subscription_id: str,
) -> HttpResponse:
    if request.method != "GET":
        raise _method_not_allowed()
    return JsonResponse(
        {"payload": subscription_json(_subscription(application, notification_type, subscription_id))}
    )


@grantless_operation("deleteSubscriptionById", seller_token_too=True)
def delete_subscription_by_id(
    request: HttpRequest,
    application: SandboxApplication,
    at: datetime,
    notification_type: str,
    subscription_id: str,
    seller: SandboxSeller | None = None,
) -> HttpResponse:
    """ "The subscription identifier can be for any subscription associated with your application. After you
    successfully call this operation, notifications will stop being sent" (notifications.json).

    Grantless per the model, and Amazon takes the seller's own access token too: python-amazon-sp-api sends it
    (Notifications.delete_notification_subscription) and its maintainer confirmed the call works at Amazon
    (github:saleweaver/python-amazon-sp-api issue #373). With a seller's token, only that seller's subscriptions."""
    _subscription(application, notification_type, subscription_id, seller).delete()
    return JsonResponse({})  # DeleteSubscriptionByIdResponse: errors only


# ---------------------------------------------------------------------------------------------------------------
# ORDER_CHANGE delivery


def _wants_status_changes(subscription: SandboxSubscription) -> bool:
    """OrderChangeTypeFilter.orderChangeTypes: "To receive notifications of all change types, do not provide this
    list" (notifications.json). The sandbox's changes are all OrderStatusChange."""
    directive = subscription.processing_directive
    event_filter = directive.get("eventFilter") if isinstance(directive, dict) else None
    types = event_filter.get("orderChangeTypes") if isinstance(event_filter, dict) else None
    return not types or "OrderStatusChange" in types


def notification_id(subscription: SandboxSubscription, order: SandboxOrder, status: str) -> str:
    """Stable per change: a notification sent twice (a duplicate, or a pass repeated after a failure) keeps it."""
    return str(uuid.uuid5(subscription.subscription_id, f"{order.order_id}:{status}"))


def order_change_document(
    subscription: SandboxSubscription, order: SandboxOrder, status: str, changed_at: datetime, at: datetime
) -> dict[str, Any]:
    """ORDER_CHANGE as schemas/notifications/OrderChangeNotification.json shapes it (every required member; optional
    ones the sandbox has data for), for the change of `order` to `status` at `changed_at`, published at `at`."""
    quantities = [int(item["quantity"]) for item in order.items]
    shipped = status == "SHIPPED"
    published = applications.amazon_time(at)
    return {
        "NotificationVersion": NOTIFICATION_VERSION,
        "NotificationType": ORDER_CHANGE,
        "PayloadVersion": subscription.payload_version,
        "EventTime": published,
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": subscription.seller.selling_partner_id,
                "AmazonOrderId": order.order_id,
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": applications.amazon_time(changed_at),
                    "ChangeReason": CHANGE_REASON[status],
                },
                "Summary": {
                    "MarketplaceId": order.marketplace_id,
                    "OrderStatus": ORDER_STATUS[status],
                    "PurchaseDate": applications.amazon_time(order.created_time),
                    # Required but nullable ("null when there is no related information"): the sandbox has no
                    # buyer addresses.
                    "DestinationPostalCode": None,
                    "FulfillmentType": FULFILLMENT_TYPE.get(order.fulfilled_by, "MFN"),
                    "OrderType": "StandardOrder",
                    "NumberOfItemsShipped": sum(quantities) if shipped else 0,
                    "NumberOfItemsUnshipped": 0 if shipped else sum(quantities),
                    "OrderItems": [
                        {
                            "OrderItemId": item["orderItemId"],
                            "SellerSKU": item["sku"],
                            "SupplySourceId": None,  # required, nullable
                            "Quantity": int(item["quantity"]),
                            "QuantityShipped": int(item["quantity"]) if shipped else 0,
                        }
                        for item in order.items
                    ],
                },
            }
        },
        "NotificationMetadata": {
            "ApplicationId": subscription.application.application_id,
            "SubscriptionId": str(subscription.subscription_id),
            "PublishTime": published,
            "NotificationId": notification_id(subscription, order, status),
        },
    }


def _changes(
    subscription: SandboxSubscription, start: datetime, end: datetime
) -> list[tuple[SandboxOrder, str, datetime]]:
    """(order, status, time) of every change of the seller's orders in (start, end], in time order.

    A change comes at most simulated_orders.MAX_CHANGE_DELAY after the order's creation, so the query stays on
    the index (seller, marketplace_id, created_time)."""
    seller = subscription.seller
    marketplace_ids = list(seller.marketplace_ids)
    if not marketplace_ids:
        return []
    oldest = start - simulated_orders.MAX_CHANGE_DELAY
    simulated_orders.ensure_generated(seller, marketplace_ids, oldest.date(), end.date())
    changed = Q(created_time__gt=start)
    for field in ("unshipped_at", "cancelled_at", "partially_shipped_at", "shipped_at"):
        changed |= Q(**{f"{field}__gt": start, f"{field}__lte": end})
    rows = SandboxOrder.objects.filter(
        changed,
        seller=seller,
        marketplace_id__in=marketplace_ids,
        created_time__gt=oldest,
        created_time__lte=end,
    ).order_by()
    found = [
        (order, status, when) for order in rows for when, status in order.transitions() if start < when <= end
    ]
    found.sort(key=lambda change: (change[2], change[0].order_id))
    return found


def deliver_order_changes(at: datetime | None = None) -> int:
    """Send ORDER_CHANGE for every change (creation or status change) in virtual time (last_delivered_at, at] of the
    orders of every ORDER_CHANGE subscription's seller (its marketplaces only), then move last_delivered_at to `at`.
    A new subscription starts at its creation time. Returns the number of messages sent (duplicates counted,
    dropped ones not). applications.NotificationError when the queue refuses; no window moves then.

    Subscriptions whose seller no longer authorizes the application get nothing for that time."""
    at = at or clock.now()
    delivery = faults.delivery_faults()
    subs = list(
        SandboxSubscription.objects.filter(notification_type=ORDER_CHANGE)
        .filter(Q(last_delivered_at__isnull=True) | Q(last_delivered_at__lt=at))
        .select_related("seller", "application")
    )
    if not subs:
        return 0
    active = set(
        SandboxAppAuthorization.objects.filter(
            application_id__in={s.application_id for s in subs}, revoked_at__isnull=True, expires_at__gt=at
        ).values_list("seller_id", "application_id")
    )
    messages: list[dict[str, Any]] = []
    done: list[int] = []
    for sub in subs:
        # "No flood of history": the first pass starts at the subscription's creation.
        start = max(sub.last_delivered_at or sub.created_at, sub.created_at)
        if start >= at:
            continue
        done.append(sub.pk)
        if (sub.seller_id, sub.application_id) not in active or not _wants_status_changes(sub):
            continue
        for order, status, when in _changes(sub, start, at):
            message = order_change_document(sub, order, status, when, at)
            key = message["NotificationMetadata"]["NotificationId"]
            if delivery.dropped(key):
                continue
            messages.append(message)
            if delivery.duplicated(key):
                messages.append(message)
    applications.send_batch(messages)
    for first in range(0, len(done), 500):
        SandboxSubscription.objects.filter(pk__in=done[first : first + 500]).filter(
            Q(last_delivered_at__isnull=True) | Q(last_delivered_at__lt=at)
        ).update(last_delivered_at=at)
    return len(messages)
