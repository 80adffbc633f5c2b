"""Notifications API v1 (github:amzn/selling-partner-api-models models/notifications-api-model/notifications.json)
and the ORDER_CHANGE notification it delivers to an SQS destination.

Who authorizes what (notifications.json, each operation's description):
- createDestination, getDestinations, getDestination, deleteDestination, getSubscriptionById and
  deleteSubscriptionById are grantless: an access token of the client_credentials grant with the scope
  sellingpartnerapi::notifications (`lwa.grantless(endpoints.spapi_token(), client, NOTIFICATIONS_SCOPE)`).
- createSubscription and getSubscription for ORDER_CHANGE need the seller's authorization: the access token of the
  seller's refresh token ("Tutorial: Subscribe to the ORDER_CHANGE notification",
  https://developer-docs.amazon.com/sp-api/docs/tutorial-subscribe-to-order-change-notification).

A second createSubscription for the same type and payload version answers 409 Conflict, code StateConflict,
"The resource specified conflicts with the current state." and no subscription id (notifications.json,
createSubscription responses.409; the answer as reported in github:amzn/selling-partner-api-docs issue #1564). The
docs say nothing more, so `create_subscription` raises kind "conflict" and the caller reads the existing one with
`get_subscription` (`subscribe` does both). createDestination for an ARN the application already registered answers
409 too ("A destination with arn … already exists for the application …", selling-partner-api-docs issue #2072):
kind "conflict", the existing one is in `get_destinations`.

Nothing here knows a store: callers pass the region's SP-API base URL (`endpoints.for_region(r).sp_api`) and tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from amazon import spapi, sqs

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
ORDER_CHANGE = "ORDER_CHANGE"
# The payload version of ORDER_CHANGE (the ORDER_CHANGE tutorial's createSubscription body; the schema's example).
ORDER_CHANGE_PAYLOAD_VERSION = "1.0"


class NotificationsApiError(spapi.SpApiError):
    """A Notifications API call failed.

    kind: as every SP-API family (unauthorized, throttled, not_found, invalid, server_error, network, bad_response)
    plus conflict (409: the subscription or destination already exists).
    """


@dataclass(frozen=True)
class Destination:
    destination_id: str
    name: str
    sqs_arn: str | None  # None for an EventBridge destination


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    payload_version: str
    destination_id: str
    processing_directive: dict[str, Any] | None = None


@dataclass(frozen=True)
class OrderChange:
    """One ORDER_CHANGE notification (schemas/notifications/OrderChangeNotification.json)."""

    seller_id: str
    amazon_order_id: str
    marketplace_id: str
    order_status: str  # Pending, Unshipped, PartiallyShipped, Shipped, Canceled, Unfulfillable, …
    change_type: str  # OrderStatusChange, BuyerRequestedChange, DeliveryTipChange
    changed_at: datetime | None  # OrderChangeTrigger.TimeOfOrderChange (nullable in the schema)
    notification_id: str
    # The buyer asked to cancel: OrderChangeType BuyerRequestedChange with OrderChangeTrigger.ChangeReason "Buyer
    # Requested Cancel", or a Summary.OrderItems[].IsBuyerRequestedCancel true (OrderChangeNotification.json).
    cancel_requested: bool = False


def _call(method: str, url: str, token: str, *, json: Any = None, params: Any = None) -> spapi.Answer:
    try:
        # Deletes answer 200 with an empty response object (DeleteSubscriptionByIdResponse: errors only).
        return spapi.call(
            NotificationsApiError,
            method,
            url,
            token,
            json=json,
            params=params,
            allow_empty=method == "DELETE",
        )
    except NotificationsApiError as e:
        if e.status == 409:
            # notifications.json: 409 "The resource specified conflicts with the current state."
            raise NotificationsApiError("conflict", e.message, e.status, e.code) from e
        raise


def _payload(answer: spapi.Answer) -> Any:
    if not isinstance(answer.body, dict) or "payload" not in answer.body:
        raise NotificationsApiError("bad_response", "no payload", answer.status)
    return answer.body["payload"]


def _destination(doc: Any, status: int) -> Destination:
    # Destination: destinationId, name, resource {sqs {arn} | eventBridge {...}} (all required but sqs/eventBridge).
    try:
        sqs_resource = (doc.get("resource") or {}).get("sqs") or {}
        arn = sqs_resource.get("arn")
        return Destination(
            destination_id=str(doc["destinationId"]),
            name=str(doc.get("name", "")),
            sqs_arn=str(arn) if arn else None,
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise NotificationsApiError("bad_response", "malformed destination", status) from e


def _subscription(doc: Any, status: int) -> Subscription:
    # Subscription: subscriptionId, payloadVersion, destinationId required; processingDirective optional.
    try:
        directive = doc.get("processingDirective")
        return Subscription(
            subscription_id=str(doc["subscriptionId"]),
            payload_version=str(doc["payloadVersion"]),
            destination_id=str(doc["destinationId"]),
            processing_directive=directive if isinstance(directive, dict) else None,
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise NotificationsApiError("bad_response", "malformed subscription", status) from e


def create_destination(sp_api_base: str, grantless_token: str, name: str, sqs_arn: str) -> Destination:
    """createDestination, POST /notifications/v1/destinations {name, resourceSpecification: {sqs: {arn}}}."""
    answer = _call(
        "POST",
        f"{sp_api_base}/notifications/v1/destinations",
        grantless_token,
        json={"name": name, "resourceSpecification": {"sqs": {"arn": sqs_arn}}},
    )
    return _destination(_payload(answer), answer.status)


def get_destinations(sp_api_base: str, grantless_token: str) -> list[Destination]:
    """getDestinations, GET /notifications/v1/destinations: every destination of the application."""
    answer = _call("GET", f"{sp_api_base}/notifications/v1/destinations", grantless_token)
    payload = _payload(answer)
    if not isinstance(payload, list):
        raise NotificationsApiError("bad_response", "no destination list", answer.status)
    return [_destination(item, answer.status) for item in payload]


def delete_destination(sp_api_base: str, grantless_token: str, destination_id: str) -> None:
    """deleteDestination, DELETE /notifications/v1/destinations/{destinationId} (grantless).

    A destination that subscriptions still deliver to is not deleted: Amazon answers 403 Unauthorized, "The
    requested action is forbidden.", details "Destination has subscriptions" (selling-partner-api-models issue
    #2113), so kind "unauthorized" here; delete its subscriptions first (`delete_subscription_by_id`)."""
    _call(
        "DELETE",
        f"{sp_api_base}/notifications/v1/destinations/{quote(destination_id, safe='')}",
        grantless_token,
    )


