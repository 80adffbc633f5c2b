"""Shared helpers of the benchmarks: timing, tables, bulk data."""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import connection, reset_queries, transaction
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
        reset_queries()  # a full query log (DEBUG keeps 9,000) would make every count 0
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


def analyze(*models: Any) -> None:
    """ANALYZE the tables of `models` (all tables when none is named).

    Name them: a database-wide ANALYZE also records the tables other sections have not filled yet as empty, and
    PostgreSQL trusts an analyzed empty table. The `load` section's ANALYZE of an empty sync_order made the `orders`
    section's backfill plan its foreign-key checks (order item → order, feed entry → order, prepared once per session
    and kept) as a sequential scan of sync_order, O(n²) while the backfill filled it faster than autovacuum
    re-analyzes (1 a minute): 813 checks of ~5 ms each, 36 s of PostgreSQL's CPU in COMMIT, made / allowed 0.28 at
    ×3000 where the section alone makes 0.96 (auto_explain: "Seq Scan on sync_order x … FOR KEY SHARE").
    """
    with connection.cursor() as c:
        if not models:
            c.execute("ANALYZE")
            return
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        c.execute(f"ANALYZE {tables}")  # noqa: S608 - table names from model metadata only


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
        analyze(Store, Authorization)


# From this many new rows on, fast_stores builds the secondary indexes after the insert instead of during it.
REBUILD_INDEXES_FROM = 200_000
GENERATED_TABLES = ("stores_store", "authorizations_authorization")


@contextmanager
def indexes_built_after(*tables: str) -> Iterator[None]:
    """PostgreSQL: drop the indexes of `tables` that back no constraint, run the block, create them again.

    Maintaining some twenty B-tree and two trigram indexes row by row is most of the cost of inserting a million
    rows; one `CREATE INDEX` over the finished table is several times faster. Primary keys and unique
    constraints stay (and keep checking). One transaction: if anything fails, the indexes are back as they were.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid)
            """,
            [list(tables)],
        )
        defs = c.fetchall()
        for name, _ in defs:
            c.execute(f'DROP INDEX "{name}"')
        yield
        # Django's foreign keys are deferred: checked now, so no trigger event is pending for CREATE INDEX.
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
        c.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, ddl in defs:
            c.execute(ddl)


def fast_stores(
    tenant_ids: Sequence[int],
    count: int,
    start: int,
    prefix: str = "Fleet",
    rebuild_indexes: bool | None = None,
) -> None:
    """`count` stores spread round-robin over `tenant_ids`, three authorizations each, statuses as `bulk_stores`.

    On PostgreSQL the rows are generated by the server (`INSERT … SELECT … FROM generate_series`, one statement
    per table, no row crosses the wire); from REBUILD_INDEXES_FROM rows on (or with `rebuild_indexes=True`) the
    secondary indexes are built once afterwards (`indexes_built_after`), which fills a million stores in about a
    minute on 2 cores. Elsewhere `bulk_create` in big batches. `start` numbers the nicknames and ages, so
    successive calls never collide. Run `vacuum_analyze` afterwards: the planner needs the new statistics.
    """
    if rebuild_indexes is None:
        rebuild_indexes = count >= REBUILD_INDEXES_FROM
    if rebuild_indexes and connection.vendor == "postgresql":
        with indexes_built_after(*GENERATED_TABLES):
            _fast_stores(tenant_ids, count, start, prefix)
    else:
        _fast_stores(tenant_ids, count, start, prefix)


