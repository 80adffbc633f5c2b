"""Amazon Ads API: the profiles an advertising authorization reaches."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from amazon import http
from amazon.errors import AmazonError


class AdsApiError(AmazonError):
    """kinds: unauthorized (401/403), throttled (429), server_error, network, bad_response."""


@dataclass(frozen=True)
class Profile:
    profile_id: int
    country_code: str
    currency_code: str
    timezone: str
    marketplace_id: str
    account_type: str
    account_name: str
    account_id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_profiles(ads_api_base: str, client_id: str, access_token: str) -> list[Profile]:
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Amazon-Advertising-API-ClientId": client_id,
        "Accept": "application/json",
    }
    try:
        r = http.request("GET", f"{ads_api_base}/v2/profiles", headers=headers)
    except http.TransportError as e:
        raise AdsApiError("network", "timeout" if e.timeout else str(e)) from e
    if r.status_code in (401, 403):
        raise AdsApiError("unauthorized", f"HTTP {r.status_code}", r.status_code)
    if r.status_code == 429:
        raise AdsApiError("throttled", "HTTP 429", 429)
    if r.status_code >= 300:
        raise AdsApiError("server_error", f"HTTP {r.status_code}", r.status_code)
    doc = http.json_or_none(r)
    if not isinstance(doc, list):
        raise AdsApiError("bad_response", "profiles is not a list", r.status_code)
    out = []
    for item in doc:
        try:
            info = item.get("accountInfo") or {}
            out.append(
                Profile(
                    profile_id=int(item["profileId"]),
                    country_code=str(item.get("countryCode", "")),
                    currency_code=str(item.get("currencyCode", "")),
                    timezone=str(item.get("timezone", "")),
                    marketplace_id=str(info.get("marketplaceStringId", "")),
                    account_type=str(info.get("type", "")),
                    account_name=str(info.get("name", "")),
                    account_id=str(info.get("id", "")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise AdsApiError("bad_response", "malformed profile", r.status_code) from e
    return out