def _subscriptions_url(sp_api_base: str, notification_type: str) -> str:
    return f"{sp_api_base}/notifications/v1/subscriptions/{quote(notification_type, safe='')}"


def create_subscription(
    sp_api_base: str,
    seller_token: str,
    notification_type: str,
    destination_id: str,
    payload_version: str = ORDER_CHANGE_PAYLOAD_VERSION,
    processing_directive: dict[str, Any] | None = None,
) -> Subscription:
    """createSubscription, POST /notifications/v1/subscriptions/{notificationType}
    {payloadVersion, destinationId, processingDirective?}, with the seller's access token.

    NotificationsApiError kind "conflict" when the seller already has this subscription for the application."""
    body: dict[str, Any] = {"payloadVersion": payload_version, "destinationId": destination_id}
    if processing_directive is not None:
        body["processingDirective"] = processing_directive
    answer = _call("POST", _subscriptions_url(sp_api_base, notification_type), seller_token, json=body)
    return _subscription(_payload(answer), answer.status)


def get_subscription(
    sp_api_base: str, seller_token: str, notification_type: str, payload_version: str | None = None
) -> Subscription:
    """getSubscription, GET /notifications/v1/subscriptions/{notificationType}[?payloadVersion=]: without a payload
    version, "the latest payload version subscription's information" (notifications.json). kind "not_found" when
    there is none."""
    params = {"payloadVersion": payload_version} if payload_version else None
    answer = _call("GET", _subscriptions_url(sp_api_base, notification_type), seller_token, params=params)
    return _subscription(_payload(answer), answer.status)