def _fast_stores(tenant_ids: Sequence[int], count: int, start: int, prefix: str) -> None:
    from authorizations.models import AuthStatus, Capability
    from stores.models import CombinedStatus

    if count <= 0:
        return
    if connection.vendor != "postgresql":
        from accounts.models import Tenant

        per, extra = divmod(count, len(tenant_ids))
        for i, tid in enumerate(tenant_ids):
            n = per + (1 if i < extra else 0)
            if n:
                bulk_stores(
                    Tenant.objects.get(pk=tid),
                    n,
                    seed=start + i,
                    prefix=f"{prefix}{start + i}",
                    analyze_after=False,
                )
        return
    # 20 buckets weighted like bulk_stores: 4 authorized, 11 partial, 2 attention, 2 not authorized, 1 pending.
    buckets = (
        [CombinedStatus.AUTHORIZED] * 4
        + [CombinedStatus.PARTIAL] * 11
        + [CombinedStatus.ATTENTION] * 2
        + [CombinedStatus.NOT_AUTHORIZED] * 2
        + [CombinedStatus.PENDING]
    )
    per_status = {
        CombinedStatus.AUTHORIZED: (AuthStatus.AUTHORIZED, AuthStatus.AUTHORIZED),
        CombinedStatus.PARTIAL: (AuthStatus.AUTHORIZED, AuthStatus.NOT_AUTHORIZED),
        CombinedStatus.ATTENTION: (AuthStatus.NEEDS_REAUTHORIZATION, AuthStatus.AUTHORIZED),
        CombinedStatus.NOT_AUTHORIZED: (AuthStatus.NOT_AUTHORIZED, AuthStatus.NOT_AUTHORIZED),
        CombinedStatus.PENDING: (AuthStatus.PENDING, AuthStatus.NOT_AUTHORIZED),
    }
    with connection.cursor() as c:
        c.execute("SELECT coalesce(max(id), 0) FROM stores_store")
        last_id = c.fetchone()[0]
        c.execute(
            """
            INSERT INTO stores_store (code, tenant_id, nickname, region, sites, selling_partner_id,
                selling_partner_verified, account_site, timezone, authorization_status, created_at, updated_at)
            SELECT gen_random_uuid(), (%(tenants)s::bigint[])[1 + g %% %(nt)s], %(prefix)s || ' ' || lpad(g::text, 8, '0'),
                (ARRAY['NA', 'EU', 'FE'])[1 + g %% 3],
                (ARRAY['["US", "CA"]', '["DE", "FR"]', '["JP"]'])[1 + g %% 3]::jsonb,
                '', false, (ARRAY['', '', 'JP'])[1 + g %% 3], 'UTC',
                (%(buckets)s::text[])[1 + (g * 7919) %% 20], now() - g * interval '1 second', now()
            FROM generate_series(%(start)s::bigint, %(end)s::bigint) AS g
            """,
            {
                "tenants": list(tenant_ids),
                "nt": len(tenant_ids),
                "prefix": prefix,
                "buckets": [str(b) for b in buckets],
                "start": start,
                "end": start + count - 1,
            },
        )
        combined = [str(k) for k in per_status]
        c.execute(
            """
            INSERT INTO authorizations_authorization (store_id, capability, status, selling_partner_id,
                refresh_token_encrypted, status_changed_at, last_checked_at, last_error, granted_marketplaces,
                ads_profiles)
            SELECT s.id, cap.name,
                CASE cap.name
                    WHEN %(orders)s THEN (%(orders_st)s::text[])[array_position(%(combined)s::text[], s.authorization_status::text)]
                    WHEN %(listings)s THEN (%(listings_st)s::text[])[array_position(%(combined)s::text[], s.authorization_status::text)]
                    ELSE %(not_authorized)s
                END,
                '', '', now(), CASE WHEN cap.name = %(orders)s THEN now() END, '', '[]'::jsonb, '[]'::jsonb
            FROM stores_store s CROSS JOIN (VALUES (%(orders)s), (%(listings)s), (%(ads)s)) AS cap(name)
            WHERE s.id > %(last_id)s
            """,
            {
                "orders": str(Capability.ORDERS),
                "listings": str(Capability.LISTINGS),
                "ads": str(Capability.ADS),
                "combined": combined,
                "orders_st": [str(v[0]) for v in per_status.values()],
                "listings_st": [str(v[1]) for v in per_status.values()],
                "not_authorized": str(AuthStatus.NOT_AUTHORIZED),
                "last_id": last_id,
            },
        )


def vacuum_analyze(*tables: str) -> None:
    """VACUUM ANALYZE on PostgreSQL (fresh statistics and a visibility map for index-only scans), ANALYZE elsewhere."""
    with connection.cursor() as c:
        if connection.vendor != "postgresql":
            c.execute("ANALYZE")
            return
        for t in tables:
            c.execute(f"VACUUM ANALYZE {t}")


def plan_nodes(sql: str, params: Sequence[Any] | None) -> list[str]:
    """The node types of PostgreSQL's plan of `sql` (with the index each scan reads), depth first.

    `params` None: `sql` is complete as it is (a captured query with its values in it; any % is literal)."""
    import json

    with connection.cursor() as c:
        c.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = c.fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw
    out: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        name = node["Node Type"]
        if node.get("Index Name"):
            name += f" {node['Index Name']}"
        elif node.get("Relation Name"):
            name += f" {node['Relation Name']}"
        out.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return out


def grant_orders(store: Any, seller: Any) -> Any:
    """Authorize the store's order loading with a fresh grant of the sandbox seller (what a consent would leave)."""
    from django.conf import settings

    from authorizations.models import Authorization, AuthStatus, Capability
    from sandbox import api as sandbox_api
    from stores.models import Store

    tokens = sandbox_api.issue_tokens(seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
    auth = Authorization.objects.get(store=store, capability=Capability.ORDERS)
    auth.set_refresh_token(tokens["refresh_token"])
    auth.status, auth.selling_partner_id, auth.authorized_at = (
        AuthStatus.AUTHORIZED,
        seller.selling_partner_id,
        timezone.now(),
    )
    auth.save()
    Store.objects.filter(pk=store.pk).update(selling_partner_id=seller.selling_partner_id)
    return auth


def settle(timeout: float = 120.0) -> float:
    """Between sections: PostgreSQL's dirty pages written out (CHECKPOINT) and no autovacuum worker running, so
    that what one section left behind does not slow the next one's measurement. A full run's ×1500 backfill, right
    after the lists section had generated 4,000,000 rows, made 0.89 of the requests allowed while PostgreSQL used
    14.6 s of CPU behind it (2.2 s when run alone, at 0.98). Returns the seconds it took."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute("CHECKPOINT")
        while time.perf_counter() - started < timeout:
            c.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")
            if not c.fetchone()[0]:
                break
            time.sleep(1.0)
    return time.perf_counter() - started
