"""The platform API: the orders changes feed page at two sizes (bench/api_feed.py), then webhook signing and
delivery on one worker core and the delay from a status change to the receiver (bench/api_webhooks.py)."""

from __future__ import annotations

from bench.api_feed import run_feed
from bench.api_webhooks import run_webhooks


def run(quick: bool = False) -> bool:
    feed_ok = run_feed(quick)
    hooks_ok = run_webhooks(quick)
    return feed_ok and hooks_ok