def subscribe(
    sp_api_base: str,
    seller_token: str,
    notification_type: str,
    destination_id: str,
    payload_version: str = ORDER_CHANGE_PAYLOAD_VERSION,
    processing_directive: dict[str, Any] | None = None,
) -> tuple[Subscription, bool]:
    """The seller's subscription, created if missing: (subscription, created). A 409 (it exists already) reads the
    existing one with getSubscription; it may name another destination, which the caller can compare."""
    try:
        created = create_subscription(
            sp_api_base,
            seller_token,
            notification_type,
            destination_id,
            payload_version,
            processing_directive,
        )
    except NotificationsApiError as e:
        if e.kind != "conflict":
            raise
        return get_subscription(sp_api_base, seller_token, notification_type, payload_version), False
    return created, True


def get_subscription_by_id(
    sp_api_base: str, grantless_token: str, notification_type: str, subscription_id: str
) -> Subscription:
    """getSubscriptionById, GET /notifications/v1/subscriptions/{notificationType}/{subscriptionId} (grantless)."""
    url = f"{_subscriptions_url(sp_api_base, notification_type)}/{quote(subscription_id, safe='')}"
    answer = _call("GET", url, grantless_token)
    return _subscription(_payload(answer), answer.status)


def delete_subscription_by_id(
    sp_api_base: str, grantless_token: str, notification_type: str, subscription_id: str
) -> None:
    """deleteSubscriptionById, DELETE /notifications/v1/subscriptions/{notificationType}/{subscriptionId}
    (grantless; any subscription of the application). Notifications stop afterwards."""
    url = f"{_subscriptions_url(sp_api_base, notification_type)}/{quote(subscription_id, safe='')}"
    _call("DELETE", url, grantless_token)


def _member(doc: Any, key: str) -> Any:
    """doc[key], also under the camelCase spelling (orderChangeNotification), or None."""
    if not isinstance(doc, dict):
        return None
    if key in doc:
        return doc[key]
    return doc.get(key[:1].lower() + key[1:])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _time(value: Any) -> datetime | None:
    # ISO 8601 with a Z, e.g. "2022-11-29T19:42:04.284Z" (the schema's example); Python 3.11 reads it.
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_order_change(n: sqs.Notification) -> OrderChange | None:
    """The ORDER_CHANGE notification's facts (Payload.OrderChangeNotification: SellerId, AmazonOrderId,
    OrderChangeType, OrderChangeTrigger.TimeOfOrderChange, Summary.MarketplaceId/OrderStatus;
    NotificationMetadata.NotificationId), or None when it is not one or names no seller or order."""
    if n.type != ORDER_CHANGE:
        return None
    change = _member(n.payload, "OrderChangeNotification")
    seller_id, order_id = _text(_member(change, "SellerId")), _text(_member(change, "AmazonOrderId"))
    if not seller_id or not order_id:
        return None
    summary = _member(change, "Summary")
    trigger = _member(change, "OrderChangeTrigger")
    return OrderChange(
        seller_id=seller_id,
        amazon_order_id=order_id,
        marketplace_id=_text(_member(summary, "MarketplaceId")),
        order_status=_text(_member(summary, "OrderStatus")),
        change_type=_text(_member(change, "OrderChangeType")),
        changed_at=_time(_member(trigger, "TimeOfOrderChange")),
        notification_id=_text(_member(n.metadata, "NotificationId")),
        cancel_requested=_buyer_requested_cancel(change, trigger, summary),
    )


BUYER_REQUESTED_CHANGE = "BuyerRequestedChange"
BUYER_REQUESTED_CANCEL = "Buyer Requested Cancel"  # OrderChangeTrigger.ChangeReason's example and enum value


def _buyer_requested_cancel(change: Any, trigger: Any, summary: Any) -> bool:
    reason = _text(_member(trigger, "ChangeReason"))
    if _text(_member(change, "OrderChangeType")) == BUYER_REQUESTED_CHANGE and "cancel" in reason.lower():
        return True
    items = _member(summary, "OrderItems")
    return isinstance(items, list) and any(_member(i, "IsBuyerRequestedCancel") is True for i in items)
