"""Listings Items API 2021-08-01: patchListingsItem to set the quantity of a seller SKU, getListingsItem to read back
what Amazon made of it.

Sources (Amazon's):
- the model, listingsItems_2021-08-01.json: the paths, `marketplaceIds`, `issueLocale`, `includedData`, the
  `PatchOperation` ops add/replace/merge/delete, `ListingsItemSubmissionResponse` (ACCEPTED means "accepted for
  processing") and `Item` (`fulfillmentAvailability`: fulfillmentChannelCode, quantity; `issues`);
- "Merge a listing" (https://developer-docs.amazon.com/sp-api/docs/merge-a-listing): a `merge` of
  /attributes/fulfillment_availability with the selector `fulfillment_channel_code` and only `quantity` changes the
  quantity and leaves restock_date and lead_time_to_ship_max_days as they are (a `replace` would drop them);
- "Manage Listings Issues" (https://developer-docs.amazon.com/sp-api/docs/manage-listings-issues): "Accepted does not
  mean the process is complete"; issues can come later and are read with getListingsItem's `issues`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from amazon import spapi

BASE = "/listings/2021-08-01/items"
# The channel of seller-fulfilled quantities, the selector the merge needs ("Merge a listing").
DEFAULT_CHANNEL = "DEFAULT"
# Issues come back in this locale (the model: "Localized messages default to `en_US` when localization is not
# available"); the portal's staff read them, so they stay in English whatever the marketplace's language.
ISSUE_LOCALE = "en_US"
# What the confirmation needs of getListingsItem (the model's `includedData` enum).
CONFIRM_DATA = "issues,fulfillmentAvailability"


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


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    severity: str  # ERROR, WARNING or INFO
    attribute_names: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    sku: str
    # The DEFAULT channel's quantity as Amazon shows it now (None when Amazon shows none).
    quantity: int | None
    issues: tuple[Issue, ...]
    rate_limit: float | None


def _item_url(sp_api_base: str, seller_id: str, sku: str) -> str:
    return f"{sp_api_base}{BASE}/{quote(seller_id, safe='')}/{quote(sku, safe='')}"


def quantity_patch(quantity: int, product_type: str = "PRODUCT") -> dict[str, Any]:
    """The patchListingsItem body that changes only the quantity ("Merge a listing")."""
    return {
        "productType": product_type,
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": DEFAULT_CHANNEL, "quantity": quantity}],
            }
        ],
    }


def set_quantity(
    sp_api_base: str,
    access_token: str,
    *,
    seller_id: str,
    sku: str,
    marketplace_id: str,
    quantity: int,
    product_type: str = "PRODUCT",
    issue_locale: str = ISSUE_LOCALE,
) -> PatchResult:
    answer = spapi.call(
        ListingsApiError,
        "PATCH",
        _item_url(sp_api_base, seller_id, sku),
        access_token,
        params={"marketplaceIds": marketplace_id, "issueLocale": issue_locale},
        json=quantity_patch(quantity, product_type),
    )
    doc = answer.body
    if not isinstance(doc, dict) or not isinstance(doc.get("status"), str):
        raise ListingsApiError("bad_response", "no status", answer.status)
    issues = [i.message[:200] for i in _issues(doc.get("issues")) if i.severity == "ERROR"]
    return PatchResult(status=doc["status"], issues=issues, rate_limit=answer.rate_limit)


def get_listing(
    sp_api_base: str,
    access_token: str,
    *,
    seller_id: str,
    sku: str,
    marketplace_id: str,
    issue_locale: str = ISSUE_LOCALE,
) -> Listing:
    """getListingsItem with its issues and fulfillment availability; an unknown SKU raises kind "not_found"."""
    answer = spapi.call(
        ListingsApiError,
        "GET",
        _item_url(sp_api_base, seller_id, sku),
        access_token,
        params={"marketplaceIds": marketplace_id, "issueLocale": issue_locale, "includedData": CONFIRM_DATA},
    )
    doc = answer.body
    if not isinstance(doc, dict) or not isinstance(doc.get("sku"), str):
        raise ListingsApiError("bad_response", "no sku", answer.status)
    return Listing(
        sku=doc["sku"],
        quantity=_default_quantity(doc.get("fulfillmentAvailability")),
        issues=tuple(_issues(doc.get("issues"))),
        rate_limit=answer.rate_limit,
    )


def _default_quantity(availability: Any) -> int | None:
    for entry in availability if isinstance(availability, list) else []:
        if isinstance(entry, dict) and entry.get("fulfillmentChannelCode") == DEFAULT_CHANNEL:
            quantity = entry.get("quantity")
            if isinstance(quantity, int) and not isinstance(quantity, bool):
                return quantity
    return None


def _issues(raw: Any) -> list[Issue]:
    issues = []
    for i in raw if isinstance(raw, list) else []:
        if not isinstance(i, dict):
            continue
        names = i.get("attributeNames")
        issues.append(
            Issue(
                code=str(i.get("code", ""))[:40],
                message=str(i.get("message", "")),
                severity=str(i.get("severity", "")),
                attribute_names=tuple(str(n) for n in names) if isinstance(names, list) else (),
            )
        )
    return issues
