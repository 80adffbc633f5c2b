"""The platform API: the orders changes feed page at two sizes (bench/api_feed.py)."""

from __future__ import annotations

from bench.api_feed import run_feed


def run(quick: bool = False) -> bool:
    return run_feed(quick)
