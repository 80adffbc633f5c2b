"""Advertising (Login with Amazon, scope advertising::campaign_management) on top of the shared attempt rules."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings

from authorizations import endpoints
from authorizations.clients import ads
from stores.models import Store

SCOPE = "advertising::campaign_management"


def authorize_url(store: Store, state: str, redirect_uri: str) -> str:
    query = {
        "client_id": settings.AMAZON_ADS_APP["client_id"],
        "scope": SCOPE,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{endpoints.for_region(store.region).lwa_authorize}?{urlencode(query)}"


def fetch_profiles(store: Store, refresh_token: str, access_token: str | None) -> list[dict[str, object]]:
    from authorizations.flow import VerificationError, access_token_for
    from authorizations.models import Capability

    token = access_token or access_token_for(store, Capability.ADS, refresh_token)
    try:
        profiles = ads.list_profiles(
            endpoints.for_region(store.region).ads_api, settings.AMAZON_ADS_APP["client_id"], token
        )
    except ads.AdsApiError as e:
        reason = {"unauthorized": "verification_failed", "network": "network", "throttled": "throttled"}.get(
            e.kind, "bad_response" if e.kind == "bad_response" else "amazon_error"
        )
        raise VerificationError(reason, e.kind) from e
    return [p.as_dict() for p in profiles]
