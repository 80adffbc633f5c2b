"""Token buckets with Amazon's published usage plans, persisted and refilled by virtual time.

Several processes share a bucket, so a request takes a token with a compare-and-swap UPDATE (only if the row still
holds what we read); a lost race retries. This works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from sandbox.models import SandboxApplication, SandboxAppRateBucket, SandboxRateBucket, SandboxSeller


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
    # listingsItems_2021-08-01.json, getListingsItem: "Rate 5, Burst 10".
    "getListingsItem": UsagePlan(5.0, 10),
    # ordersV0.json, confirmShipment: "Rate 2, Burst 10" (its usage plan table: | 2 | 10 |).
    "confirmShipment": UsagePlan(2.0, 10),
    # application_2023-11-30.json, rotateApplicationClientSecret: "Rate 0.0167, Burst 1" (a grantless operation,
    # one bucket per application: sandbox/applications.py keeps it).
    "rotateApplicationClientSecret": UsagePlan(0.0167, 1),
    # notifications.json: every Notifications API operation is "Rate 1, Burst 5". createSubscription,
    # getSubscription and getSubscriptions are per seller (their access token is the seller's); the grantless ones
    # are per application (take_grantless).
    "createSubscription": UsagePlan(1.0, 5),
    "getSubscription": UsagePlan(1.0, 5),
    "getSubscriptions": UsagePlan(1.0, 5),
    "getSubscriptionById": UsagePlan(1.0, 5),
    "deleteSubscriptionById": UsagePlan(1.0, 5),
    "createDestination": UsagePlan(1.0, 5),
    "getDestinations": UsagePlan(1.0, 5),
    "getDestination": UsagePlan(1.0, 5),
    "deleteDestination": UsagePlan(1.0, 5),
    # reports_2021-06-30.json: createReport "| 0.0167 | 15 |", getReport "| 2 | 15 |", getReportDocument
    # "| 0.0167 | 15 |" (rate per second, burst).
    "createReport": UsagePlan(0.0167, 15),
    "getReport": UsagePlan(2.0, 15),
    "getReportDocument": UsagePlan(0.0167, 15),
    # feeds_2021-06-30.json: createFeedDocument "| 0.5 | 15 |", createFeed "| 0.0083 | 15 |", getFeed "| 2 | 15 |",
    # getFeedDocument "| 0.0222 | 10 |".
    "createFeedDocument": UsagePlan(0.5, 15),
    "createFeed": UsagePlan(0.0083, 15),
    "getFeed": UsagePlan(2.0, 15),
    "getFeedDocument": UsagePlan(0.0222, 10),
    # A JSON_LISTINGS_FEED also takes a token of its feed type's own limit: "five feed submissions per five minutes"
    # per region (https://developer-docs.amazon.com/sp-api/changelog/update-feed-size-and-rate-limit-changes-for-the-
    # json_listings_feed; feeds_2021-06-30.json createFeed: "The rate limit for the JSON_LISTINGS_FEED feed type
    # differs from the rate limit for the createFeed operation"). A sandbox seller lives in one region, so the
    # per-seller bucket is the region's.
    "createFeed:JSON_LISTINGS_FEED": UsagePlan(5 / 300, 5),
}


Bucket = SandboxRateBucket | SandboxAppRateBucket


def _bucket(model: type[Bucket], keys: dict[str, Any], operation: str, at: datetime) -> Bucket:
    plan = PLANS[operation]
    bucket: Bucket | None = model.objects.filter(operation=operation, **keys).first()
    if bucket is not None:
        return bucket
    try:
        with transaction.atomic():
            return model.objects.create(operation=operation, tokens=float(plan.burst), updated_at=at, **keys)
    except IntegrityError:
        # Another process created it first.
        return model.objects.get(operation=operation, **keys)


def _take(model: type[Bucket], keys: dict[str, Any], operation: str, at: datetime) -> bool:
    plan = PLANS[operation]
    for _attempt in range(20):
        bucket = _bucket(model, keys, operation, at)
        elapsed = max(0.0, (at - bucket.updated_at).total_seconds())
        available = min(float(plan.burst), bucket.tokens + elapsed * plan.rate)
        if available < 1.0:
            return False
        updated = model.objects.filter(
            pk=bucket.pk, tokens=bucket.tokens, updated_at=bucket.updated_at
        ).update(tokens=available - 1.0, updated_at=max(at, bucket.updated_at))
        if updated:
            return True
    return False


def take(seller: SandboxSeller, application: SandboxApplication, operation: str, at: datetime) -> bool:
    """Take one token; False when the bucket is empty (the caller answers 429)."""
    return _take(SandboxRateBucket, {"seller": seller, "application": application}, operation, at)


def take_grantless(application: SandboxApplication, operation: str, at: datetime) -> bool:
    """The same for a grantless operation, whose bucket belongs to the application alone."""
    return _take(SandboxAppRateBucket, {"application": application}, operation, at)
