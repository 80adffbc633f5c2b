"""Sliding-window counters in the shared cache: how many invitation emails one account, one distributor account
and one address may cause (an account once sent 60 in 9 seconds, 10 to one address: a spam relay).

Each limit counts in fixed windows and weighs the previous window by how much of it still overlaps the sliding
window ("sliding window counter"): two cache keys per limit, `incr` only, so every web process shares the count
(the cache is shared: see CACHES) and Redis counts atomically.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    name: str  # what is counted, part of the cache key
    limit: int  # at most this many per window; 0 turns the limit off
    window: int  # seconds


def _key(limit: Limit, subject: str, slot: int) -> str:
    # Addresses are personal data: only a hash of the subject is written to the cache.
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"limit:{limit.name}:{digest}:{slot}"


def used(limit: Limit, subject: str, now: float | None = None) -> float:
    """The weighted count of the sliding window ending now."""
    now = time.time() if now is None else now
    slot, into = divmod(now, limit.window)
    current = cache.get(_key(limit, subject, int(slot)), 0)
    previous = cache.get(_key(limit, subject, int(slot) - 1), 0)
    return float(previous) * (1 - into / limit.window) + float(current)


def allows(limit: Limit, subject: str, now: float | None = None) -> bool:
    return limit.limit <= 0 or used(limit, subject, now) + 1 <= limit.limit


def count(limit: Limit, subject: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    key = _key(limit, subject, int(now // limit.window))
    # Two windows' life: the next window still weighs this one.
    cache.add(key, 0, timeout=2 * limit.window)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=2 * limit.window)


def retry_after(limit: Limit, subject: str, now: float | None = None) -> int:
    """Whole seconds until `allows` is true again (0: it is now), from the two counts `used` weighs.

    In the current window the previous window's weight falls linearly; past its end the current count becomes the
    previous one and falls in turn. A 429's Retry-After, so a client waits neither too little nor a whole minute.
    """
    now = time.time() if now is None else now
    if allows(limit, subject, now):
        return 0
    w = limit.window
    slot, into = divmod(now, w)
    current = float(cache.get(_key(limit, subject, int(slot)), 0))
    previous = float(cache.get(_key(limit, subject, int(slot) - 1), 0))
    room = limit.limit - 1 - current  # what the previous window's weighted count must fall to
    if room >= 0 and previous > 0:
        at = w * (1 - room / previous)  # seconds into this window
        if at < w:
            return max(1, math.ceil(at - into))
    # Not within this window: in the next one this window's count weighs (1 - y / w).
    y = max(0.0, w * (1 - (limit.limit - 1) / current)) if current > 0 else 0.0
    return max(1, math.ceil((w - into) + y))
