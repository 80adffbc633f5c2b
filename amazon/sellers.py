"""Sellers API: getMarketplaceParticipations, the cheap call that proves an SP-API authorization works."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from amazon import spapi


class SellersApiError(spapi.SpApiError):
    pass


@dataclass(frozen=True)
class Participation:
    id: str
    country_code: str
    name: str
    participating: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def get_marketplace_participations(sp_api_base: str, access_token: str) -> list[Participation]:
    answer = spapi.call(
        SellersApiError, "GET", f"{sp_api_base}/sellers/v1/marketplaceParticipations", access_token
    )
    payload = answer.body.get("payload") if isinstance(answer.body, dict) else None
    if not isinstance(payload, list):
        raise SellersApiError("bad_response", "no payload list", answer.status)
    out = []
    for item in payload:
        try:
            m, p = item["marketplace"], item["participation"]
            out.append(
                Participation(
                    id=str(m["id"]),
                    country_code=str(m.get("countryCode", "")),
                    name=str(m.get("name", "")),
                    participating=bool(p.get("isParticipating", False)),
                )
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise SellersApiError("bad_response", "malformed participation", answer.status) from e
    return out
