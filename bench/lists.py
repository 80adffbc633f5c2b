"""Store list (tenant) and staff page: queries per page and median server time, small vs big, plus EXPLAIN."""

from __future__ import annotations

import functools

from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse

from accounts.models import Tenant, User
from bench.common import analyze, bulk_stores, measure, table
from stores.models import Store

TARGET_TENANT, TARGET_STAFF = 1.3, 1.5


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _owner(email: str, name: str) -> tuple[User, Tenant]:
    user = User.objects.create_user(email, "bench-password-1")
    return user, Tenant.create_for_owner(user, name)


def _uses_index(sql_explain: str) -> bool:
    return "Index" in sql_explain


def run(quick: bool = False) -> bool:
    repeat = 7 if quick else 15
    big_tenant_n = 2_000 if quick else 10_000
    staff_big_n = 20_000 if quick else 100_000
    tenants_n = 200 if quick else 1_000
    ok = True

    small_user, small_tenant = _owner("small@bench.test", "Small")
    bulk_stores(small_tenant, 100, seed=1, prefix="Small")
    staff = User.objects.create_superuser("staff@bench.test", "bench-password-1")
    try:
        staff_url = reverse("staff:staff_stores")
    except NoReverseMatch:
        staff_url = ""
    rows = []
    staff_small: dict[str, tuple[float, int]] = {}
    if staff_url:
        sc = _client(staff)
        staff_small["all"] = measure(lambda: sc.get(staff_url), repeat)
        staff_small["status"] = measure(lambda: sc.get(staff_url, {"status": "partial"}), repeat)

    big_user, big_tenant = _owner("big@bench.test", "Big")
    bulk_stores(big_tenant, big_tenant_n, seed=2, prefix="Big")
    # The rest of the fleet, spread over many tenants, for the staff page.
    remaining = staff_big_n - 100 - big_tenant_n
    per = max(1, remaining // (tenants_n - 2))
    for i in range(tenants_n - 2):
        n = per if i < tenants_n - 3 else remaining - per * (tenants_n - 3)
        if n <= 0:
            continue
        _u, t = _owner(f"t{i}@bench.test", f"Tenant {i:04d}")
        bulk_stores(t, n, seed=100 + i, prefix=f"T{i}", analyze_after=False)
    analyze()
    total = Store.objects.count()

    small, big = _client(small_user), _client(big_user)
    url = reverse("stores:list")
    for label, params in (
        ("page 1", {}),
        ("status filter", {"status": "partial"}),
        ("search", {"q": "00042"}),
    ):
        s_ms, s_q = measure(functools.partial(small.get, url, params), repeat)
        b_ms, b_q = measure(functools.partial(big.get, url, params), repeat)
        ratio = b_ms / s_ms
        target_ok = s_q == b_q and b_q <= 10 and (label == "search" or ratio <= TARGET_TENANT)
        ok = ok and target_ok
        rows.append(
            [
                f"tenant list, {label}",
                f"100 / {big_tenant_n:,}",
                f"{s_q} / {b_q}",
                f"{s_ms:.1f} / {b_ms:.1f}",
                f"{ratio:.2f}",
                f"≤ {TARGET_TENANT}" if label != "search" else "—",
                "ok" if target_ok else "MISSED",
            ]
        )
    if staff_url:
        sc = _client(staff)
        for key, params in (("all", {}), ("status", {"status": "partial"})):
            b_ms, b_q = measure(functools.partial(sc.get, staff_url, params), repeat)
            s_ms, s_q = staff_small[key]
            ratio = b_ms / s_ms
            target_ok = s_q == b_q and b_q <= 10 and (key != "status" or ratio <= TARGET_STAFF)
            ok = ok and target_ok
            rows.append(
                [
                    f"staff page, {'status filter' if key == 'status' else 'page 1'}",
                    f"100 / {total:,}",
                    f"{s_q} / {b_q}",
                    f"{s_ms:.1f} / {b_ms:.1f}",
                    f"{ratio:.2f}",
                    f"≤ {TARGET_STAFF}" if key == "status" else "—",
                    "ok" if target_ok else "MISSED",
                ]
            )
    print(table("Store list and staff page (queries small/big, median ms small/big, ratio big/small)",
                ["page", "stores", "queries", "median ms", "ratio", "target", "result"], rows))  # fmt: skip

    plans = []
    tenant_qs = Store.objects.filter(
        tenant=big_tenant, archived_at__isnull=True, authorization_status="partial"
    ).order_by("-created_at", "-id")[:50]
    staff_qs = Store.objects.filter(authorization_status="partial").order_by("-created_at", "-id")[:50]
    for name, qs in (("tenant list, status filter", tenant_qs), ("staff page, status filter", staff_qs)):
        plan = qs.explain() if connection.vendor == "postgresql" else qs.explain()
        first = plan.splitlines()
        index_lines = [ln.strip() for ln in first if "Index" in ln]
        plans.append(
            [name, "yes" if _uses_index(plan) else "NO", (index_lines[0] if index_lines else first[0])[:110]]
        )
        ok = ok and _uses_index(plan)
    print(table("EXPLAIN of the filtered list queries", ["query", "index used", "plan line"], plans))
    return ok
