"""Listings Items API searchListingsItems, used only to prove which seller a grant belongs to.

Amazon's OAuth callback carries `selling_partner_id` as a plain query parameter, so a browser can rewrite it.
No SP-API answer names the seller, but searchListingsItems takes the seller id in its path
(`GET /listings/2021-08-01/items/{sellerId}`, listingsItems_2021-08-01.json, "sellerId: A selling partner
identifier, such as a merchant account or vendor code") and answers 403 for a seller id the access token does not
belong to. A 200 therefore proves the claim; a 403 means "not this seller" for an application that holds the
Product Listing role, and "cannot tell" for one that does not (the order-loading application).
"""

from __future__ import annotations

from urllib.parse import quote

from amazon import spapi


class ListingsSellerError(spapi.SpApiError):
    pass


def seller_matches(sp_api_base: str, access_token: str, seller_id: str, marketplace_id: str) -> bool:
    """True when the token is the seller's (200); False on 403; other failures raise ListingsSellerError."""
    try:
        spapi.call(
            ListingsSellerError,
            "GET",
            f"{sp_api_base}/listings/2021-08-01/items/{quote(seller_id, safe='')}",
            access_token,
            # pageSize 1: the answer's content does not matter, only whether Amazon lets this token read it.
            params={"marketplaceIds": marketplace_id, "pageSize": 1},
        )
    except ListingsSellerError as e:
        if e.kind == "unauthorized":
            return False
        raise
    return True
