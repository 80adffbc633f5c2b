"""Shared helpers of the benchmarks: timing, tables, bulk data."""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone


def machine() -> str:
    import platform

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    except OSError:
        pass
    with connection.cursor() as c:
        c.execute("select version()")
        db = c.fetchone()[0].split(",")[0]
    return f"{platform.node()} · {os.cpu_count()} cores · {cpu} · Python {platform.python_version()} · {db}"


def measure(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> tuple[float, int]:
    """Median wall time in ms of `fn` and the number of queries of its last run."""
    for _ in range(warmup):
        fn()
    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        queries = len(ctx.captured_queries)
    return statistics.median(times), queries


def table(title: str, header: list[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = "\n".join(
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    )
    return f"\n### {title}\n\n{line}\n{sep}\n{body}\n"


def analyze() -> None:
    with connection.cursor() as c:
        c.execute("ANALYZE")


def bulk_stores(
    tenant: Any, count: int, seed: int, prefix: str = "Store", analyze_after: bool = True
) -> None:
    """`count` stores with three capabilities each, statuses spread like a real fleet."""
    from authorizations.models import Authorization, AuthStatus, Capability
    from stores.models import CombinedStatus, Store

    rnd = random.Random(seed)
    now = timezone.now()
    sites = {"NA": ["US", "CA"], "EU": ["DE", "FR"], "FE": ["JP"]}
    combos = [
        (CombinedStatus.AUTHORIZED, AuthStatus.AUTHORIZED, AuthStatus.AUTHORIZED),
        (CombinedStatus.PARTIAL, AuthStatus.AUTHORIZED, AuthStatus.NOT_AUTHORIZED),
        (CombinedStatus.ATTENTION, AuthStatus.NEEDS_REAUTHORIZATION, AuthStatus.AUTHORIZED),
        (CombinedStatus.NOT_AUTHORIZED, AuthStatus.NOT_AUTHORIZED, AuthStatus.NOT_AUTHORIZED),
        (CombinedStatus.PENDING, AuthStatus.PENDING, AuthStatus.NOT_AUTHORIZED),
    ]
    batch = 2000
    for start in range(0, count, batch):
        n = min(batch, count - start)
        # Over half "partial", so even the 100-store set fills a 50-row page when filtered by it: the ratio
        # then compares the same amount of rendering and shows only how the queries scale.
        picks = rnd.choices(combos, weights=[20, 55, 10, 10, 5], k=n)
        regions = [rnd.choice(["NA", "EU", "FE"]) for _ in range(n)]
        stores = Store.objects.bulk_create(
            Store(
                tenant=tenant,
                nickname=f"{prefix} {start + i:06d}",
                region=regions[i],
                sites=sites[regions[i]],
                authorization_status=picks[i][0],
                timezone="UTC",
                created_at=now - timedelta(minutes=start + i),
            )
            for i in range(n)
        )
        auths = []
        for s, (_c, orders, listings) in zip(stores, picks, strict=True):
            auths += [
                Authorization(store=s, capability=Capability.ORDERS, status=orders, last_checked_at=now),
                Authorization(store=s, capability=Capability.LISTINGS, status=listings),
                Authorization(store=s, capability=Capability.ADS, status=AuthStatus.NOT_AUTHORIZED),
            ]
        Authorization.objects.bulk_create(auths)
    if analyze_after:
        analyze()
