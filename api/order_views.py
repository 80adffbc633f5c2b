"""/api/v1/orders/: the orders of the stores a key may see, one order by its Amazon id, and the changes feed."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import errors
from api.models import ApiKey
from api.orders import OrderChangesSerializer, OrderSerializer, order_document
from stores.models import Store
from sync import order_feed, ship_to
from sync.models import Order

LIST_FILTERS = ("store", "status", "purchased_after", "purchased_before")
FEED_LIMIT, FEED_LIMIT_MAX = 100, 500


def reject_unknown(request: Request, known: tuple[str, ...]) -> None:
    unknown = sorted(set(request.query_params) - set(known))
    if unknown:
        raise exceptions.ValidationError({name: [_("Unknown filter.")] for name in unknown})


def key_of(request: Request) -> ApiKey:
    key = request.auth
    assert isinstance(key, ApiKey)  # HasApiKey let the request in
    return key


def key_store(stores: QuerySet[Store], code: uuid.UUID | None) -> QuerySet[Store]:
    """The key's stores, or the one named by `store` (a code outside them is 404, as a store the key may not see is
    everywhere in the API: existence is never revealed)."""
    if code is None:
        return stores
    one = stores.filter(code=code)
    if not one.exists():
        raise exceptions.NotFound(_("No store with this code among this key's stores."))
    return one


def documents(request: Request, orders: list[Order]) -> list[dict[str, Any]]:
    """The orders as the API shows them to this key: with the ship-to address only for a key with that permission,
    and then one audit event per store of the request naming the orders whose address it read."""
    key = key_of(request)
    permitted = key.can_read_ship_to
    docs = [order_document(o, ship_to_permitted=permitted) for o in orders]
    if permitted:
        read = [o for o, d in zip(orders, docs, strict=True) if d["ship_to"] is not None]
        if read:
            ship_to.audit_read(request._request, read, f"API key {key.prefix}")
    return docs


def orders_of(stores: QuerySet[Store]) -> QuerySet[Order]:
    return Order.objects.filter(store__in=stores).select_related("store").prefetch_related("items")


class OrderFilters(serializers.Serializer[Any]):
    store = serializers.UUIDField(required=False)
    status = serializers.CharField(required=False)
    purchased_after = serializers.DateTimeField(required=False)
    purchased_before = serializers.DateTimeField(required=False)


class OrderPages(CursorPagination):
    # Newest purchase first; the id breaks ties, and a purchase date does not change, so pages neither skip nor
    # repeat an order that existed when paging began. Following every change is what the changes feed is for.
    ordering = ("-purchase_date", "-id")
    page_size = 50

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise errors.invalid_cursor() from None


@extend_schema(
    parameters=[
        OpenApiParameter("store", type=OpenApiTypes.UUID, description="A store's code: only its orders."),
        OpenApiParameter(
            "status", type=str, description="Amazon's status as received, e.g. UNSHIPPED, SHIPPED."
        ),
        OpenApiParameter(
            "purchased_after",
            type=OpenApiTypes.DATETIME,
            description="ISO 8601 time: purchased at or after it (UTC if no offset).",
        ),
        OpenApiParameter(
            "purchased_before", type=OpenApiTypes.DATETIME, description="ISO 8601 time: purchased before it."
        ),
    ]
)
class OrderList(generics.ListAPIView):  # type: ignore[type-arg]
    """The orders of the stores this key may see, newest purchase first, 50 a page (follow `next`)."""

    serializer_class = OrderSerializer
    pagination_class = OrderPages

    def get_queryset(self) -> QuerySet[Order]:
        reject_unknown(self.request, (*LIST_FILTERS, "cursor"))
        filters = OrderFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        orders = orders_of(key_store(key_of(self.request).visible_stores(), f.get("store")))
        if "status" in f:
            orders = orders.filter(status=f["status"])
        if "purchased_after" in f:
            orders = orders.filter(purchase_date__gte=f["purchased_after"])
        if "purchased_before" in f:
            orders = orders.filter(purchase_date__lt=f["purchased_before"])
        return orders

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(OrderSerializer(documents(request, list(page)), many=True).data)


class StoreParam(serializers.Serializer[Any]):
    store = serializers.UUIDField(required=False)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "store",
            type=OpenApiTypes.UUID,
            description="A store's code. Needed only when two of the key's stores hold the same order (one seller "
            "account added twice): without it the copy loaded first answers.",
        )
    ],
    responses={200: OrderSerializer},
)
class OrderDetail(APIView):
    """One order by its Amazon order id, among the stores this key may see; any other order is 404."""

    def get(self, request: Request, amazon_order_id: str) -> Response:
        reject_unknown(request, ("store",))
        param = StoreParam(data=request.query_params)
        param.is_valid(raise_exception=True)
        stores = key_store(key_of(request).visible_stores(), param.validated_data.get("store"))
        # Amazon order ids are unique at Amazon, but a store is unique per (tenant, seller, region): the same seller
        # added as two stores loads each order twice. The lowest id (the copy loaded first) answers, the same one
        # every time; `store` picks another. No 300/409: a consumer always gets the order.
        order = orders_of(stores).filter(amazon_order_id=amazon_order_id).order_by("id").first()
        if order is None:
            raise exceptions.NotFound()
        return Response(OrderSerializer(documents(request, [order])[0]).data)


class FeedParams(serializers.Serializer[Any]):
    cursor = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=FEED_LIMIT_MAX)
    store = serializers.UUIDField(required=False)

    def validate_cursor(self, value: str) -> order_feed.Position:
        try:
            return order_feed.Position.parse(value)
        except ValueError:
            # A cursor is not a value to correct but a place the feed handed out: one it never did is not found.
            raise errors.invalid_cursor() from None


@extend_schema(
    parameters=[
        OpenApiParameter(
            "cursor", type=str, description="`next_cursor` of the previous call; none: from the first change."
        ),
        OpenApiParameter(
            "limit",
            type={"type": "integer", "minimum": 1, "maximum": FEED_LIMIT_MAX},
            description=f"Changes per page, 1 to {FEED_LIMIT_MAX} (default 100).",
        ),
        OpenApiParameter(
            "store", type=OpenApiTypes.UUID, description="A store's code: only its orders' changes."
        ),
    ],
    responses={
        200: OrderChangesSerializer,
        400: OpenApiResponse(description="Unknown parameter or a value that is not valid."),
    },
)
class OrderChanges(APIView):
    """The orders changes feed: keep `next_cursor` and call again to receive every order change after it, exactly
    once and in order; no change is ever skipped, even when writers commit out of order (sync/order_feed.py).

    Each order appears at its latest change only: a consumer that is behind receives an order once, as it is now.
    An empty page still returns `next_cursor` (the same position): poll with it."""

    def get(self, request: Request) -> Response:
        reject_unknown(request, ("cursor", "limit", "store"))
        params = FeedParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        p = params.validated_data
        key = key_of(request)
        after: order_feed.Position = p.get("cursor", order_feed.START)
        limit: int = p.get("limit", FEED_LIMIT)
        stores = key_store(key.visible_stores(), p.get("store"))
        with order_feed.one_snapshot():
            changes = order_feed.read(stores, after, limit + 1, tenant_id=key.tenant_id)
            has_more = len(changes) > limit
            changes = changes[:limit]
            orders = (
                Order.objects.select_related("store")
                .prefetch_related("items")
                .in_bulk([order_id for _p, order_id in changes])
            )
        shown = [(position, orders[order_id]) for position, order_id in changes if order_id in orders]
        # (an order missing was deleted with its store since the feed was read)
        docs = documents(request, [o for _p, o in shown])
        results = [{**d, "position": p.token()} for (p, _o), d in zip(shown, docs, strict=True)]
        last = changes[-1][0] if changes else after
        body = {"results": results, "next_cursor": last.token(), "has_more": has_more}
        return Response(OrderChangesSerializer(body).data)
