"""A load run with a fixed request budget against gunicorn: list pages, store pages and callbacks mixed.

Passes when no request got a 5xx and every started authorization succeeded exactly once (the failures' reasons
are printed).
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bench.callbacks import flow_people, one_flow, session_for, start_portal_and_amazon, stop
from bench.common import bulk_stores, table

# The HTTP wrapper's log lines: "http POST host/path: ConnectionError (ConnectionResetError), trying once more" and
# "http POST host/path failed: ConnectionError (…)"; the host (a port that changes per run) is left out.
RETRIED = re.compile(r"http (\w+) [^/\s]+(/\S*): (.+), trying once more")
FAILED = re.compile(r"http (\w+) [^/\s]+(/\S*) failed: (.+)$")


def _tally(pattern: re.Pattern[str], lines: list[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for m in filter(None, map(pattern.search, lines)):
        path = re.sub(r"/[A-Z0-9]{8,}(?=/|$)", "/{id}", m.group(2))  # seller ids and the like
        found[f"{m.group(1)} {path}: {m.group(3)}"] += 1
    return found


def _counts(found: Counter[str]) -> str:
    return ", ".join(f"{k} × {v}" for k, v in sorted(found.items())) or "none"


def run(quick: bool = False) -> bool:
    from accounts.models import Tenant, User
    from authorizations.models import AuditEvent, AuthorizationAttempt
    from stores.models import Store

    budget = 400 if quick else 2000
    concurrency = 8 if quick else 16
    rnd = random.Random(7)
    readers = []
    for i in range(8):
        user = User.objects.create_user(f"load{i}@bench.test", "bench-password-1")
        tenant = Tenant.create_for_owner(user, f"Load tenant {i}")
        bulk_stores(tenant, 120, seed=500 + i, prefix=f"L{i}")
        readers.append(
            (
                user.email,
                [str(c) for c in Store.objects.filter(tenant=tenant).values_list("code", flat=True)[:60]],
            )
        )
    flows_n = budget // 10  # each flow is about 6 requests; ~30% of the budget goes to callbacks
    people = flow_people(flows_n, "LF")
    # The portal's log (the HTTP wrapper's retries and failures are counted from it, then echoed).
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed once gunicorn has stopped, below
    servers, base = start_portal_and_amazon(4, 16, stderr=log)
    sessions = [(session_for(email), codes) for email, codes in readers]
    reads = budget - flows_n * 6
    jobs: list[tuple[str, object]] = [("read", None)] * reads + [("flow", p) for p in people]
    rnd.shuffle(jobs)
    statuses: Counter[int] = Counter()

    def work(job: tuple[str, object]) -> None:
        kind, payload = job
        if kind == "flow":
            _f, _c, status = one_flow(base, *payload)  # type: ignore[misc]
            statuses[status] += 1
            return
        s, codes = rnd.choice(sessions)
        url = f"{base}/stores/" if rnd.random() < 0.5 else f"{base}/stores/{rnd.choice(codes)}/"
        if url.endswith("/stores/") and rnd.random() < 0.5:
            url += f"?status={rnd.choice(['partial', 'authorized', 'attention'])}&page={rnd.randint(1, 3)}"
        statuses[s.get(url, timeout=60).status_code] += 1

    t = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(work, jobs))
    finally:
        stop(servers)
    wall = time.perf_counter() - t
    with log:
        log.seek(0)
        lines = log.read().decode(errors="replace").splitlines()
    sys.stderr.write("".join(f"{line}\n" for line in lines if "trying once more" not in line))
    retried, failed = _tally(RETRIED, lines), _tally(FAILED, lines)
    errors = sum(v for k, v in statuses.items() if k >= 500)
    # Only this section's stores: other sections may have run in the same database.
    codes = [p[1] for p in people]
    mine = AuthorizationAttempt.objects.filter(store__code__in=codes)
    attempts = mine.count()
    outcomes = Counter(mine.values_list("outcome", flat=True))
    reasons = Counter(mine.exclude(outcome="succeeded").values_list("reason", flat=True))
    succeeded = outcomes.get("succeeded", 0)
    events = AuditEvent.objects.filter(action="authorization.succeeded", store__code__in=codes).count()
    still_open = outcomes.get("pending", 0) + outcomes.get("quarantined", 0)
    # Not lost: every started attempt succeeded (ended is not enough: a failure is a lost authorization);
    # not duplicated: one success event per succeeded attempt.
    ok = (
        errors == 0
        and attempts == flows_n
        and still_open == 0
        and succeeded == attempts
        and events == succeeded
    )
    rows: list[list[object]] = [
        ["request budget (reads + flow requests)", f"{reads} + ~{flows_n * 6}"],
        ["clients / gunicorn: portal, sandbox", f"{concurrency} / 4 workers × 16 threads, its own 2 × 8"],
        ["wall time (s) / requests per second", f"{wall:.1f} / {(reads + flows_n * 6) / wall:.1f}"],
        ["status codes", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))],
        ["5xx answers", errors],
        [
            "authorizations started / succeeded / audit events",
            f"{attempts} / {succeeded} / {events} (of {flows_n})",
        ],
        ["attempt outcomes", ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))],
        ["reasons of the others", ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "-"],
        ["outbound calls tried once more (call: cause × count)", _counts(retried)],
        ["outbound calls failed (call: cause × count)", _counts(failed)],
        ["result", "ok" if ok else "FAILED"],
    ]
    print(
        table("Load run against gunicorn (lists, store pages, callbacks mixed)", ["measure", "value"], rows)
    )
    return ok
