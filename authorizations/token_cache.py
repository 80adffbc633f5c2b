"""Access tokens reused for their hour: at most one LWA refresh per grant per hour across every process.

The token sits in the shared cache (settings.CACHES: the database on the embedded default, Redis in production),
encrypted with the token keys, until a few minutes before it lapses (ACCESS_TOKEN_REFRESH_MARGIN_SECONDS). A short
lock in the same cache lets one process refresh while the others wait for its result, so a burst of jobs for one
grant makes one LWA call, not one each.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from amazon import lwa
from authorizations import crypto

LOCK_SECONDS = 20
WAIT_STEP_SECONDS = 0.1


def _key(grant: str) -> str:
    return "lwa-access:" + hashlib.sha256(grant.encode()).hexdigest()


def _cached(key: str) -> str | None:
    value = cache.get(key)
    if not value:
        return None
    try:
        return crypto.decrypt(value)
    except crypto.InvalidToken:
        return None


def access_token(grant: str, refresh: Callable[[], lwa.TokenResponse], *, force: bool = False) -> str:
    """The cached access token of `grant` (any string naming it), or a new one from `refresh()`."""
    key = _key(grant)
    if not force and (token := _cached(key)):
        return token
    lock = key + ":lock"
    if not force and not cache.add(lock, 1, LOCK_SECONDS):
        deadline = time.monotonic() + LOCK_SECONDS
        while time.monotonic() < deadline:
            time.sleep(WAIT_STEP_SECONDS)
            if token := _cached(key):
                return token
            if cache.add(lock, 1, LOCK_SECONDS):
                break
    try:
        answer = refresh()
        lifetime = answer.expires_in - settings.ACCESS_TOKEN_REFRESH_MARGIN_SECONDS
        if lifetime > 0:
            # The time first: a reader that finds the token also finds when it was issued (`issued_at`).
            cache.set(key + ":at", time.time(), lifetime)
            cache.set(key, crypto.encrypt(answer.access_token), lifetime)
        return answer.access_token
    finally:
        cache.delete(lock)


def issued_at(grant: str) -> float | None:
    """When LWA issued the cached access token of `grant` (a Unix time), or None when none is cached.

    A refresh that LWA answered proves the grant worked at that moment: the hourly check of a grant
    (authorizations/grant_checks.py `token_check`) counts it instead of asking LWA again.
    """
    key = _key(grant)
    found = cache.get_many([key, key + ":at"])
    at = found.get(key + ":at")
    return float(at) if key in found and at is not None else None


def forget(grant: str) -> None:
    key = _key(grant)
    cache.delete_many([key, key + ":at"])
