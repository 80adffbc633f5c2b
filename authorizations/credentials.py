"""Credentials per kind of grant: what differs between an SP-API application and the Ads (Login with Amazon) client.

One small class each, as django-allauth has one adapter per provider, instead of `if capability == ADS` across the
workflow: the consent URL, the callback route, the LWA client, how a grant is verified and what a re-check stores.
The attempt workflow (flow.py), installing a grant (install.py), re-checks (recheck.py) and sync's jobs all ask
`for_capability(...)`. See docs/architecture.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from amazon import ads, endpoints, listings_seller, lwa, sellers
from authorizations.models import Capability
from authorizations.reasons import reason_for
from stores.models import Store

log = logging.getLogger(__name__)
ADS_SCOPE = "advertising::campaign_management"


class VerificationError(Exception):
    """Amazon did not confirm a grant (or its token could not be refreshed); `reason` is a reasons.py code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Grant:
    """What Amazon confirmed about a grant: whose it is and what it reaches."""

    sp_id: str
    verified: bool
    fields: dict[str, Any] = field(default_factory=dict)  # Authorization fields to store (marketplaces, profiles)


class Credentials:
    capability: str
    callback_route: str = "amazon:callback"

    def client(self) -> lwa.Client:
        raise NotImplementedError

    def token_url(self, store: Store) -> str:
        raise NotImplementedError

    def access_token(self, store: Store, refresh_token: str) -> str:
        try:
            return lwa.refresh(self.token_url(store), self.client(), refresh_token).access_token
        except lwa.LwaError as e:
            raise VerificationError(reason_for(e.kind, "refresh"), e.kind) from e

    def consent_url(self, store: Store, state: str, redirect_uri: str) -> str:
        raise NotImplementedError

    def verify(self, store: Store, refresh_token: str, access_token: str | None, claimed_sp_id: str) -> Grant:
        """Ask Amazon what a new grant gives and whose it is; raises VerificationError."""
        raise NotImplementedError

    def check(self, store: Store, refresh_token: str) -> dict[str, Any]:
        """The cheap call of a re-check: the Authorization fields it refreshes; raises VerificationError."""
        raise NotImplementedError


class SpApiApp(Credentials):
    """One of the two SP-API applications (order loading, listing/inventory sync)."""

    def __init__(self, capability: str) -> None:
        self.capability = capability

    @property
    def app(self) -> dict[str, Any]:
        app: dict[str, Any] = settings.AMAZON_SPAPI_APPS[self.capability]
        return app

    def client(self) -> lwa.Client:
        return lwa.Client(client_id=self.app["client_id"], client_secret=self.app["client_secret"])

    def token_url(self, store: Store) -> str:
        return endpoints.spapi_token()

    def consent_url(self, store: Store, state: str, redirect_uri: str) -> str:
        query = {"application_id": self.app["app_id"], "state": state, "redirect_uri": redirect_uri}
        if self.app.get("beta"):
            query["version"] = "beta"
        return f"{endpoints.seller_central(store.primary_site)}/apps/authorize/consent?{urlencode(query)}"

    def verify(self, store: Store, refresh_token: str, access_token: str | None, claimed_sp_id: str) -> Grant:
        token = access_token or self.access_token(store, refresh_token)
        granted = self.participations(store, token)
        verified = self.seller_matches(store, token, claimed_sp_id)
        return Grant(claimed_sp_id, verified, {"granted_marketplaces": granted})

    def check(self, store: Store, refresh_token: str) -> dict[str, Any]:
        return {"granted_marketplaces": self.participations(store, self.access_token(store, refresh_token))}

    def participations(self, store: Store, access_token: str) -> list[dict[str, object]]:
        try:
            parts = sellers.get_marketplace_participations(endpoints.for_region(store.region).sp_api, access_token)
        except sellers.SellersApiError as e:
            raise VerificationError(reason_for(e.kind, "verify"), f"{e.kind} {e.code}".strip()) from e
        return [p.as_dict() for p in parts]

    def seller_matches(self, store: Store, access_token: str, sp_id: str) -> bool:
        """Whether Amazon confirms the grant belongs to `sp_id` (see amazon/listings_seller.py).

        The listing/inventory application holds the Product Listing role, so a refusal there means the callback's
        seller id is not the grant's: the attempt fails. The order-loading application may lack that role: a
        refusal there only leaves the claim unverified.
        """
        strict = self.capability == Capability.LISTINGS
        try:
            ok = listings_seller.seller_matches(
                endpoints.for_region(store.region).sp_api, access_token, sp_id, store.primary_marketplace_id
            )
        except listings_seller.ListingsSellerError as e:
            log.info("seller id check inconclusive for store %s: %s", store.code, e.kind)
            if strict:
                raise VerificationError(reason_for(e.kind, "seller"), f"seller check {e.kind}") from e
            return False
        if not ok and strict:
            raise VerificationError("seller_mismatch", "searchListingsItems refused the callback's seller id")
        return ok


class AdsClient(Credentials):
    """The Login with Amazon client of Amazon Ads (scope advertising::campaign_management)."""

    capability = Capability.ADS
    callback_route = "amazon:ads_callback"

    def client(self) -> lwa.Client:
        app = settings.AMAZON_ADS_APP
        return lwa.Client(client_id=app["client_id"], client_secret=app["client_secret"])

    def token_url(self, store: Store) -> str:
        return endpoints.for_region(store.region).ads_token

    def consent_url(self, store: Store, state: str, redirect_uri: str) -> str:
        query = {
            "client_id": settings.AMAZON_ADS_APP["client_id"],
            "scope": ADS_SCOPE,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{endpoints.for_region(store.region).lwa_authorize}?{urlencode(query)}"

    def verify(self, store: Store, refresh_token: str, access_token: str | None, claimed_sp_id: str) -> Grant:
        profiles = self.profiles(store, access_token or self.access_token(store, refresh_token))
        # The seller profile's account id names the advertising account (its one-tenant rule, install.py).
        account = next((str(p["account_id"]) for p in profiles if p.get("account_type") == "seller"), "")
        return Grant(account, bool(account), {"ads_profiles": profiles})

    def check(self, store: Store, refresh_token: str) -> dict[str, Any]:
        return {"ads_profiles": self.profiles(store, self.access_token(store, refresh_token))}

    def profiles(self, store: Store, access_token: str) -> list[dict[str, object]]:
        try:
            found = ads.list_profiles(
                endpoints.for_region(store.region).ads_api, settings.AMAZON_ADS_APP["client_id"], access_token
            )
        except ads.AdsApiError as e:
            raise VerificationError(reason_for(e.kind, "verify"), e.kind) from e
        return [p.as_dict() for p in found]


def for_capability(capability: str) -> Credentials:
    if capability == Capability.ADS:
        return AdsClient()
    return SpApiApp(capability)


def access_token_for(store: Store, capability: str, refresh_token: str) -> str:
    """A fresh access token for a stored grant; raises VerificationError (used by sync's jobs too)."""
    return for_capability(capability).access_token(store, refresh_token)
