"""/api/v1/orders/{amazon_order_id}/shipments: tell Amazon a package shipped (POST, idempotent), and the packages.

POST needs an `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header): the first answer given for a key
is stored with a hash of the request, and the same key with the same request answers it again (same status and
body) without doing anything; the same key with another request is 422 `idempotency_key_reused`. The answer and the
package are stored in one transaction, so two requests racing with one key do the work once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import errors
from api.order_views import StoreParam, key_of, key_store, orders_of, reject_unknown
from api.shipments import PackageListSerializer, PackageRequest, PackageSerializer, package_document
from shipping import actions
from shipping.models import IdempotentRequest, Package
from sync.models import Order

KEY_HEADER = "Idempotency-Key"
KEY_MAX = 255
STORE_PARAM = OpenApiParameter(
    "store",
    type=OpenApiTypes.UUID,
    description="A store's code, when two of the key's stores hold the same order (as for the order itself).",
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _order(request: Request, amazon_order_id: str) -> Order:
    reject_unknown(request, ("store",))
    param = StoreParam(data=request.query_params)
    param.is_valid(raise_exception=True)
    stores = key_store(key_of(request).visible_stores(), param.validated_data.get("store"))
    order = orders_of(stores).filter(amazon_order_id=amazon_order_id).order_by("id").first()
    if order is None:
        raise exceptions.NotFound()
    return order


def _idempotency_key(request: Request) -> str:
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key or len(key) > KEY_MAX:
        raise exceptions.ParseError(
            _("Send an Idempotency-Key header (1 to 255 characters), a new one for each new package."),
            code="idempotency_key_required",
        )
    return key


def _request_hash(request: Request, amazon_order_id: str) -> str:
    what = {"order": amazon_order_id, "store": request.query_params.get("store", ""), "body": request.data}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def _replay(stored: IdempotentRequest, request_hash: str) -> Response:
    if stored.request_hash != request_hash:
        return Response(
            errors.error_body(
                "idempotency_key_reused",
                _("This Idempotency-Key was used for another request; use a new key for a new package."),
            ),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(stored.body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})


def _submit(request: Request, order: Order, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    package_data = actions.PackageData(
        package_reference_id=str(data["package_reference_id"]),
        carrier_code=data["carrier_code"],
        carrier_name=data.get("carrier_name", ""),
        shipping_method=data.get("shipping_method", ""),
        tracking_number=data["tracking_number"],
        ship_date=data["ship_date"],
        items=tuple((i["order_item_id"], i["quantity"]) for i in data["items"]),
    )
    try:
        package, _changed = actions.submit(
            order, package_data, Package.Source.API, key_prefix=key_of(request).prefix
        )
    except actions.Refused as e:
        code = status.HTTP_409_CONFLICT if e.problem == "order_canceled" else status.HTTP_400_BAD_REQUEST
        fields = {e.field: [e.message]} if e.field else {}
        return code, errors.error_body(e.problem, e.message, fields)
    fresh = Package.objects.select_related("order__store").prefetch_related("items").get(pk=package.pk)
    return status.HTTP_202_ACCEPTED, dict(PackageSerializer(package_document(fresh)).data)


class OrderShipments(APIView):
    """The packages of one order (GET) and a new or edited package (POST)."""

    @extend_schema(
        operation_id="orders_shipments_list",
        parameters=[STORE_PARAM],
        responses={200: PackageListSerializer},
    )
    def get(self, request: Request, amazon_order_id: str) -> Response:
        """The order's packages, lowest package reference first, each with its status and any problem in words."""
        order = _order(request, amazon_order_id)
        packages = (
            order.packages.select_related("order__store")  # type: ignore[attr-defined]
            .prefetch_related("items")
            .order_by("package_reference_id")
        )
        document = {
            "amazon_order_id": order.amazon_order_id,
            "store": order.store.code,
            "results": [package_document(p) for p in packages],
        }
        return Response(PackageListSerializer(document).data)

    @extend_schema(
        operation_id="orders_shipments_create",
        parameters=[
            STORE_PARAM,
            OpenApiParameter(
                KEY_HEADER,
                type={"type": "string", "minLength": 1, "maxLength": KEY_MAX},
                location=OpenApiParameter.HEADER,
                required=True,
                description="A unique value per package sent (e.g. a UUID). The same key and request again "
                "answers the first answer; the same key with another request is 422.",
            ),
        ],
        request=PackageRequest,
        responses={
            202: PackageSerializer,
            400: OpenApiResponse(
                description="A value is not valid, a named problem (`carrier`, `order_item`, `quantity`, …; "
                "`fields` says which), or no `Idempotency-Key` (`idempotency_key_required`)."
            ),
            409: OpenApiResponse(
                description="The order is cancelled (`order_canceled`): Amazon is not asked."
            ),
            422: OpenApiResponse(description="The Idempotency-Key was used for another request."),
        },
    )
    def post(self, request: Request, amazon_order_id: str) -> Response:
        """Tell Amazon that a package of this order shipped (confirmShipment), or edit a package sent before (the
        same `package_reference_id`). Answers 202 at once; the package's `status` follows (GET, or the
        `shipment.confirmed` / `shipment.failed` webhook events). Needs a read + write key."""
        # The order first: a key that may not see it gets 404 whatever it sent (existence is never revealed).
        order = _order(request, amazon_order_id)
        key = _idempotency_key(request)
        prefix = key_of(request).prefix
        request_hash = _request_hash(request, amazon_order_id)
        stored = IdempotentRequest.objects.filter(api_key_prefix=prefix, key=key).first()
        if stored is not None:
            return _replay(stored, request_hash)
        body = PackageRequest(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                code, answer = _submit(request, order, body.validated_data)
                IdempotentRequest.objects.create(
                    api_key_prefix=prefix, key=key, request_hash=request_hash, status_code=code, body=answer
                )
        except IntegrityError:
            # The same key raced in another request, which committed first: its answer is the answer.
            stored = IdempotentRequest.objects.filter(api_key_prefix=prefix, key=key).first()
            if stored is None:  # the same package reference raced under another key
                raise Conflict(_("Another request changed this package; try again.")) from None
            return _replay(stored, request_hash)
        return Response(answer, status=code)
