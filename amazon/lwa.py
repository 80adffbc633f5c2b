"""Login with Amazon (LWA): the token endpoint, for SP-API and Ads alike."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from amazon import http
from amazon.errors import AmazonError

log = logging.getLogger(__name__)


class LwaError(AmazonError):
    """The token endpoint refused or failed. `kind` is what the portal acts on.

    kinds: invalid_grant (code used/expired, or authorization revoked/expired), invalid_client, invalid_request,
    server_error (5xx or an unexpected status), network (no answer / timeout), bad_response (not the documented JSON).
    """


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    refresh_token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"TokenResponse(expires_in={self.expires_in})"


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


def _post(token_url: str, data: dict[str, str]) -> TokenResponse:
    try:
        # A token request is safe to send twice: a code is single-use (RFC 6749 §4.1.2: a second exchange is
        # refused), and a refresh or client-credentials grant only mints another access token (LWA does not
        # rotate refresh tokens).
        r = http.request(
            "POST", token_url, data=data, headers={"Accept": "application/json"}, replay_safe=True
        )
    except http.TransportError as e:
        raise LwaError("network", "timeout" if e.timeout else str(e)) from e
    doc = http.json_or_none(r)
    if r.status_code == 200:
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("access_token"), str)
            or not isinstance(doc.get("refresh_token", data.get("refresh_token", "")) or "", str)
        ):
            log.warning("LWA answered 200 with an unexpected body (%d bytes)", len(r.content))
            raise LwaError("bad_response", "unexpected token response", r.status_code)
        return TokenResponse(
            access_token=doc["access_token"],
            refresh_token=doc.get("refresh_token") or data.get("refresh_token", ""),
            expires_in=int(doc.get("expires_in") or 3600),
        )
    error = doc.get("error") if isinstance(doc, dict) else None
    description = str(doc.get("error_description", ""))[:300] if isinstance(doc, dict) else ""
    if r.status_code >= 500:
        raise LwaError("server_error", f"HTTP {r.status_code}", r.status_code)
    if r.status_code == 429:
        # LWA throttles like any Amazon endpoint; the caller backs off as after an SP-API 429.
        raise LwaError("throttled", description or "HTTP 429", r.status_code)
    if error in (
        "invalid_grant",
        "invalid_client",
        "invalid_request",
        "unauthorized_client",
        "unsupported_grant_type",
    ):
        kind = "invalid_client" if error == "unauthorized_client" else error
        raise LwaError(kind, description, r.status_code)
    if doc is None:
        raise LwaError("bad_response", f"HTTP {r.status_code} without JSON", r.status_code)
    raise LwaError("server_error", f"HTTP {r.status_code} {error or ''}".strip(), r.status_code)


def exchange_code(token_url: str, client: Client, code: str, redirect_uri: str) -> TokenResponse:
    return _post(
        token_url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )


def refresh(token_url: str, client: Client, refresh_token: str) -> TokenResponse:
    return _post(
        token_url,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )


def grantless(token_url: str, client: Client, scope: str) -> TokenResponse:
    """An access token for a grantless operation (client_credentials grant with `scope`).

    "Grantless operations" in Amazon's "Connect to the SP-API": e.g. scope
    sellingpartnerapi::client_credential:rotation for the Application Management API.
    """
    return _post(
        token_url,
        {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
