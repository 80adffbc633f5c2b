"""The sliding-window limits' Retry-After: the first second at which `allows` is true again, never earlier."""

from __future__ import annotations

from django.core.cache import cache
from django.test import TestCase

from accounts import limits

LIMIT = limits.Limit("test-retry", 2, 60)
START = 6_000_000.0  # the start of a window (a multiple of 60), far from the real clock


class RetryAfterTests(TestCase):
    def setUp(self) -> None:
        cache.clear()

    def first_allowed(self, now: float) -> float:
        t = now
        while not limits.allows(LIMIT, "s", t):
            t += 0.25
        return t

    def test_a_subject_under_the_limit_may_go_now(self) -> None:
        limits.count(LIMIT, "s", START)
        self.assertEqual(limits.retry_after(LIMIT, "s", START + 1), 0)

    def test_the_answer_is_the_first_moment_allowed_rounded_up_at_any_point_of_the_windows(self) -> None:
        for counted_at in (0, 10, 59):
            for asked_after in (0, 5, 30, 61):
                cache.clear()
                limits.count(LIMIT, "s", START + counted_at)
                limits.count(LIMIT, "s", START + counted_at)
                now = START + counted_at + asked_after
                if limits.allows(LIMIT, "s", now):
                    continue
                wait = limits.retry_after(LIMIT, "s", now)
                with self.subTest(counted_at=counted_at, asked_after=asked_after):
                    self.assertTrue(limits.allows(LIMIT, "s", now + wait))
                    self.assertLessEqual(wait - (self.first_allowed(now) - now), 1)
