"""Token buckets with Amazon's published usage plans, persisted and refilled by virtual time.

Several processes share a bucket, so a request takes a token with a compare-and-swap UPDATE (only if the row still
holds what we read); a lost race retries. This works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from sandbox.models import SandboxApplication, SandboxRateBucket, SandboxSeller


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second
    burst: int

    @property
    def header(self) -> str:
        return f"{self.rate:g}"


# Default usage plans from the operations' descriptions in Amazon's models.
PLANS: dict[str, UsagePlan] = {
    "getMarketplaceParticipations": UsagePlan(0.016, 15),
    "searchOrders": UsagePlan(0.0056, 20),
    "getOrder": UsagePlan(0.5, 30),
    "patchListingsItem": UsagePlan(5.0, 5),
    # listingsItems_2021-08-01.json, searchListingsItems: "Rate 5, Burst 5".
    "searchListingsItems": UsagePlan(5.0, 5),
    # application_2023-11-30.json, rotateApplicationClientSecret: "Rate 0.0167, Burst 1" (a grantless operation,
    # one bucket per application: sandbox/applications.py keeps it).
    "rotateApplicationClientSecret": UsagePlan(0.0167, 1),
}


def _bucket(
    seller: SandboxSeller, application: SandboxApplication, operation: str, at: datetime
) -> SandboxRateBucket:
    plan = PLANS[operation]
    bucket = SandboxRateBucket.objects.filter(
        seller=seller, application=application, operation=operation
    ).first()
    if bucket is not None:
        return bucket
    try:
        with transaction.atomic():
            return SandboxRateBucket.objects.create(
                seller=seller,
                application=application,
                operation=operation,
                tokens=float(plan.burst),
                updated_at=at,
            )
    except IntegrityError:
        # Another process created it first.
        return SandboxRateBucket.objects.get(seller=seller, application=application, operation=operation)


def take(seller: SandboxSeller, application: SandboxApplication, operation: str, at: datetime) -> bool:
    """Take one token; False when the bucket is empty (the caller answers 429)."""
    plan = PLANS[operation]
    for _attempt in range(20):
        bucket = _bucket(seller, application, operation, at)
        elapsed = max(0.0, (at - bucket.updated_at).total_seconds())
        available = min(float(plan.burst), bucket.tokens + elapsed * plan.rate)
        if available < 1.0:
            return False
        updated = SandboxRateBucket.objects.filter(
            pk=bucket.pk, tokens=bucket.tokens, updated_at=bucket.updated_at
        ).update(tokens=available - 1.0, updated_at=max(at, bucket.updated_at))
        if updated:
            return True
    return False
