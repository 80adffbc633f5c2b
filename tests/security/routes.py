"""Every URL pattern of the portal, enumerated from the resolver, and the values that fill their parameters.

The security tests walk this list instead of naming URLs, so a URL added later is checked without editing them.
A parameter the tests do not know how to fill is an error (UnknownParameter): a new kind of URL gets noticed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")

# Route prefixes left out of the tenant-object checks, with the reason.
EXCLUDED_PREFIXES = {
    "admin/": "Django admin: staff only with its own login and model permissions (see test_staff_only_urls).",
    "accounts/": "django-allauth: login, signup, logout and password pages are public by design "
    "(login/logout open redirects are tested in test_oauth; CSRF in test_csrf).",
    "api/v1/": "The platform API: key-authenticated JSON, no session (an anonymous call is 401, not a login "
    "redirect); tests/api/test_api_census.py walks every api/v1/ route with anonymous, another tenant's, "
    "read, revoked, expired and store-limited keys (404 on other stores).",
    "sandbox/": "The simulated Amazon (mounted only when SANDBOX_ACTIVE): Amazon's public pages and APIs, not a "
    "tenant object; its control page is staff only unless SANDBOX_CONTROL_OPEN (see test_sandbox_hardening).",
}

# Routes that anonymous users may reach on purpose, with the reason.
PUBLIC_ROUTES = {
    "amazon/callback/": "OAuth redirect URI: Amazon sends the seller's browser here, possibly a browser without a "
    "portal session; the single-use state finds the attempt, and a grant arriving without a member's session "
    "is quarantined until a member logs in.",
    "amazon/ads/callback/": "The same redirect URI for Login with Amazon (advertising).",
    "amazon/appstore/<str:capability>/login/": "The OAuth Login URI Amazon opens from the Appstore; it checks "
    "amazon_callback_uri against Amazon's hosts (400 otherwise) and then sends the browser to the login page.",
    "team/invitations/<str:token>/": "The invitee's page from the emailed invitation link (also for people "
    "without an account): the 256-bit random token is the credential (only its hash is stored); an unknown, "
    "replaced, expired or used token gets the 400 'cannot be used' page with no tenant data.",
    "team/invitations/<str:token>/accept/": "Accepting (POST, CSRF-protected): anonymous visitors are sent to "
    "the login page; only a logged-in user with the invited address joins (another user: 403); GET goes back "
    "to the invitation page.",
    "team/invitations/<str:token>/confirm-email/": "Sending the confirmation link of the invited address to it "
    "(POST, CSRF-protected): anonymous visitors are sent to the login page; only the logged-in user with the "
    "invited address gets the email (another user: 403); GET goes back to the invitation page.",
    "team/invitations/<str:token>/decline/": "Declining (POST, CSRF-protected): the token alone may decline, "
    "anonymously; a logged-in user with another address gets 403; GET goes back to the invitation page.",
    "i18n/setlang/": "Django's language switch: no user data; its `next` is checked against open redirects.",
}

# Routes whose object is bound to the browser session rather than looked up by tenant (with the reason): an
# outsider or a viewer gets the same answer as for a code that does not exist, so existence is never revealed.
SESSION_BOUND_ROUTES = {
    "amazon/finish/<uuid:attempt_code>/": "A quarantined grant can only be finished in the browser that received "
    "the callback; any other browser gets the 400 'link not valid' page, exactly as for an unknown code.",
    "amazon/finish/<uuid:attempt_code>/confirm/": "As above (POST).",
    "amazon/finish/<uuid:attempt_code>/decline/": "As above (POST).",
}

# POSTs a viewer may make successfully, with the reason.
VIEWER_MAY_POST = {
    "team/switch/<uuid:code>/": "Choosing which of one's own distributor accounts to work in only changes the "
    "viewer's session, never tenant data.",
}


@dataclass(frozen=True)
class Route:
    route: str  # full route string, e.g. "stores/<uuid:code>/"
    name: str  # "namespace:name" (or "name")
    callback: Any
    is_regex: bool

    @property
    def params(self) -> list[tuple[str, str]]:
        """(converter, name) of each parameter."""
        return [(m["converter"] or "str", m["name"]) for m in PARAM.finditer(self.route)]

    @property
    def excluded_by(self) -> str | None:
        return next((p for p in EXCLUDED_PREFIXES if self.route.startswith(p)), None)

    @property
    def is_staff(self) -> bool:
        return self.route.startswith("staff/") or "/staff/" in self.route

    def __str__(self) -> str:
        return f"/{self.route} ({self.name})"


def _walk(patterns: list[Any], prefix: str, namespace: str, regex: bool) -> Iterator[Route]:
    for p in patterns:
        is_regex = regex or not isinstance(p.pattern, RoutePattern)
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _walk(p.url_patterns, route, ns, is_regex)
        elif isinstance(p, URLPattern):
            name = ":".join(x for x in (namespace, p.name or "") if x)
            yield Route(route=route, name=name, callback=p.callback, is_regex=is_regex)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", "", False))


class UnknownParameter(Exception):
    pass


NO_INVITATION = str(uuid.UUID(int=0))


@dataclass
class Fixtures:
    """The tenant objects the URLs are filled with (all belong to the tenant under test)."""

    store_code: str
    tenant_code: str
    membership_code: str
    attempt_code: str
    sku_mapping_pk: str = ""
    invitation_code: str = ""  # a pending Invitation of the tenant under test
    api_key_code: str = ""  # an ApiKey of the tenant under test
    webhook_endpoint_code: str = ""  # a webhook Endpoint of the tenant under test
    capability: str = "orders"
    action: str = "disable"
    amazon_order_id: str = "111-0000001-0000001"  # an order of the store (the access census loads it)


def tenant_value(route: str, name: str, fx: Fixtures) -> str:
    """The value of a tenant-object parameter of `route`; UnknownParameter when the tests cannot tell."""
    if name == "capability":
        return fx.capability
    if name == "action":
        return fx.action
    if name == "attempt_code":
        return fx.attempt_code
    if name == "amazon_order_id" and route.startswith("stores/"):
        return fx.amazon_order_id
    if name == "pk" and route.startswith("stores/<uuid:code>/inventory/mappings/") and fx.sku_mapping_pk:
        return fx.sku_mapping_pk
    if name == "code":
        if route.startswith("team/invitations/"):
            # Builders that do not make an invitation (test_secrets, test_csrf) get one that does not exist;
            # the access census (test_url_access) passes a real pending invitation of the tenant under test.
            return fx.invitation_code or NO_INVITATION
        if route.startswith("team/api-keys/"):
            return fx.api_key_code or NO_INVITATION
        if route.startswith("team/webhooks/"):
            return fx.webhook_endpoint_code or NO_INVITATION
        if route.startswith("team/switch/"):
            return fx.tenant_code
        if route.startswith("team/"):
            return fx.membership_code
        if route.startswith("stores/"):
            return fx.store_code
    raise UnknownParameter(
        f"/{route}: the security tests do not know how to fill <{name}>; teach tests/security/routes.py "
        "which tenant object it names, so outsider/viewer/anonymous access is checked."
    )


def generic_value(converter: str, name: str) -> str:
    """Any value that matches the converter (for checks that happen before the object is looked up)."""
    if converter == "int":
        return "1"
    if converter == "uuid":
        return str(uuid.uuid4())
    if converter == "region":
        return "na"
    if name == "host":
        return "sellercentral.amazon.com"
    return "x"


def build(route: Route, value: Any) -> str:
    """The URL of `route` with each parameter replaced by value(converter, name)."""
    if route.is_regex:
        raise UnknownParameter(f"{route}: a regex pattern cannot be filled")
    return "/" + PARAM.sub(lambda m: value(m["converter"] or "str", m["name"]), route.route)


def tenant_url(route: Route, fx: Fixtures) -> str:
    return build(route, lambda _conv, name: tenant_value(route.route, name, fx))


def generic_url(route: Route) -> str:
    return build(route, generic_value)
