"""Applications, consents, codes and tokens: the Login with Amazon side of the sandbox."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from sandbox import catalog
from sandbox.models import (
    ACCESS_TOKEN_SECONDS,
    AUTHORIZATION_VALIDITY,
    SandboxAccessToken,
    SandboxAppAuthorization,
    SandboxApplication,
    SandboxAuthCode,
    SandboxRefreshToken,
    SandboxSeller,
)

DEVELOPER = "Distribution Platform (sandbox)"
SP_CALLBACK_PATH = "/amazon/callback/"
ADS_CALLBACK_PATH = "/amazon/ads/callback/"
ADS_SCOPE = "advertising::campaign_management"
APP_NAMES = {"orders": "Platform Order Loader", "listings": "Platform Inventory Sync"}


def registered_uris(path: str) -> list[str]:
    """The redirect URIs registered for the portal's applications: the demo's and the tests' real ones.

    Amazon compares redirect_uri with the registered OAuth Redirect URIs exactly (website authorization workflow;
    a mismatch is MD5101), so the sandbox registers whole URIs: those of SANDBOX_REDIRECT_BASES, the portal's
    PUBLIC_BASE_URL, and the origin the sandbox itself is served from (the portal shares it in the demo and the
    browser tests).
    """
    bases = [*settings.SANDBOX_REDIRECT_BASES, settings.PUBLIC_BASE_URL]
    sandbox = urlsplit(settings.SANDBOX_BASE_URL)
    if sandbox.scheme and sandbox.netloc:
        bases.append(f"{sandbox.scheme}://{sandbox.netloc}")
    uris: list[str] = []
    for base in bases:
        uri = base.rstrip("/") + path if base else ""
        if uri and uri not in uris:
            uris.append(uri)
    return uris


def configured_applications() -> list[dict[str, Any]]:
    """The applications the portal is configured with, as sandbox rows should look."""
    apps: list[dict[str, Any]] = []
    for capability, app in settings.AMAZON_SPAPI_APPS.items():
        if not app.get("app_id") or not app.get("client_id"):
            continue
        apps.append(
            {
                "application_id": app["app_id"],
                "kind": SandboxApplication.Kind.SP,
                "name": APP_NAMES.get(capability, f"Platform {capability.title()}"),
                "developer": DEVELOPER,
                "client_id": app["client_id"],
                "client_secret": app.get("client_secret", ""),
                "draft": bool(app.get("beta")),
                "redirect_uris": registered_uris(SP_CALLBACK_PATH),
                "login_path": f"/amazon/appstore/{capability}/login/",
            }
        )
    ads = settings.AMAZON_ADS_APP
    if ads.get("client_id"):
        apps.append(
            {
                "application_id": ads["client_id"],
                "kind": SandboxApplication.Kind.ADS,
                "name": "Platform Advertising",
                "developer": DEVELOPER,
                "client_id": ads["client_id"],
                "client_secret": ads.get("client_secret", ""),
                "draft": False,
                "redirect_uris": registered_uris(ADS_CALLBACK_PATH),
                "login_path": "",
            }
        )
    return apps


def sync_applications() -> None:
    """Make the SandboxApplication rows match the settings (one read when nothing changed)."""
    wanted = configured_applications()
    existing = {a.application_id: a for a in SandboxApplication.objects.all()}
    for spec in wanted:
        row = existing.get(spec["application_id"])
        if row is not None and all(getattr(row, k) == v for k, v in spec.items()):
            continue
        with transaction.atomic():
            # A client id moved to another application id: free it first (client_id is unique).
            SandboxApplication.objects.filter(client_id=spec["client_id"]).exclude(
                application_id=spec["application_id"]
            ).delete()
            SandboxApplication.objects.update_or_create(application_id=spec["application_id"], defaults=spec)


def application_by_id(application_id: str) -> SandboxApplication | None:
    sync_applications()
    return SandboxApplication.objects.filter(application_id=application_id).first()


def application_by_client_id(client_id: str) -> SandboxApplication | None:
    sync_applications()
    return SandboxApplication.objects.filter(client_id=client_id).first()


def find_application(application_id_or_client_id: str) -> SandboxApplication | None:
    sync_applications()
    return (
        SandboxApplication.objects.filter(application_id=application_id_or_client_id).first()
        or SandboxApplication.objects.filter(client_id=application_id_or_client_id).first()
    )


MAX_SELLER_NAME = 200  # SandboxSeller.name
MAX_ORDERS_PER_DAY = 500
MAX_SELLER_ID = 20  # SandboxSeller.selling_partner_id


def clean_seller_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("A seller needs a name.")
    if len(name) > MAX_SELLER_NAME:
        raise ValueError(f"A seller name has at most {MAX_SELLER_NAME} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError("A seller name cannot contain control characters.")
    return name


def clean_orders_per_day(value: int | str) -> int:
    rule = f"Orders per day must be a whole number from 0 to {MAX_ORDERS_PER_DAY}."
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit() or len(value) > 4:  # also refuses "-1", "1e3", " " and 4,300-digit numbers
            raise ValueError(rule)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(rule)
    number = int(value)
    if not 0 <= number <= MAX_ORDERS_PER_DAY:
        raise ValueError(rule)
    return number


def create_seller(
    name: str, region: str, marketplace_ids: list[str] | None, orders_per_day: int, at: datetime
) -> SandboxSeller:
    name = clean_seller_name(name)
    orders_per_day = clean_orders_per_day(orders_per_day)
    region = region.upper() if len(region) <= 2 else ""
    in_region = catalog.marketplace_ids_for_region(region)
    if not in_region:
        raise ValueError("Unknown region; choose NA, EU or FE.")
    # Deduplicated, in the order given.
    chosen = list(dict.fromkeys(marketplace_ids)) if marketplace_ids else in_region[:1]
    wrong = [m for m in chosen if m not in in_region]
    if wrong:
        shown = ", ".join(m[:20] for m in wrong[:5])
        raise ValueError(f"Marketplaces {shown} are not in region {region}.")
    return SandboxSeller.objects.create(
        name=name, region=region, marketplace_ids=chosen, orders_per_day=orders_per_day, created=at
    )


def authorize(
    seller: SandboxSeller, application: SandboxApplication, at: datetime
) -> SandboxAppAuthorization:
    """Record (or renew) the seller's consent: valid 365 days from now, no longer revoked."""
    auth, _created = SandboxAppAuthorization.objects.update_or_create(
        seller=seller,
        application=application,
        defaults={"authorized_at": at, "expires_at": at + AUTHORIZATION_VALIDITY, "revoked_at": None},
    )
    return auth


