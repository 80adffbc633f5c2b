"""Enqueueing background work, always after the surrounding transaction commits."""

from __future__ import annotations

from authorizations.models import Authorization


def capability_authorized(auth: Authorization) -> None:
    """Hook for the work that follows a new authorization (order backfill, inventory push, ads refresh)."""
    return None
