"""Entry from Amazon's Selling Partner Appstore (and yearly re-authorization from "Manage your apps").

Amazon opens our login URI with amazon_callback_uri, amazon_state and selling_partner_id. After the user logs in
and picks or creates the store, we send the browser to amazon_callback_uri with redirect_uri, amazon_state and our
own state; Amazon then calls our usual callback. amazon_callback_uri is checked against Amazon's Seller Central
hosts (or the sandbox), so the login URI can never be used as an open redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest

from amazon import marketplaces
from authorizations.models import SPAPI_CAPABILITIES

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
