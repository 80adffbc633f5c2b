"""Injected faults, per endpoint group, applied before the endpoint's normal handling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpResponse

from sandbox.clock import config
from sandbox.models import SandboxConfig

ENDPOINTS = ["token", "sellers", "orders", "listings", "ads"]
KINDS = ["none", "http500", "slow", "timeout", "storm429"]
DEFAULT_SLOW_SECONDS = 3.0
# Longer than the portal's HTTP read timeout (20 s by default), so a client gives up first.
DEFAULT_TIMEOUT_SECONDS = 30.0

# Builds the endpoint's own error response for a status code (500, 503 or 429).
ErrorFactory = Callable[[int], HttpResponse]


def all_faults() -> dict[str, dict[str, Any]]:
    return dict(config().faults or {})


def get(endpoint: str) -> dict[str, Any] | None:
    fault = all_faults().get(endpoint)
    if not fault or fault.get("kind", "none") == "none":
        return None
    return fault


def set_fault(endpoint: str, kind: str, delay: float | None = None) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"Unknown endpoint {endpoint!r}; choose from {', '.join(ENDPOINTS)}.")
    if kind not in KINDS:
        raise ValueError(f"Unknown fault {kind!r}; choose from {', '.join(KINDS)}.")
    if delay is not None and delay < 0:
        raise ValueError("The delay cannot be negative.")
    config()
    with transaction.atomic():
        cfg = SandboxConfig.objects.select_for_update().get(pk=1)
        faults = dict(cfg.faults or {})
        if kind == "none":
            faults.pop(endpoint, None)
        else:
            if delay is None:
                delay = {"slow": DEFAULT_SLOW_SECONDS, "timeout": DEFAULT_TIMEOUT_SECONDS}.get(kind, 0.0)
            faults[endpoint] = {"kind": kind, "delay": float(delay)}
        cfg.faults = faults
        cfg.save(update_fields=["faults"])


def clear() -> None:
    config()
    SandboxConfig.objects.filter(pk=1).update(faults={})


def apply(endpoint: str, error: ErrorFactory) -> HttpResponse | None:
    """The fault response to send instead of normal handling, or None to carry on (after any delay)."""
    fault = get(endpoint)
    if fault is None:
        return None
    kind = fault["kind"]
    delay = float(fault.get("delay") or 0)
    if kind == "http500":
        return error(500)
    if kind == "storm429":
        return error(429)
    if kind == "slow":
        time.sleep(delay)
        return None
    if kind == "timeout":
        time.sleep(delay)
        # A client that waited this long gets what a gateway would answer.
        return error(503)
    return None
