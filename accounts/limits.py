"""Sliding-window counters in the shared cache: how many invitation emails one account, one distributor account
and one address may cause (an account once sent 60 in 9 seconds, 10 to one address: a spam relay).

Each limit counts in fixed windows and weighs the previous window by how much of it still overlaps the sliding
window ("sliding window counter"): two cache keys per limit, `incr` only, so every web process shares the count
(the cache is shared: see CACHES) and Redis counts atomically.
"""

from __future__ import annotations

import hashlib
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
