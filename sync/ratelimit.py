"""Our side of Amazon's usage plans: a token bucket per (seller, application, operation), kept in the database.

Every worker shares the same row, so the limit holds however many qcluster workers run. A token is taken with a
compare-and-swap UPDATE (only if the row still holds what we read), which behaves the same on SQLite and PostgreSQL.
The rate follows `x-amzn-RateLimit-Limit` when Amazon sends it; a 429 empties the bucket, because Amazon has just
told us it is empty on its side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, FloatField
from django.db.models.functions import Cast, Least
from django.utils import timezone

from sync.models import RateBucket


@dataclass(frozen=True)
class Plan:
    rate: float  # requests per second
    burst: int


# Amazon's default usage plans per seller and application, every operation a job paces (sync/paced.py) in this one
# table: a new operation adds its row here. Each from the operation's description in Amazon's model.
PLANS: dict[str, Plan] = {
    "getMarketplaceParticipations": Plan(0.016, 15),  # sellers.json
    "searchOrders": Plan(0.0056, 20),  # orders_2026-01-01.json
    "getOrder": Plan(0.5, 30),  # orders_2026-01-01.json
    "patchListingsItem": Plan(5.0, 5),  # listingsItems_2021-08-01.json
    "getListingsItem": Plan(5.0, 10),  # listingsItems_2021-08-01.json
    "confirmShipment": Plan(2.0, 10),  # ordersV0.json: "| 2 | 10 |" (rate per second, burst)
    "createReport": Plan(0.0167, 15),  # reports_2021-06-30.json: "| 0.0167 | 15 |"
    "getReport": Plan(2.0, 15),  # reports_2021-06-30.json: "| 2 | 15 |"
    "getReportDocument": Plan(0.0167, 15),  # reports_2021-06-30.json: "| 0.0167 | 15 |"
    "createFeedDocument": Plan(0.5, 15),  # feeds_2021-06-30.json: "| 0.5 | 15 |"
    "createFeed": Plan(0.0083, 15),  # feeds_2021-06-30.json: "| 0.0083 | 15 |"
    # A JSON_LISTINGS_FEED also counts against its feed type's own limit ("The rate limit for the JSON_LISTINGS_FEED
    # feed type differs from the rate limit for the createFeed operation", feeds_2021-06-30.json): "five feed
    # submissions per five minutes" per region (https://developer-docs.amazon.com/sp-api/changelog/update-feed-size-
    # and-rate-limit-changes-for-the-json_listings_feed, 2025-05-06). Take both tokens before a createFeed.
    "createFeed:JSON_LISTINGS_FEED": Plan(5 / 300, 5),
    "getFeed": Plan(2.0, 15),  # feeds_2021-06-30.json: "| 2 | 15 |"
    "getFeedDocument": Plan(0.0222, 10),  # feeds_2021-06-30.json: "| 0.0222 | 10 |"
}


def _bucket(seller: str, application: str, operation: str) -> RateBucket:
    bucket = RateBucket.objects.filter(
        selling_partner_id=seller, application=application, operation=operation
    ).first()
    if bucket is not None:
        return bucket
    plan = PLANS[operation]
    try:
        with transaction.atomic():
            return RateBucket.objects.create(
                selling_partner_id=seller,
                application=application,
                operation=operation,
                rate=plan.rate,
                burst=plan.burst,
                tokens=float(plan.burst),
                updated_at=timezone.now(),
            )
    except IntegrityError:
        return RateBucket.objects.get(selling_partner_id=seller, application=application, operation=operation)


# Our bucket refills a little slower than Amazon's: requests reach Amazon with jitter, and a bucket that matched
# Amazon's exactly would sometimes send a request a moment before Amazon's bucket has the token.
SAFETY = 0.97


def try_take(seller: str, application: str, operation: str) -> float:
    """Take a token: 0.0 when taken, otherwise the seconds until one is available."""
    for _attempt in range(20):
        bucket = _bucket(seller, application, operation)
        now = timezone.now()
        rate = bucket.rate * SAFETY
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        available = min(float(bucket.burst), bucket.tokens + elapsed * rate)
        if available < 1.0:
            return (1.0 - available) / rate
        taken = RateBucket.objects.filter(
            pk=bucket.pk, tokens=bucket.tokens, updated_at=bucket.updated_at
        ).update(tokens=available - 1.0, updated_at=max(now, bucket.updated_at))
        if taken:
            return 0.0
    # Heavy contention: behave as if empty for a moment rather than spin.
    return 1.0


def take(seller: str, application: str, operation: str, max_wait: float) -> float:
    """Take a token, sleeping for short waits only. Returns 0.0, or the (long) wait the caller must schedule."""
    while True:
        wait = try_take(seller, application, operation)
        if wait == 0.0 or wait > max_wait:
            return wait
        time.sleep(wait)


def give_back(seller: str, application: str, operation: str) -> None:
    """A token taken for a request that was not sent after all returns to the bucket (never above the burst)."""
    RateBucket.objects.filter(selling_partner_id=seller, application=application, operation=operation).update(
        tokens=Least(F("tokens") + 1.0, Cast(F("burst"), FloatField()))
    )


def observe_limit(seller: str, application: str, operation: str, rate: float | None) -> None:
    """Amazon told us the rate it applies to this seller: follow it (the burst stays the documented one)."""
    if rate is None or rate <= 0:
        return
    RateBucket.objects.filter(
        selling_partner_id=seller, application=application, operation=operation
    ).exclude(rate=rate).update(rate=rate)


def throttled(seller: str, application: str, operation: str) -> float:
    """Amazon answered 429: its bucket is empty, so ours is too. Returns the wait for the next token."""
    bucket = _bucket(seller, application, operation)
    RateBucket.objects.filter(pk=bucket.pk).update(tokens=0.0, updated_at=timezone.now())
    return 1.0 / (bucket.rate * SAFETY)


def steady_interval(seller: str, application: str, operation: str) -> float:
    """Seconds between two requests that the bucket sustains once its burst is spent (1 / rate, our safety margin
    included): as often as a busy store can be polled for ever."""
    bucket = _bucket(seller, application, operation)
    return 1.0 / (bucket.rate * SAFETY)
