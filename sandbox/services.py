"""Applications, consents, codes and tokens: the Login with Amazon side of the sandbox."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction

from sandbox import catalog, clock
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


# Amazon's LWA client secrets live 180 days and the old secret keeps working seven days after a rotation
# ("Rotating your apps' LWA credentials": "You must rotate your LWA credentials (client secrets) for all applications
# every 180 days", "Your old credentials expire seven days after you generate new credentials"). The sample
# APPLICATION_OAUTH_CLIENT_NEW_SECRET of github:amzn/selling-partner-api-samples use-cases/lwa-rotation/docs/
# DEPLOYMENT.md shows both: newClientSecretExpiryTime = eventTime + 180 days, oldClientSecretExpiryTime = + 7 days.
SECRET_VALIDITY = timedelta(days=180)
SECRET_OVERLAP = timedelta(days=7)


def _seeded_secret(secret: str, at: datetime) -> dict[str, Any]:
    """A secret from the settings as a fresh current secret: no previous one, 180 days from now."""
    return {
        "client_secret": secret,
        "secret_expires_at": at + SECRET_VALIDITY,
        "previous_client_secret": "",
        "previous_secret_expires_at": None,
        "secret_rotated_at": None,
    }


def sync_applications() -> None:
    """Make the SandboxApplication rows match the settings (one read when nothing changed).

    The secret in the settings only seeds a new row, or a row whose client id changed: a secret rotated inside the
    sandbox (rotateApplicationClientSecret, sandbox/applications.py) is the application's secret from then on, as
    at Amazon, and a settings file still holding the old one never brings it back.
    """
    wanted = configured_applications()
    existing = {a.application_id: a for a in SandboxApplication.objects.all()}
    for spec in wanted:
        row = existing.get(spec["application_id"])
        fields = {k: v for k, v in spec.items() if k != "client_secret"}
        if (
            row is not None
            and row.secret_expires_at is not None
            and all(getattr(row, k) == v for k, v in fields.items())
        ):
            continue
        at = clock.now()
        with transaction.atomic():
            # A client id moved to another application id: free it first (client_id is unique).
            SandboxApplication.objects.filter(client_id=spec["client_id"]).exclude(
                application_id=spec["application_id"]
            ).delete()
            if row is None:
                _create_application({**fields, **_seeded_secret(spec["client_secret"], at)})
            elif row.client_id != spec["client_id"]:
                SandboxApplication.objects.filter(pk=row.pk).update(
                    **fields, **_seeded_secret(spec["client_secret"], at)
                )
            else:
                SandboxApplication.objects.filter(pk=row.pk).update(**fields)
                # A row from before secret expiries were kept: its current secret starts its 180 days now.
                SandboxApplication.objects.filter(pk=row.pk, secret_expires_at__isnull=True).update(
                    secret_expires_at=at + SECRET_VALIDITY
                )


def _create_application(values: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            SandboxApplication.objects.create(**values)
    except IntegrityError:
        pass  # another process created it first, from the same settings


def secret_expiry(application: SandboxApplication) -> datetime:
    """The current secret's expiry, seeded (180 days from now) for a row that has none yet, e.g. one made in the
    admin."""
    if application.secret_expires_at is None:
        at = clock.now() + SECRET_VALIDITY
        SandboxApplication.objects.filter(pk=application.pk, secret_expires_at__isnull=True).update(
            secret_expires_at=at
        )
        application.refresh_from_db(fields=["secret_expires_at"])
    assert application.secret_expires_at is not None
    return application.secret_expires_at


def secret_matches(application: SandboxApplication, secret: str, at: datetime) -> bool:
    """The client secret authenticates the application: the current one, or the previous one until its overlap
    ends. A secret that is empty on our side never matches (an empty secret would otherwise match an empty one)."""
    given = secret.encode()
    current = bool(application.client_secret) and secrets.compare_digest(
        application.client_secret.encode(), given
    )
    previous = (
        bool(application.previous_client_secret)
        and application.previous_secret_expires_at is not None
        and application.previous_secret_expires_at > at
        and secrets.compare_digest(application.previous_client_secret.encode(), given)
    )
    return current or previous


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
# mismatched code; amzn/selling-partner-api-docs #2379 and #2723 for a revoked or lapsed refresh token, the whole
# sentence: {"error_description":"The request has an invalid grant parameter : refresh_token. User may have revoked
# or didn't grant the permission.","error":"invalid_grant"}).
INVALID_CODE = "The request has an invalid grant parameter : code"
INVALID_REFRESH = (
    "The request has an invalid grant parameter : refresh_token. "
    "User may have revoked or didn't grant the permission."
)


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


# Grantless operations: LWA's client_credentials grant with a `scope` instead of a refresh token ("Grantless
# operations" and "Connect to the SP-API", step 1, in Amazon's SP-API documentation). Amazon documents two scopes:
# sellingpartnerapi::notifications (Notifications API destinations and subscriptions) and
# sellingpartnerapi::client_credential:rotation (the Application Management API, rotateApplicationClientSecret; the
# scope github:amzn/selling-partner-api-samples use-cases/lwa-rotation asks for in ApiUtils/Constants.java).
# Grantless operations apply to seller (SP-API) applications only.
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"
GRANTLESS_SCOPES = (NOTIFICATIONS_SCOPE, ROTATION_SCOPE)
MAX_SCOPE = 500
MAX_GRANTLESS_TOKEN = 2000
# Amazon's grantless access tokens start with "Atc|". The sandbox's are signed (settings.SECRET_KEY) rather than
# stored: they carry the application, the scopes and the virtual expiry, and no seller.
GRANTLESS_PREFIX = "Atc|"
_GRANTLESS_SALT = "sandbox.lwa.client_credentials"


def issue_grantless_token(application: SandboxApplication, scope: str, at: datetime) -> dict[str, Any]:
    """The token endpoint's JSON for a client_credentials grant; GrantError for a scope Amazon does not know."""
    scopes = scope.split()
    if not scopes:
        raise GrantError("invalid_request", "The request is missing a required parameter : scope")
    if len(scope) > MAX_SCOPE or any(s not in GRANTLESS_SCOPES for s in scopes):
        raise GrantError("invalid_scope", "An unknown scope was requested")
    if application.kind != SandboxApplication.Kind.SP:
        raise GrantError("unauthorized_client", "The client is not authorized to request a grantless token")
    wanted = sorted(set(scopes))
    payload = {
        "app": application.application_id,
        "client": application.client_id,
        "scope": wanted,
        "exp": (at + timedelta(seconds=ACCESS_TOKEN_SECONDS)).timestamp(),
        "nonce": secrets.token_urlsafe(12),
    }
    return {
        "access_token": GRANTLESS_PREFIX + signing.dumps(payload, salt=_GRANTLESS_SALT, compress=True),
        "scope": " ".join(wanted),
        "token_type": "bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
    }


