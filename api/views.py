"""/api/v1/: the stores a key may see, the OpenAPI document and its docs page."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.decorators import api_view
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from amazon import marketplaces
from api import errors, rechecks
from api.models import ApiKey
from api.stores import StoreSerializer, store_document
from authorizations.models import Authorization, AuthStatus, Capability
from stores.models import CombinedStatus, Store

FILTERS = ("status", "capability", "capability_status", "region", "updated_since")


class StoreFilters(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=CombinedStatus.choices, required=False)
    capability = serializers.ChoiceField(choices=Capability.choices, required=False)
    capability_status = serializers.ChoiceField(choices=AuthStatus.choices, required=False)
    region = serializers.ChoiceField(choices=marketplaces.REGIONS, required=False)
    updated_since = serializers.DateTimeField(required=False)


class StorePages(CursorPagination):
    # The primary key never changes and is unique, so a cursor over it never skips or repeats a store.
    ordering = "id"
    page_size = 50

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise errors.invalid_cursor() from None


class StoreDocumentMixin:
    request: Request

    def key_stores(self) -> QuerySet[Store]:
        key = self.request.auth
        assert isinstance(key, ApiKey)
        return key.visible_stores().select_related("order_sync").prefetch_related("authorizations")


@extend_schema(
    parameters=[
        OpenApiParameter("status", enum=CombinedStatus.values, description="Combined status."),
        OpenApiParameter("capability", enum=Capability.values),
        OpenApiParameter(
            "capability_status",
            enum=AuthStatus.values,
            description="That capability's status (with `capability`), or any capability's (alone).",
        ),
        OpenApiParameter("region", enum=[code for code, _label in marketplaces.REGIONS]),
        OpenApiParameter(
            "updated_since",
            type=OpenApiTypes.DATETIME,
            description="ISO 8601 time: stores or authorizations changed at or after it.",
        ),
    ]
)
class StoreList(StoreDocumentMixin, generics.ListAPIView):  # type: ignore[type-arg]
    """The stores this key may see, oldest first, 50 a page (follow `next`)."""

    serializer_class = StoreSerializer
    pagination_class = StorePages

    def get_queryset(self) -> QuerySet[Store]:
        unknown = sorted(set(self.request.query_params) - {*FILTERS, "cursor"})
        if unknown:
            raise exceptions.ValidationError({name: [_("Unknown filter.")] for name in unknown})
        filters = StoreFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        stores = self.key_stores()
        if "status" in f:
            stores = stores.filter(authorization_status=f["status"])
        if "region" in f:
            stores = stores.filter(region=f["region"])
        if "capability_status" in f and "capability" in f:
            stores = stores.filter(
                authorizations__capability=f["capability"], authorizations__status=f["capability_status"]
            )
        elif "capability_status" in f:
            # Any capability in that status, e.g. every store that needs a re-authorization somewhere.
            stores = stores.filter(
                pk__in=Authorization.objects.filter(status=f["capability_status"]).values("store_id")
            )
        elif "capability" in f:
            stores = stores.filter(authorizations__capability=f["capability"])
        if "updated_since" in f:
            since = f["updated_since"]
            changed = Store.objects.filter(
                Q(updated_at__gte=since) | Q(authorizations__status_changed_at__gte=since)
            ).values("pk")
            stores = stores.filter(pk__in=changed)
        return stores

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(StoreSerializer([store_document(s) for s in page], many=True).data)


STORE_CODE = OpenApiParameter(
    "code", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The store's code (`code` of a store)."
)


@extend_schema(parameters=[STORE_CODE])
class StoreDetail(StoreDocumentMixin, generics.RetrieveAPIView):  # type: ignore[type-arg]
    """One store, by its code. Another tenant's store, or one outside the key's stores, is 404."""

    serializer_class = StoreSerializer

    def get_queryset(self) -> QuerySet[Store]:
        return self.key_stores()

    def get_object(self) -> dict[str, Any]:  # type: ignore[override]
        return store_document(_find_store(self.get_queryset(), self.kwargs["code"]))


class RecheckRequest(serializers.Serializer[Any]):
    capability = serializers.ChoiceField(
        choices=Capability.choices, required=False, help_text="Check only this capability (default: all)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = (
            sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        )
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return attrs


class CheckSerializer(serializers.Serializer[Any]):
    capability = serializers.ChoiceField(choices=Capability.choices)
    checked = serializers.BooleanField(help_text="Whether Amazon was asked now.")
    result = serializers.CharField(
        help_text='"ok", a reason code (as `reason_code` of a capability), or "not_checked" (no token to check).'
    )
    status = serializers.ChoiceField(
        choices=AuthStatus.choices, help_text="The capability's status after the check."
    )
    message = serializers.CharField(help_text="The result in the request's language.")
    todo = serializers.CharField(help_text="What to do, in the request's language (empty: nothing).")


class RecheckSerializer(serializers.Serializer[Any]):
    store = StoreSerializer()
    checks = CheckSerializer(many=True)


@extend_schema(
    parameters=[STORE_CODE],
    request=RecheckRequest,
    responses={200: RecheckSerializer},
    description=(
        'The live "query authorization result": each capability holding a token is checked at Amazon now and the '
        "store's fresh status is returned. Needs a read + write key. At most `LIVE_CHECKS_PER_MINUTE` checks per "
        "capability a minute, shared with the store page's buttons: over it, 429 with Retry-After and nothing checked."
    ),
)
@api_view(["POST"])
def recheck(request: Request, code: str) -> Response:
    key = request.auth
    assert isinstance(key, ApiKey)
    body = RecheckRequest(data=request.data)
    body.is_valid(raise_exception=True)
    store = _find_store(key.visible_stores(), code)
    try:
        checks = rechecks.recheck_store(request._request, key, store, body.validated_data.get("capability"))
    except rechecks.TooManyChecks as e:
        raise exceptions.Throttled(
            wait=e.retry_after,
            detail=_(
                "This store was checked at Amazon several times in the last minute; nothing was checked."
            ),
        ) from None
    fresh = (
        key.visible_stores().select_related("order_sync").prefetch_related("authorizations").get(pk=store.pk)
    )
    return Response(RecheckSerializer({"store": store_document(fresh), "checks": checks}).data)


def _find_store(stores: QuerySet[Store], code: str) -> Store:
    """A store of `stores` by its code; any other code (another tenant's, outside the key's stores, not a UUID): 404."""
    try:
        uid = uuid.UUID(str(code))
    except ValueError:
        raise exceptions.NotFound() from None
    store = stores.filter(code=uid).first()
    if store is None:
        raise exceptions.NotFound()
    return store


def docs(request: HttpRequest) -> HttpResponse:
    """A readable page of the OpenAPI document, rendered by our own static script (no outside CDN)."""
    return render(request, "api/docs.html")
