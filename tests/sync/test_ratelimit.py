from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.test import TestCase
from django.utils import timezone

from sync import ratelimit
from sync.models import RateBucket

SELLER = "A1SELLER"


class TokenBucketTests(TestCase):
    def test_the_burst_is_available_at_once_and_then_tokens_come_at_the_rate(self) -> None:
        for _ in range(20):
            self.assertEqual(ratelimit.try_take(SELLER, "orders", "searchOrders"), 0.0)
        wait = ratelimit.try_take(SELLER, "orders", "searchOrders")
        self.assertAlmostEqual(wait, 1 / (0.0056 * ratelimit.SAFETY), delta=1)

    def test_buckets_are_per_seller_application_and_operation(self) -> None:
        for _ in range(5):
            ratelimit.try_take(SELLER, "listings", "patchListingsItem")
        self.assertGreater(ratelimit.try_take(SELLER, "listings", "patchListingsItem"), 0)
        self.assertEqual(ratelimit.try_take("A2OTHER", "listings", "patchListingsItem"), 0.0)
        self.assertEqual(ratelimit.try_take(SELLER, "orders", "searchOrders"), 0.0)

    def test_time_refills_the_bucket_up_to_the_burst(self) -> None:
        ratelimit.try_take(SELLER, "orders", "getOrder")
        RateBucket.objects.update(tokens=0.0, updated_at=timezone.now() - timedelta(hours=1))
        for _ in range(30):
            self.assertEqual(ratelimit.try_take(SELLER, "orders", "getOrder"), 0.0)
        self.assertGreater(ratelimit.try_take(SELLER, "orders", "getOrder"), 0)

    def test_short_waits_are_slept_and_long_ones_returned(self) -> None:
        ratelimit.try_take(SELLER, "listings", "patchListingsItem")
        RateBucket.objects.update(tokens=0.0, updated_at=timezone.now())
        with mock.patch("sync.ratelimit.time.sleep") as sleep:
            sleep.side_effect = lambda s: RateBucket.objects.update(tokens=1.0)
            self.assertEqual(ratelimit.take(SELLER, "listings", "patchListingsItem", max_wait=1.0), 0.0)
        sleep.assert_called_once()
        ratelimit.try_take(SELLER, "orders", "searchOrders")
        RateBucket.objects.filter(operation="searchOrders").update(tokens=0.0, updated_at=timezone.now())
        self.assertGreater(ratelimit.take(SELLER, "orders", "searchOrders", max_wait=10), 100)

    def test_the_rate_follows_amazons_header_and_a_429_empties_the_bucket(self) -> None:
        ratelimit.try_take(SELLER, "orders", "searchOrders")
        ratelimit.observe_limit(SELLER, "orders", "searchOrders", 0.0167)
        self.assertEqual(RateBucket.objects.get().rate, 0.0167)
        wait = ratelimit.throttled(SELLER, "orders", "searchOrders")
        self.assertAlmostEqual(wait, 1 / (0.0167 * ratelimit.SAFETY), delta=0.1)
        self.assertEqual(RateBucket.objects.get().tokens, 0.0)
