"""Login with Amazon token endpoint (`POST /auth/o2/token`) and the Ads API profiles list."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import catalog, clock, faults, guard, services
from sandbox.models import SandboxApplication


def lwa_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def token_bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """The guard's refusal (sandbox/guard.py) in the token endpoint's format."""
    return lwa_error("invalid_request", message)


def _token_fault(status: int) -> HttpResponse:
    if status == 429:
        return lwa_error("slow_down", "Too many requests. Retry later.", 429)
    if status == 503:
        return lwa_error("temporarily_unavailable", "The service is temporarily unavailable.", 503)
    return lwa_error("server_error", "An internal error occurred.", 500)


def _form(request: HttpRequest) -> dict[str, str]:
    # LWA takes form-encoded bodies; a JSON body is accepted too, as Amazon's examples use both.
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {k: request.POST.get(k, "") for k in request.POST}


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _sep, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise services.GrantError("invalid_request", f"The request is missing a required parameter : {name}")
    return value


def _authorization_code_grant(
    application: SandboxApplication, form: dict[str, str], at: datetime
) -> dict[str, Any]:
    code = _required(form, "code")
    # redirect_uri is optional here: Amazon's own example exchange sends grant_type, code, client_id and
    # client_secret only (SP-API developer guide, "Step 4: Your application exchanges the LWA authorization code
    # for a LWA refresh token"), and python-amazon-sp-api sends no redirect_uri. When it is sent, it must be the
    # one of the consent (services.exchange_code).
    return services.exchange_code(application, code, form.get("redirect_uri", ""), at).as_json()


def _refresh_token_grant(
    application: SandboxApplication, form: dict[str, str], at: datetime
) -> dict[str, Any]:
    return services.refresh(application, _required(form, "refresh_token"), at).as_json()


def _client_credentials_grant(
    application: SandboxApplication, form: dict[str, str], at: datetime
) -> dict[str, Any]:
    # Grantless operations: no refresh token, a space-separated `scope` instead ("Grantless operations"; the
    # lwa-rotation sample asks for sellingpartnerapi::client_credential:rotation). services.issue_grantless_token.
    return services.issue_grantless_token(application, _required(form, "scope"), at)


GRANTS = {
    "authorization_code": _authorization_code_grant,
    "refresh_token": _refresh_token_grant,
    "client_credentials": _client_credentials_grant,
}


def _client(
    request: HttpRequest, form: dict[str, str], region: str, at: datetime
) -> SandboxApplication | HttpResponse:
    """The application authenticated by client_id + client_secret (form or Basic auth), or the refusal."""
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    basic = _basic_credentials(request)
    if basic and not client_id:
        client_id, client_secret = basic
        if guard.NUL in client_id or guard.NUL in client_secret:
            return token_bad_request(request, guard.NUL_MESSAGE)
    application = services.application_by_client_id(client_id) if client_id else None
    # The current secret, or the previous one during the overlap after a rotation (services.secret_matches).
    if application is None or not services.secret_matches(application, client_secret, at):
        return lwa_error("invalid_client", "Client authentication failed", 401)
    if region != "NA" and application.kind == SandboxApplication.Kind.SP:
        # SP-API applications get their tokens from https://api.amazon.com/auth/o2/token in every region ("Connect
        # to the Selling Partner API"); api.amazon.co.uk / api.amazon.co.jp are Amazon Ads' regional hosts. The
        # sandbox's EU/FE token paths play those Ads hosts and refuse SP-API clients, so a client that sends an
        # SP-API grant to a regional host fails here instead of in production.
        return lwa_error("invalid_client", "Client authentication failed", 401)
    return application


@csrf_exempt
def token(request: HttpRequest, region: str) -> HttpResponse:
    fault = faults.apply("token", _token_fault)
    if fault is not None:
        return fault
    if request.method != "POST":
        return lwa_error("invalid_request", "The token endpoint only accepts POST.")
    form = _form(request)
    if any(guard.NUL in k or guard.NUL in v for k, v in form.items()):  # a JSON body (form fields: the guard)
        return token_bad_request(request, guard.NUL_MESSAGE)
    grant_type = form.get("grant_type", "")
    if not grant_type:
        return lwa_error("invalid_request", "The request is missing a required parameter : grant_type")
    if grant_type not in GRANT_TYPES:
        return lwa_error("unsupported_grant_type", f"The grant type {grant_type} is not supported.")
    at = clock.now()
    application = _client(request, form, region, at)
    if isinstance(application, HttpResponse):
        return application
    try:
        body = GRANTS[grant_type](application, form, at)
    except services.GrantError as exc:
        return lwa_error(exc.error, exc.description, exc.status)
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


def ads_error(status: int, code: str, details: str) -> JsonResponse:
    return JsonResponse({"code": code, "details": details}, status=status)


def ads_bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return ads_error(400, "BAD_REQUEST", message)


def _ads_fault(status: int) -> HttpResponse:
    if status == 429:
        return ads_error(429, "THROTTLED", "Too Many Requests. Retry later.")
    if status == 503:
        return ads_error(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable.")
    return ads_error(500, "INTERNAL_ERROR", "An internal error occurred.")


def profile_id(selling_partner_id: str, marketplace_id: str) -> int:
    digest = hashlib.sha256(f"profile:{selling_partner_id}:{marketplace_id}".encode()).digest()
    return int.from_bytes(digest[:6], "big") % 10**15


def profiles(request: HttpRequest, region: str) -> HttpResponse:
    fault = faults.apply("ads", _ads_fault)
    if fault is not None:
        return fault
    if request.method != "GET":
        return ads_error(405, "METHOD_NOT_ALLOWED", "Only GET is supported.")
    client_id = request.headers.get("Amazon-Advertising-API-ClientId", "")
    authorization = request.headers.get("Authorization", "")
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    try:
        auth = services.check_access_token(bearer, clock.now())
    except services.AccessDenied:
        return ads_error(401, "UNAUTHORIZED", "Not authorized to access this advertiser.")
    if auth.application.kind != SandboxApplication.Kind.ADS or auth.application.client_id != client_id:
        return ads_error(401, "UNAUTHORIZED", "Not authorized to access this advertiser.")
    seller = auth.seller
    result: list[dict[str, Any]] = []
    # Each regional Ads host only knows the profiles of its own region.
    if seller.region == region:
        for marketplace_id in seller.marketplace_ids:
            m = catalog.marketplace(marketplace_id)
            if m is None:
                continue
            result.append(
                {
                    "profileId": profile_id(seller.selling_partner_id, marketplace_id),
                    "countryCode": catalog.country_code(m),
                    "currencyCode": m.currency,
                    "dailyBudget": 999999999.0,
                    "timezone": m.timezone,
                    "accountInfo": {
                        "marketplaceStringId": marketplace_id,
                        "id": seller.selling_partner_id,
                        "type": "seller",
                        "name": seller.name,
                        "validPaymentMethod": True,
                    },
                }
            )
        result.extend(_agency_profiles(seller))
    return JsonResponse(result, safe=False)


def _agency_profiles(seller: Any) -> list[dict[str, Any]]:
    """/v2/profiles lists every advertiser the Login with Amazon user may manage, not only the seller's own
    accounts: Amazon Ads' profile model has accountInfo.type "seller", "vendor" or "agency" (Ads API reference,
    Profiles). Each simulated seller's user also manages one agency account in its first marketplace, so a client
    that takes every profile as the seller's own is caught."""
    m = catalog.marketplace(seller.marketplace_ids[0]) if seller.marketplace_ids else None
    if m is None:
        return []
    entity = f"ENTITY{hashlib.sha256(seller.selling_partner_id.encode()).hexdigest()[:12].upper()}"
    return [
        {
            "profileId": profile_id(entity, m.marketplace_id),
            "countryCode": catalog.country_code(m),
            "currencyCode": m.currency,
            "dailyBudget": 999999999.0,
            "timezone": m.timezone,
            "accountInfo": {
                "marketplaceStringId": m.marketplace_id,
                "id": entity,
                "type": "agency",
                "name": f"{seller.name} (agency)",
                "validPaymentMethod": True,
            },
        }
    ]
