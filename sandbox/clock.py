"""Virtual clock: real time stretched by a scale factor, so expiries and rate-limit refills can be compressed.

now() = anchor_virtual + (real_now - anchor_real) * time_scale. Changing the scale re-anchors at the current virtual
time first, so virtual time never jumps backwards. A scale of 0 freezes the clock (useful in tests); `advance` moves
it forward by a fixed amount.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.models import SandboxConfig


def config() -> SandboxConfig:
    cfg = SandboxConfig.objects.filter(pk=1).first()
    if cfg is None:
        now = timezone.now()
        cfg, _created = SandboxConfig.objects.get_or_create(
            pk=1,
            defaults={"time_scale": settings.SANDBOX_TIME_SCALE, "anchor_real": now, "anchor_virtual": now},
        )
    return cfg


def virtual_at(cfg: SandboxConfig, real: datetime) -> datetime:
    return cfg.anchor_virtual + (real - cfg.anchor_real) * cfg.time_scale


def now() -> datetime:
    return virtual_at(config(), timezone.now())


def real_seconds(virtual_seconds: float) -> float | None:
    """How long in real time `virtual_seconds` take at the current scale (None when the clock is frozen)."""
    scale = config().time_scale
    return virtual_seconds / scale if scale > 0 else None


def set_scale(scale: float) -> None:
    if scale < 0:
        raise ValueError("The time scale cannot be negative.")
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
    if seconds < 0:
        raise ValueError("The sandbox clock only moves forward.")
    config()
    with transaction.atomic():
        cfg = SandboxConfig.objects.select_for_update().get(pk=1)
        real = timezone.now()
        cfg.anchor_virtual = virtual_at(cfg, real) + timedelta(seconds=seconds)
        cfg.anchor_real = real
        cfg.save(update_fields=["anchor_virtual", "anchor_real"])
        return cfg.anchor_virtual
