"""Held grants: which quarantined attempts this browser may confirm or decline.

A grant that reached the callback in a browser other than the starter's is bound to that browser by a random
holder secret (only its hash is stored on the attempt). The secret lives in its own signed, HttpOnly cookie rather
than in the session, because logging out flushes the session and logging in cycles it: the person at that browser
must be able to log out, log in as the right member and still finish (or decline) the grant.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from authorizations.models import AuthorizationAttempt

COOKIE = "held_grants"
SALT = "authorizations.held-grants"
MAX_HELD = 10


def held(request: HttpRequest) -> dict[str, str]:
    """attempt code → holder secret, as carried by this browser's cookie (tampered or stale cookies: empty)."""
    raw = request.get_signed_cookie(COOKIE, default=None, salt=SALT, max_age=_lifetime())
    if not raw:
        return {}
    try:
        data = json.loads(_decode(raw))
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _encode(entries: dict[str, str]) -> str:
    """The entries as base64url JSON: with the signer's ":" and base64url signature, the whole value is RFC 6265
    cookie-octets. Raw JSON (quotes, commas, spaces) made Django send a quoted value with backslash escapes."""
    data = json.dumps(entries, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _decode(raw: str) -> str:
    """The JSON of a cookie value: base64url, or the raw JSON of cookies set before (read while they last)."""
    if raw.startswith("{"):
        return raw
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as e:
        raise ValueError("not a held-grants value") from e


def _lifetime() -> int:
    return int(settings.AUTHORIZATION_ATTEMPT_TTL_SECONDS)


def _write(response: HttpResponse, entries: dict[str, str]) -> None:
    if not entries:
        response.delete_cookie(COOKIE, samesite="Lax")
        return
    response.set_signed_cookie(
        COOKIE,
        _encode(entries),
        salt=SALT,
        max_age=_lifetime(),
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def remember(
    request: HttpRequest, response: HttpResponse, attempt: AuthorizationAttempt, holder: str
) -> None:
    entries = held(request)
    entries[str(attempt.code)] = holder
    _write(response, dict(list(entries.items())[-MAX_HELD:]))


def forget(request: HttpRequest, response: HttpResponse, attempt: AuthorizationAttempt) -> None:
    entries = held(request)
    entries.pop(str(attempt.code), None)
    _write(response, entries)


def held_attempt(request: HttpRequest, attempt_code: str) -> AuthorizationAttempt | None:
    """The attempt named by `attempt_code` if this browser holds its grant (else None, as for an unknown code)."""
    holder = held(request).get(str(attempt_code))
    if not holder:
        return None
    attempt = (
        AuthorizationAttempt.objects.select_related("store", "store__tenant", "user")
        .filter(code=attempt_code)
        .first()
    )
    if attempt is None or not attempt.holder_matches(holder):
        return None
    return attempt


def waiting(request: HttpRequest) -> list[AuthorizationAttempt]:
    """Held grants of this browser that can still be confirmed, newest first."""
    entries = held(request)
    if not entries:
        return []
    attempts = AuthorizationAttempt.objects.filter(
        code__in=[c for c in entries if _is_uuid(c)], outcome=AuthorizationAttempt.Outcome.QUARANTINED
    ).order_by("-started_at")
    return [a for a in attempts if not a.is_expired and a.holder_matches(entries[str(a.code)])]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