def check_grantless_token(token: str, scope: str, at: datetime) -> SandboxApplication:
    """The application a grantless access token with `scope` was issued to; AccessDenied otherwise.

    A grantless token opens only the operations of its scopes: the SP-API views look tokens up in
    SandboxAccessToken (check_access_token), where a grantless token never is, so it opens no seller's data."""
    if not token:
        raise AccessDenied("")
    if not token.startswith(GRANTLESS_PREFIX) or len(token) > MAX_GRANTLESS_TOKEN:
        raise AccessDenied(TOKEN_INVALID)
    try:
        payload = signing.loads(token[len(GRANTLESS_PREFIX) :], salt=_GRANTLESS_SALT)
    except signing.BadSignature as exc:
        raise AccessDenied(TOKEN_INVALID) from exc
    if not isinstance(payload, dict) or scope not in payload.get("scope", []):
        raise AccessDenied(TOKEN_INVALID)
    if not isinstance(payload.get("exp"), float) or payload["exp"] <= at.timestamp():
        raise AccessDenied(TOKEN_EXPIRED)
    application = SandboxApplication.objects.filter(
        application_id=str(payload.get("app", "")), client_id=str(payload.get("client", ""))
    ).first()
    if application is None:
        raise AccessDenied(TOKEN_INVALID)
    return application
