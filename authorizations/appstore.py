"""Entry from Amazon's Selling Partner Appstore (and yearly re-authorization from "Manage your apps").

Amazon opens our login URI with amazon_callback_uri, amazon_state and selling_partner_id. After the user logs in
and picks or creates the store, we send the browser to amazon_callback_uri with redirect_uri, amazon_state and our
own state; Amazon then calls our usual callback. amazon_callback_uri is checked against Amazon's Seller Central
hosts (or the sandbox), so the login URI can never be used as an open redirect.

The region. An SP-API authorization is regional (one refresh token per region, /work/shared/research/amazon-oauth.md
§1.2), so the seller may only be offered stores and sites of one region. Amazon's "Selling Partner Appstore
authorization workflow" has the seller "sign in to Seller Central and navigate to the Selling Partner Appstore" (step
1), i.e. in one region, but the Login URI's parameters (amazon_callback_uri, amazon_state, selling_partner_id, and
version=beta) name no region, and the callback it documents is on amazon.com, the Appstore's own host. So the region
is known, in this order: from a country Seller Central callback host (region_of_callback); from the distributor's
active stores already connected to this selling partner id, when they are all in one region (known_region); else the
user chooses it, and the stores and sites offered follow the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest

from accounts.models import Tenant
from amazon import marketplaces
from authorizations.models import SPAPI_CAPABILITIES
from stores.models import Store

SESSION_KEY = "appstore_request"
HOST_REGION = {m.seller_central_host: m.region for m in marketplaces.MARKETPLACES}
# The Selling Partner Appstore's own host, as Amazon documents amazon_callback_uri ("Selling Partner Appstore
# authorization workflow", step 2: https://amazon.com/apps/authorize/confirm/amzn1.sellerapps.app.…). It names no
# region (""): the seller's store, or the sites chosen for a new one, decide it.
APPSTORE_HOSTS = {"amazon.com": "", "www.amazon.com": ""}


@dataclass(frozen=True)
class AppstoreRequest:
    capability: str
    amazon_callback_uri: str
    amazon_state: str
    selling_partner_id: str
    version: str
    region: str

    def as_session(self) -> dict[str, str]:
        return self.__dict__.copy()


def _unsafe(uri: str) -> bool:
    """Anything a browser or a server might normalise differently from urlsplit: refused before parsing."""
    lowered = uri.lower()
    return (
        len(uri) > 2000
        or any(ch in uri for ch in ("\\", "..", " ", "\t", "\n", "\r", "\x00"))
        or "%2e" in lowered
        or "%2f" in lowered
        or "%5c" in lowered
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in uri)
    )


def region_of_callback(uri: str, app_id: str) -> str | None:
    """The region of an acceptable amazon_callback_uri ("" for the Appstore's amazon.com), or None when it is not
    Amazon's (or the sandbox's).

    Amazon sends the seller to our login URI with amazon_callback_uri = https://<Seller Central host>/apps/
    authorize/confirm/<our app id> (Selling Partner Appstore authorization workflow, step 2). Only exactly that
    shape is accepted: any other path, a port, userinfo, dot segments or encoded slashes would let the login URI
    send a browser, with our state appended, somewhere else.
    """
    if not app_id or _unsafe(uri):
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.username or parts.password or parts.fragment:
        return None
    if settings.AMAZON_USE_SANDBOX:
        base = urlsplit(settings.SANDBOX_BASE_URL.rstrip("/"))
        prefix = f"{base.path}/sellercentral/"
        if parts.scheme != base.scheme or parts.netloc != base.netloc or not parts.path.startswith(prefix):
            return None
        host, _, rest = parts.path[len(prefix) :].partition("/")
        if rest != f"apps/authorize/confirm/{app_id}":
            return None
        return APPSTORE_HOSTS[host] if host in APPSTORE_HOSTS else HOST_REGION.get(host)
    if parts.scheme != "https" or port is not None:
        return None
    if parts.path != f"/apps/authorize/confirm/{app_id}":
        return None
    host = parts.hostname or ""
    return APPSTORE_HOSTS[host] if host in APPSTORE_HOSTS else HOST_REGION.get(host)


def parse(capability: str, query: dict[str, str]) -> AppstoreRequest | None:
    if capability not in SPAPI_CAPABILITIES:
        return None
    uri = query.get("amazon_callback_uri", "")
    state = query.get("amazon_state", "")
    sp_id = query.get("selling_partner_id", "").strip()
    region = region_of_callback(uri, settings.AMAZON_SPAPI_APPS[capability].get("app_id", ""))
    if region is None or not state or len(state) > 500 or not sp_id or len(sp_id) > 40 or not sp_id.isalnum():
        return None
    version = "beta" if query.get("version") == "beta" else ""
    return AppstoreRequest(capability, uri, state, sp_id, version, region)


def from_session(request: HttpRequest) -> AppstoreRequest | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return AppstoreRequest(**data)
    except TypeError:
        return None


def confirm_redirect(req: AppstoreRequest, state: str, redirect_uri: str) -> str:
    query = {"redirect_uri": redirect_uri, "amazon_state": req.amazon_state, "state": state}
    if req.version:
        query["version"] = "beta"
    sep = "&" if urlsplit(req.amazon_callback_uri).query else "?"
    return f"{req.amazon_callback_uri}{sep}{urlencode(query)}"


def known_region(req: AppstoreRequest, tenant: Tenant) -> str:
    """The region the entry names (its callback host), else the one region of the tenant's active stores already
    connected to this seller, else "" (the user chooses)."""
    if req.region:
        return req.region
    regions = set(
        Store.objects.active()
        .filter(tenant=tenant, selling_partner_id=req.selling_partner_id)
        .values_list("region", flat=True)
    )
    return regions.pop() if len(regions) == 1 else ""


def chosen_region(req: AppstoreRequest, tenant: Tenant, choice: str) -> str:
    """The region to offer: fixed by the callback host, else the user's valid choice, else known_region."""
    if req.region:
        return req.region
    if choice in marketplaces.REGION_CODES:
        return choice
    return known_region(req, tenant)


def offered_stores(req: AppstoreRequest, tenant: Tenant, region: str) -> list[Store]:
    """The tenant's active stores of the region that are this seller's or not yet connected to any seller."""
    if not region:
        return []
    return list(
        Store.objects.active()
        .filter(tenant=tenant, region=region)
        .filter(Q(selling_partner_id=req.selling_partner_id) | Q(selling_partner_id=""))
        .order_by("-selling_partner_id", "nickname")
    )
