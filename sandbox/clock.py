"""Virtual clock: real time stretched by a scale factor, so expiries and rate-limit refills can be compressed.

now() = anchor_virtual + (real_now - anchor_real) * time_scale. Changing the scale re-anchors at the current virtual
time first, so virtual time never jumps backwards. A scale of 0 freezes the clock (useful in tests); `advance` moves
it forward by a fixed amount.

The scale is bounded (0, or MIN_SCALE to MAX_SCALE) when set, and clamped again when read, so a bad value already in
the database cannot break the clock. Virtual time saturates at MAX_VIRTUAL, far enough from datetime.max that the
sandbox's own arithmetic (expiries a year ahead, order history days back) never overflows.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.models import SandboxConfig

MIN_SCALE = 0.01
MAX_SCALE = 10000.0
SCALE_RULE = f"The time scale must be 0 (frozen) or a number from {MIN_SCALE:g} to {MAX_SCALE:g}."
MIN_VIRTUAL = datetime(2000, 1, 1, tzinfo=UTC)
MAX_VIRTUAL = datetime(9000, 1, 1, tzinfo=UTC)
MAX_ADVANCE_SECONDS = 10 * 366 * 86400.0


def validate_scale(scale: float) -> float:
    """The scale as a float; ValueError (with SCALE_RULE) for anything outside the bounds, NaN or infinity."""
    try:
        value = float(scale)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(SCALE_RULE) from exc
    if value != 0 and not (MIN_SCALE <= value <= MAX_SCALE):  # NaN fails every comparison
        raise ValueError(SCALE_RULE)
    return value


def parse_scale(raw: str) -> float:
    """A scale typed into a form."""
    raw = raw.strip()
    if not raw or len(raw) > 32:
        raise ValueError(SCALE_RULE)
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(SCALE_RULE) from exc
    return validate_scale(value)


def clamp_scale(value: object) -> float:
    """A stored scale brought into bounds (NaN or garbage → 1.0)."""
    try:
        scale = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 1.0
    if math.isnan(scale):
        return 1.0
    if scale <= 0:
        return 0.0
    return min(max(scale, MIN_SCALE), MAX_SCALE)


def _clamp_time(value: datetime) -> datetime:
    return min(max(value, MIN_VIRTUAL), MAX_VIRTUAL)


def config() -> SandboxConfig:
    cfg = SandboxConfig.objects.filter(pk=1).first()
    if cfg is None:
        now = timezone.now()
        cfg, _created = SandboxConfig.objects.get_or_create(
            pk=1,
            defaults={
                "time_scale": clamp_scale(settings.SANDBOX_TIME_SCALE),
                "anchor_real": now,
                "anchor_virtual": now,
            },
        )
    cfg.time_scale = clamp_scale(cfg.time_scale)
    return cfg


def virtual_at(cfg: SandboxConfig, real: datetime) -> datetime:
    scale = clamp_scale(cfg.time_scale)
    anchor = _clamp_time(cfg.anchor_virtual)
    # Real time running backwards (a clock step) never moves virtual time backwards.
    elapsed = max(real - cfg.anchor_real, timedelta(0))
    if elapsed.total_seconds() * scale >= (MAX_VIRTUAL - anchor).total_seconds():
        return MAX_VIRTUAL
    return anchor + elapsed * scale


def now() -> datetime:
    return virtual_at(config(), timezone.now())


def real_seconds(virtual_seconds: float) -> float | None:
    """How long in real time `virtual_seconds` take at the current scale (None when the clock is frozen)."""
    scale = config().time_scale
    return virtual_seconds / scale if scale > 0 else None


def set_scale(scale: float) -> None:
    scale = validate_scale(scale)
    config()
    with transaction.atomic():
        cfg = SandboxConfig.objects.select_for_update().get(pk=1)
        real = timezone.now()
        cfg.anchor_virtual = virtual_at(cfg, real)
        cfg.anchor_real = real
        cfg.time_scale = scale
        cfg.save(update_fields=["anchor_virtual", "anchor_real", "time_scale"])


def advance(seconds: float) -> datetime:
    """Move virtual time forward (never backwards) and return the new virtual now."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("The sandbox clock only moves forward, by a finite number of seconds.")
    if seconds > MAX_ADVANCE_SECONDS:
        raise ValueError("The sandbox clock moves forward by at most ten years at a time.")
    config()
    with transaction.atomic():
        cfg = SandboxConfig.objects.select_for_update().get(pk=1)
        real = timezone.now()
        cfg.anchor_virtual = min(virtual_at(cfg, real) + timedelta(seconds=seconds), MAX_VIRTUAL)
        cfg.anchor_real = real
        cfg.save(update_fields=["anchor_virtual", "anchor_real"])
        return cfg.anchor_virtual
