"""Amazon endpoints per region, from settings. The sandbox is just another value of these settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from amazon import marketplaces


@dataclass(frozen=True)
class RegionEndpoints:
    sp_api: str
    lwa_authorize: str  # Login with Amazon's authorize page, for Amazon Ads
    ads_token: str  # the LWA token endpoint of Amazon Ads in this region
    ads_api: str


def _sandbox() -> str:
    return settings.SANDBOX_BASE_URL.rstrip("/")


def for_region(region: str) -> RegionEndpoints:
    if settings.AMAZON_USE_SANDBOX:
        base = f"{_sandbox()}/{region.lower()}"
        return RegionEndpoints(
            sp_api=f"{base}/sp",
            lwa_authorize=f"{base}/ap/oa",
            ads_token=f"{base}/auth/o2/token",
            ads_api=f"{base}/ads",
        )
    e = settings.AMAZON_ENDPOINTS[region]
    return RegionEndpoints(
        sp_api=e["sp_api"].rstrip("/"),
        lwa_authorize=e["lwa_authorize"],
        ads_token=e["ads_token"],
        ads_api=e["ads_api"].rstrip("/"),
    )


def spapi_token() -> str:
    """The LWA token endpoint of the SP-API: one host for every region.

    "Connect to the Selling Partner API" (https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-
    partner-api): POST https://api.amazon.com/auth/o2/token, whatever the seller's region. The per-region hosts
    (api.amazon.co.uk, api.amazon.co.jp) are Amazon Ads' (RegionEndpoints.ads_token). The sandbox plays
    api.amazon.com at its NA token path.
    """
    if settings.AMAZON_USE_SANDBOX:
        return f"{_sandbox()}/na/auth/o2/token"
    return str(settings.AMAZON_SPAPI_LWA_TOKEN)


def seller_central(site: marketplaces.Marketplace) -> str:
    """Base URL of the Seller Central of a site (consent pages live below it)."""
    if settings.AMAZON_USE_SANDBOX:
        return f"{_sandbox()}/sellercentral/{site.seller_central_host}"
    return settings.AMAZON_SELLER_CENTRAL_URL_TEMPLATE.format(host=site.seller_central_host).rstrip("/")
