"""Injected faults, per endpoint group, applied before the endpoint's normal handling."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpResponse

from sandbox.clock import config
from sandbox.models import SandboxConfig

# "shipments" is confirmShipment alone (an Orders API operation), so a test can break confirmations without
# breaking the order sync. "reports" is the Reports API (sandbox/reports.py), "feeds" the Feeds API (sandbox/feeds.py).
ENDPOINTS = [
    "token",
    "sellers",
    "orders",
    "shipments",
    "listings",
    "ads",
    "notifications",
    "reports",
    "feeds",
]
KINDS = ["none", "http500", "slow", "timeout", "storm429", "fatal"]
# "fatal": the requests are answered, but every report or feed created while it is set ends FATAL (the models'
# processingStatus "The report was aborted due to a fatal error." / "The feed was aborted due to a fatal error.").
FATAL_ENDPOINTS = ("reports", "feeds")
DEFAULT_SLOW_SECONDS = 3.0
# Longer than the portal's HTTP read timeout (20 s by default), so a client gives up first.
DEFAULT_TIMEOUT_SECONDS = 30.0
# Long enough to outlast any client timeout, short enough that a typo cannot park a worker for hours.
MAX_DELAY_SECONDS = 120.0
DELAY_RULE = f"The delay must be a number of seconds from 0 to {MAX_DELAY_SECONDS:g}."

# Builds the endpoint's own error response for a status code (500, 503 or 429).
ErrorFactory = Callable[[int], HttpResponse]


def all_faults(cfg: SandboxConfig | None = None) -> dict[str, dict[str, Any]]:
    """The injected faults by endpoint; `cfg` is a configuration row the caller already read."""
    stored = (cfg or config()).faults
    if not isinstance(stored, dict):
        return {}
    return {
        e: f for e, f in stored.items() if e in ENDPOINTS and isinstance(f, dict) and f.get("kind") in KINDS
    }


def validate_delay(delay: float | None) -> float | None:
    if delay is None:
        return None
    try:
        value = float(delay)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(DELAY_RULE) from exc
    if not 0 <= value <= MAX_DELAY_SECONDS:  # NaN fails the comparison
        raise ValueError(DELAY_RULE)
    return value


def parse_delay(raw: str) -> float | None:
    """A delay typed into a form (empty: the kind's default)."""
    raw = raw.strip()
    if not raw:
        return None
    if len(raw) > 32:
        raise ValueError(DELAY_RULE)
    try:
        return validate_delay(float(raw))
    except ValueError as exc:
        raise ValueError(DELAY_RULE) from exc


def _stored_delay(fault: dict[str, Any]) -> float:
    """A stored delay brought into bounds (garbage → 0)."""
    try:
        value = float(fault.get("delay") or 0)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return min(max(value, 0.0), MAX_DELAY_SECONDS) if math.isfinite(value) else 0.0


def get(endpoint: str, cfg: SandboxConfig | None = None) -> dict[str, Any] | None:
    fault = all_faults(cfg).get(endpoint)
    if not fault or fault.get("kind", "none") == "none":
        return None
    return fault


def validate(endpoint: str, kind: str, delay: float | None = None) -> float | None:
    """The delay to store; ValueError for an unknown endpoint or kind or a delay out of bounds."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"Unknown endpoint {endpoint[:40]!r}; choose from {', '.join(ENDPOINTS)}.")
    if kind not in KINDS:
        raise ValueError(f"Unknown fault {kind[:40]!r}; choose from {', '.join(KINDS)}.")
    if kind == "fatal" and endpoint not in FATAL_ENDPOINTS:
        raise ValueError(f"The fault fatal is for {' and '.join(FATAL_ENDPOINTS)} only.")
    return validate_delay(delay)


def fatal(endpoint: str, cfg: SandboxConfig | None = None) -> bool:
    """Whether what is created now in this group (a report, a feed) is to end FATAL."""
    fault = get(endpoint, cfg)
    return fault is not None and fault["kind"] == "fatal"


def set_fault(endpoint: str, kind: str, delay: float | None = None) -> None:
    delay = validate(endpoint, kind, delay)
    config()
    with transaction.atomic():
        cfg = SandboxConfig.objects.select_for_update().get(pk=1)
        faults = dict(cfg.faults) if isinstance(cfg.faults, dict) else {}
        if kind == "none":
            faults.pop(endpoint, None)
        else:
            if delay is None:
                delay = {"slow": DEFAULT_SLOW_SECONDS, "timeout": DEFAULT_TIMEOUT_SECONDS}.get(kind, 0.0)
            faults[endpoint] = {"kind": kind, "delay": float(delay)}
        cfg.faults = faults
        cfg.save(update_fields=["faults"])


# Delivery faults of the notifications the sandbox sends (sandbox/notifications.py): a fraction of them lost and a
# fraction sent twice, as SQS's at-least-once delivery and a lossy path can do. Kept in SandboxConfig.faults under
# this key (not an endpoint, so all_faults ignores it; clear() removes it with the rest).
DELIVERY_KEY = "notification_delivery"
FRACTION_RULE = "Drop and duplicate fractions must be numbers from 0 to 1."


@dataclass(frozen=True)
class DeliveryFaults:
    drop: float = 0.0  # fraction of notifications never sent
    duplicate: float = 0.0  # fraction of the sent ones sent twice (same NotificationId)
    seed: int = 0  # the same seed loses and duplicates the same notifications

    def _share(self, key: str, what: str) -> float:
        digest = hashlib.sha256(f"{self.seed}:{what}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def dropped(self, key: str) -> bool:
        """Deterministic per notification `key` and seed."""
        return self.drop > 0 and self._share(key, "drop") < self.drop

    def duplicated(self, key: str) -> bool:
        return self.duplicate > 0 and self._share(key, "duplicate") < self.duplicate


def _fraction(value: object) -> float:
    try:
        fraction = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(FRACTION_RULE) from exc
    if not 0 <= fraction <= 1:  # NaN fails the comparison
        raise ValueError(FRACTION_RULE)
    return fraction


def delivery_faults() -> DeliveryFaults:
    stored = config().faults
    entry = stored.get(DELIVERY_KEY) if isinstance(stored, dict) else None
    if not isinstance(entry, dict):
        return DeliveryFaults()
    try:
        return DeliveryFaults(
            _fraction(entry.get("drop", 0)), _fraction(entry.get("duplicate", 0)), int(entry.get("seed", 0))
        )
    except (TypeError, ValueError):
        return DeliveryFaults()


def set_delivery_faults(drop: float = 0.0, duplicate: float = 0.0, seed: int = 0) -> None:
    """Lose `drop` and send twice `duplicate` of the notifications (fractions 0 to 1; both 0 turns it off)."""
    wanted = DeliveryFaults(_fraction(drop), _fraction(duplicate), int(seed))
    config()
    with transaction.atomic():
        cfg = SandboxConfig.objects.select_for_update().get(pk=1)
        faults = dict(cfg.faults) if isinstance(cfg.faults, dict) else {}
        if wanted.drop == 0 and wanted.duplicate == 0:
            faults.pop(DELIVERY_KEY, None)
        else:
            faults[DELIVERY_KEY] = {"drop": wanted.drop, "duplicate": wanted.duplicate, "seed": wanted.seed}
        cfg.faults = faults
        cfg.save(update_fields=["faults"])


def clear() -> None:
    config()
    SandboxConfig.objects.filter(pk=1).update(faults={})


def apply(endpoint: str, error: ErrorFactory, cfg: SandboxConfig | None = None) -> HttpResponse | None:
    """The fault response to send instead of normal handling, or None to carry on (after any delay)."""
    fault = get(endpoint, cfg)
    if fault is None:
        return None
    kind = fault["kind"]
    delay = _stored_delay(fault)
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
