"""Credentials per kind of grant: what differs between an SP-API application and the Ads (Login with Amazon) client.

One small class each, as django-allauth has one adapter per provider, instead of `if capability == ADS` across the
workflow: the consent URL, the callback route, the LWA client, how a grant is verified and what a re-check stores.
The attempt workflow (flow.py), installing a grant (install.py), re-checks (grant_checks.py) and sync's jobs
all ask `for_capability(...)`. See docs/architecture.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from amazon import ads, endpoints, listings_seller, lwa, sellers
from authorizations import alarms, app_secrets, token_cache
from authorizations.models import Capability
from authorizations.reasons import reason_for
from lib.errors import ReasonError
from stores.models import Store

log = logging.getLogger(__name__)
ADS_SCOPE = "advertising::campaign_management"


class VerificationError(ReasonError):
    """Amazon did not confirm a grant (or its token could not be refreshed); `reason` is a reasons.py code."""


@dataclass(frozen=True)
class Grant:
    """What Amazon confirmed about a grant while it is being installed: whose it is and what it reaches.

    Not to be confused with sync.grants.Grant, the access token a sync job holds for an installed
    authorization.
    """

    sp_id: str
    verified: bool
    fields: dict[str, Any] = field(
        default_factory=dict
    )  # Authorization fields to store (marketplaces, profiles)


class Credentials:
    capability: str
    callback_route: str = "amazon:callback"

    def token_url(self, store: Store) -> str:
        raise NotImplementedError

    def exchange(self, store: Store, code: str, redirect_uri: str) -> lwa.TokenResponse:
        """The code exchange of a callback (raises lwa.LwaError)."""
        url = self.token_url(store)
        return app_secrets.with_secrets(
            self.capability, lambda c: lwa.exchange_code(url, c, code, redirect_uri)
        )

    def access_token(self, store: Store, refresh_token: str, *, force: bool = False) -> str:
        """An access token for the grant, reused for its hour across every process (token_cache.py).

        `force` skips the cached one: after a 403 it may be stale, and a re-check must ask LWA itself.
        """
        url = self.token_url(store)
        try:
            return token_cache.access_token(
                f"{self.capability}:{refresh_token}",
                lambda: app_secrets.with_secrets(
                    self.capability, lambda c: lwa.refresh(url, c, refresh_token)
                ),
                force=force,
            )
        except lwa.LwaError as e:
            if e.kind in ("network", "server_error"):
                alarms.note_failure("lwa", str(store.code))
            raise VerificationError(_refresh_reason(e.kind), e.kind) from e

    def token_issued_at(self, store: Store, refresh_token: str) -> float | None:
        """When LWA issued the cached access token of this grant (token_cache.issued_at), or None."""
        return token_cache.issued_at(f"{self.capability}:{refresh_token}")

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
        token = self.access_token(store, refresh_token, force=True)
        return {"granted_marketplaces": self.participations(store, token)}

    def participations(self, store: Store, access_token: str) -> list[dict[str, object]]:
        try:
            parts = sellers.get_marketplace_participations(
                endpoints.for_region(store.region).sp_api, access_token
            )
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
        return {"ads_profiles": self.profiles(store, self.access_token(store, refresh_token, force=True))}

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


def access_token_for(store: Store, capability: str, refresh_token: str, *, force: bool = False) -> str:
    """An access token for a stored grant (reused for its hour); raises VerificationError (sync's jobs too)."""
    return for_capability(capability).access_token(store, refresh_token, force=force)


def _refresh_reason(kind: str) -> str:
    # Our own credentials refused is a platform outage (one alarm for staff), never the seller's revocation.
    return "platform_credentials" if kind == "invalid_client" else reason_for(kind, "refresh")
