"""Amazon endpoints per region, from settings. The sandbox is just another value of these settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from amazon import marketplaces


@dataclass(frozen=True)
class RegionEndpoints:
    sp_api: str
    lwa_authorize: str
    lwa_token: str
    ads_api: str


def _sandbox() -> str:
    return settings.SANDBOX_BASE_URL.rstrip("/")


def for_region(region: str) -> RegionEndpoints:
    if settings.AMAZON_USE_SANDBOX:
        base = f"{_sandbox()}/{region.lower()}"
        return RegionEndpoints(
            sp_api=f"{base}/sp",
            lwa_authorize=f"{base}/ap/oa",
            lwa_token=f"{base}/auth/o2/token",
            ads_api=f"{base}/ads",
        )
    e = settings.AMAZON_ENDPOINTS[region]
    return RegionEndpoints(
        sp_api=e["sp_api"].rstrip("/"),
        lwa_authorize=e["lwa_authorize"],
        lwa_token=e["lwa_token"],
        ads_api=e["ads_api"].rstrip("/"),
    )


def seller_central(site: marketplaces.Marketplace) -> str:
    """Base URL of the Seller Central of a site (consent pages live below it)."""
    if settings.AMAZON_USE_SANDBOX:
        return f"{_sandbox()}/sellercentral/{site.seller_central_host}"
    return settings.AMAZON_SELLER_CENTRAL_URL_TEMPLATE.format(host=site.seller_central_host).rstrip("/")
