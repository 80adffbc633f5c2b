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
            cache.set(key, crypto.encrypt(answer.access_token), lifetime)
        return answer.access_token
    finally:
        cache.delete(lock)


def forget(grant: str) -> None:
    cache.delete(_key(grant))
