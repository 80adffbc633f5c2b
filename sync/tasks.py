"""django-q2 tasks: plain functions that take ids, safe to run twice or concurrently."""

from __future__ import annotations

from authorizations import attempts


def expire_attempts() -> int:
    return attempts.expire_stale()
