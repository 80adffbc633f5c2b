"""django-q2 tasks: plain functions that take ids, safe to run twice or concurrently."""

from __future__ import annotations

from authorizations import attempts, lifecycle, reminders


def expire_attempts() -> int:
    return attempts.expire_stale()


def expiry_and_reminders() -> dict[str, int]:
    """Daily: lapsed authorizations need re-authorization, stores near expiry show "attention", owners get mail."""
    return {"lapsed": lifecycle.expire_lapsed(), "reminders": reminders.send_due()}
