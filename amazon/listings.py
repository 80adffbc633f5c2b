"""Listings Items API 2021-08-01: patchListingsItem, used to set the quantity of a seller SKU."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from amazon import spapi


class ListingsApiError(spapi.SpApiError):
    pass


@dataclass(frozen=True)
class PatchResult:
    status: str  # ACCEPTED or INVALID
    issues: list[str]
    rate_limit: float | None

    @property
    def accepted(self) -> bool:
        return self.status == "ACCEPTED"


def set_quantity(
    sp_api_base: str,
    access_token: str,
    *,
    seller_id: str,
    sku: str,
    marketplace_id: str,
    quantity: int,
    product_type: str = "PRODUCT",
) -> PatchResult:
    body: dict[str, Any] = {
        "productType": product_type,
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }
    answer = spapi.call(
        ListingsApiError,
        "PATCH",
        f"{sp_api_base}/listings/2021-08-01/items/{quote(seller_id, safe='')}/{quote(sku, safe='')}",
        access_token,
        params={"marketplaceIds": marketplace_id},
        json=body,
    )
    doc = answer.body
    if not isinstance(doc, dict) or not isinstance(doc.get("status"), str):
        raise ListingsApiError("bad_response", "no status", answer.status)
    issues = [
        str(i.get("message", ""))[:200]
        for i in doc.get("issues") or []
        if isinstance(i, dict) and i.get("severity") == "ERROR"
    ]
    return PatchResult(status=doc["status"], issues=issues, rate_limit=answer.rate_limit)