def issue_code(
    auth: SandboxAppAuthorization, redirect_uri: str, at: datetime, scope: str = ""
) -> SandboxAuthCode:
    return SandboxAuthCode.objects.create(
        code="ANsb" + secrets.token_urlsafe(24),
        authorization=auth,
        generation=auth.generation,
        redirect_uri=redirect_uri,
        scope=scope,
        created=at,
    )


def revoke(auth: SandboxAppAuthorization, at: datetime) -> None:
    SandboxAppAuthorization.objects.filter(pk=auth.pk).update(revoked_at=at, generation=auth.generation + 1)


def expire(auth: SandboxAppAuthorization, at: datetime) -> None:
    SandboxAppAuthorization.objects.filter(pk=auth.pk).update(
        expires_at=at - timedelta(seconds=1), generation=auth.generation + 1
    )


class GrantError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass
class Tokens:
    access_token: str
    refresh_token: str

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
        }


def _issue_access_token(auth: SandboxAppAuthorization, at: datetime) -> str:
    token = SandboxAccessToken.objects.create(
        token="Atza|" + secrets.token_urlsafe(48),
        authorization=auth,
        generation=auth.generation,
        issued_at=at,
        expires_at=at + timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )
    return token.token


# LWA's own wording, as sellers and developers see it (amzn/selling-partner-api-models issues #1099 for a spent or
# mismatched code and #921 for a revoked or expired refresh token).
INVALID_CODE = "The request has an invalid grant parameter : code"
INVALID_REFRESH = "The request has an invalid grant parameter : refresh_token"


def exchange_code(application: SandboxApplication, code: str, redirect_uri: str, at: datetime) -> Tokens:
    row = SandboxAuthCode.objects.select_related("authorization").filter(code=code).first()
    if (
        row is None
        or row.used_at is not None
        or row.expired(at)
        or row.authorization.application_id != application.pk
        or (redirect_uri and row.redirect_uri != redirect_uri)
        or row.generation != row.authorization.generation
        or not row.authorization.is_active(at)
    ):
        raise GrantError("invalid_grant", INVALID_CODE)
    # Single use even when two exchanges race: only the UPDATE that flips used_at wins.
    if not SandboxAuthCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=at):
        raise GrantError("invalid_grant", INVALID_CODE)
    auth = row.authorization
    refresh = SandboxRefreshToken.objects.create(
        token="Atzr|" + secrets.token_urlsafe(64),
        authorization=auth,
        generation=auth.generation,
        issued_at=at,
    )
    return Tokens(_issue_access_token(auth, at), refresh.token)


def refresh(application: SandboxApplication, refresh_token: str, at: datetime) -> Tokens:
    row = SandboxRefreshToken.objects.select_related("authorization").filter(token=refresh_token).first()
    if (
        row is None
        or row.authorization.application_id != application.pk
        or row.generation != row.authorization.generation
        or not row.authorization.is_active(at)
    ):
        raise GrantError("invalid_grant", INVALID_REFRESH)
    return Tokens(_issue_access_token(row.authorization, at), row.token)


class AccessDenied(Exception):
    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


TOKEN_EXPIRED = "The access token you provided has expired."
TOKEN_INVALID = "The access token you provided is revoked, malformed or invalid."


def check_access_token(token: str, at: datetime) -> SandboxAppAuthorization:
    if not token:
        raise AccessDenied("")
    row = (
        SandboxAccessToken.objects.select_related("authorization__seller", "authorization__application")
        .filter(token=token)
        .first()
    )
    if row is None:
        raise AccessDenied(TOKEN_INVALID)
    if row.expires_at <= at:
        raise AccessDenied(TOKEN_EXPIRED)
    auth = row.authorization
    if row.generation != auth.generation or not auth.is_active(at):
        raise AccessDenied(TOKEN_INVALID)
    return auth
