"""Bulk re-check of many stores through django-q2 (4 qcluster workers) against gunicorn + PostgreSQL + the sandbox.

wall time / ideal time. Each store holds order loading and listing authorizations of its own seller, so every
re-check is one token refresh and one getMarketplaceParticipations per capability. Amazon's limits are per seller
and application (getMarketplaceParticipations: burst 15), so for distinct sellers the rate-limit-bound minimum is
below one request interval; the ideal is then bound by the work itself: the serial cost of one store's re-check,
measured first on the same stack, times the stores, divided by the parallelism the machine offers
(min(workers, cores)). Both bounds and both ratios are printed.

Where the time goes: the CPU seconds per store of each process (the re-checking side — this process when serial,
the cluster in the batch —, gunicorn with the sandbox, PostgreSQL), serial and in the batch, and the queries of one
re-check. The batch's CPU beyond the serial CPU is the queue's overhead; what the cores cannot absorb is wall time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from bench.callbacks import free_port, start_gunicorn
from bench.common import table

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
TARGET = 1.3
SERIAL_SAMPLE = 20


def _ticks() -> dict[int, tuple[int, int]]:
    """Every process: pid → (parent pid, CPU clock ticks of itself and its reaped children)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        out[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))  # utime stime cutime cstime
    return out


def tree_cpu(root: int | None) -> float:
    """CPU seconds of `root` and every live descendant (Linux /proc; 0 elsewhere or without a root)."""
    if root is None or not os.path.isdir("/proc"):
        return 0.0
    procs = _ticks()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += procs.get(pid, (0, 0))[1]
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int | None:
    """The PostgreSQL server of bench/run (scripts/pg.sh exports PG_DIR), if it is local."""
    try:
        with open(Path(os.environ.get("PG_DIR", "/nonexistent")) / "data" / "postmaster.pid") as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def machine_cpu() -> tuple[float, float]:
    """Seconds of all cores since boot: (busy, idle) from /proc/stat ((0, 0) elsewhere)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / tick, idle / tick


class CpuMeter:
    """CPU seconds used by named process trees between `start` and `stop`."""

    def __init__(self, **roots: int | None) -> None:
        self.roots = roots
        self.before: dict[str, float] = {}
        self.used: dict[str, float] = {}
        self.machine: tuple[float, float] = (0.0, 0.0)

    def _now(self) -> dict[str, float]:
        now = {name: tree_cpu(pid) for name, pid in self.roots.items() if name != "bench"}
        if "bench" in self.roots:
            t = os.times()
            now["bench"] = t.user + t.system
        now["machine busy"], now["machine idle"] = machine_cpu()
        return now

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        diff = {k: after[k] - self.before[k] for k in after}
        self.machine = (diff.pop("machine busy"), diff.pop("machine idle"))
        self.used = diff
        return self.used

    @property
    def others(self) -> float:
        """The share of the machine's cores used by processes outside the measured trees."""
        busy, idle = self.machine
        return max(0.0, busy - sum(self.used.values())) / (busy + idle) if busy + idle else 0.0

    def split(self) -> str:
        """The machine's cores over the interval: ours / other processes' / idle, in per cent."""
        busy, idle = self.machine
        total = busy + idle
        if not total:
            return "?"
        ours = min(sum(self.used.values()), busy)
        return f"{ours / total:.0%} / {(busy - ours) / total:.0%} / {idle / total:.0%}"


def prepare(n: int) -> tuple[Any, Any]:
    """A tenant of `n` stores, each with order loading and listings authorized by its own sandbox seller."""
    from accounts.models import Tenant, User
    from authorizations.models import Authorization, AuthStatus
    from authorizations.store_actions import create_store
    from sandbox import api as sandbox_api
    from stores.models import Store

    owner = User.objects.create_user("recheck@bench.test", "bench-password-1")
    tenant = Tenant.create_for_owner(owner, "Recheck bench")
    membership = tenant.memberships.get()
    apps = {c: settings.AMAZON_SPAPI_APPS[c]["app_id"] for c in ("orders", "listings")}
    now = timezone.now()
    for i in range(n):
        store = create_store(
            None, membership, nickname=f"R {i:05d}", region="NA", sites=["US"], initial_order_date=None
        )
        seller = sandbox_api.create_seller(f"Recheck seller {i}", "NA", ["ATVPDKIKX0DER"], orders_per_day=0)
        Store.objects.filter(pk=store.pk).update(
            selling_partner_id=seller.selling_partner_id, authorization_status="authorized"
        )
        for cap, app in apps.items():
            tokens = sandbox_api.issue_tokens(seller, app)
            a = Authorization.objects.get(store=store, capability=cap)
            a.set_refresh_token(tokens["refresh_token"])
            a.status, a.selling_partner_id, a.authorized_at = (
                AuthStatus.AUTHORIZED,
                seller.selling_partner_id,
                now,
            )
            a.save()
    return owner, tenant


def wait_for(batch: Any, deadline: float) -> None:
    """Until no item of `batch` is pending: one cheap indexed query a quarter second."""
    from sync.models import RecheckItem

    pending = RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.PENDING)
    while time.time() < deadline and pending.exists():
        time.sleep(0.25)


def _serial(store_ids: list[int], meter: CpuMeter) -> float:
    """Seconds per store of re-checking `store_ids` one after the other in this process (CPU into `meter`)."""
    from sync import rechecks

    meter.start()
    t = time.perf_counter()
    for pk in store_ids:
        rechecks.recheck_store(pk)
    seconds = (time.perf_counter() - t) / len(store_ids)
    meter.stop()
    return seconds


def run(quick: bool = False) -> bool:
    from authorizations.models import Authorization, AuthStatus
    from stores.models import Store
    from sync import rechecks
    from sync.models import RecheckItem

    n = 200 if quick else 1000
    owner, tenant = prepare(n)
    port = free_port()
    web = start_gunicorn(port, 4, 1)
    base = f"http://127.0.0.1:{port}/sandbox"
    pg = postmaster_pid()
    try:
        # The serial cost of one store's re-check on this stack (no queue, one process), measured before and after
        # the batch: the mean of both, so a load that changes during the run weighs on both sides alike.
        sample = [s.pk for s in Store.objects.filter(tenant=tenant).order_by("pk")[:SERIAL_SAMPLE]]
        serial_meter = CpuMeter(bench=os.getpid(), web=web.pid, db=pg)
        with override_settings(SANDBOX_BASE_URL=base):
            rechecks.recheck_store(sample[0])  # warm: imports, connections
            reset_queries()  # a full query log (DEBUG keeps 9,000) would count 0
            with CaptureQueriesContext(connection) as ctx:
                rechecks.recheck_store(sample[1])
            queries = len(ctx.captured_queries)
            serial_before = _serial(sample[2:], serial_meter)
        env = dict(os.environ, SANDBOX_BASE_URL=base, Q_WORKERS=str(WORKERS), LOG_LEVEL="WARNING")
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True
        )
        try:
            time.sleep(3)
            meter = CpuMeter(bench=os.getpid(), cluster=cluster.pid, web=web.pid, db=pg)
            meter.start()
            t = time.perf_counter()
            # This process enqueues as a web process of the same deployment would: knowing the cluster's workers.
            with override_settings(Q_CLUSTER={**settings.Q_CLUSTER, "workers": WORKERS}):
                batch = rechecks.start_batch(Store.objects.filter(tenant=tenant), owner, "bench")
            wait_for(batch, time.time() + (300 if quick else 1200))
            wall = time.perf_counter() - t
            batch_cpu = meter.stop()
        finally:
            cluster.terminate()
            cluster.wait(timeout=30)
        with override_settings(SANDBOX_BASE_URL=base):
            serial_after = _serial(sample[2:], CpuMeter(bench=os.getpid(), web=web.pid, db=pg))
        serial = (serial_before + serial_after) / 2
    finally:
        web.terminate()
        web.wait(timeout=20)
    done = RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.DONE).count()
    failed = RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.FAILED).count()
    pending = RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.PENDING).count()
    still_authorized = Authorization.objects.filter(
        store__tenant=tenant, status=AuthStatus.AUTHORIZED
    ).count()
    cores = os.cpu_count() or 1
    parallel = min(WORKERS, cores)
    # Two calls per seller and application fit in the burst of 15, so no bucket makes us wait: the work bounds it.
    ideal = serial * n / parallel
    strict = serial * n / WORKERS
    ratio = wall / ideal
    ok = pending == 0 and failed == 0 and ratio <= TARGET
    per = len(sample) - 2

    def ms(cpu: dict[str, float], name: str, count: int) -> str:
        return f"{cpu.get(name, 0.0) / count * 1000:.0f}" if name in cpu else "?"

    serial_cpu = serial_meter.used
    serial_total = sum(serial_cpu.values()) / per
    batch_total = sum(batch_cpu.values()) / n
    rows = [
        ["stores re-checked (2 capabilities each)", f"{n:,} (done {done}, failed {failed}, pending {pending})", "all done", "ok" if done == n else "MISSED"],
        ["authorizations still authorized", f"{still_authorized:,} / {2 * n:,}", f"{2 * n:,}", "ok" if still_authorized == 2 * n else "MISSED"],
        ["serial cost of one store's re-check (ms): before / after the batch", f"{serial_before * 1000:.0f} / {serial_after * 1000:.0f} (mean {serial * 1000:.0f})", "", ""],
        ["queries of one store's re-check", str(queries), "", ""],
        ["CPU ms per store, serial: re-checker / gunicorn+sandbox / PostgreSQL",
         f"{ms(serial_cpu, 'bench', per)} / {ms(serial_cpu, 'web', per)} / {ms(serial_cpu, 'db', per)} (sum {serial_total * 1000:.0f})", "", ""],
        ["CPU ms per store, batch: qcluster / gunicorn+sandbox / PostgreSQL / this poller",
         f"{ms(batch_cpu, 'cluster', n)} / {ms(batch_cpu, 'web', n)} / {ms(batch_cpu, 'db', n)} / {ms(batch_cpu, 'bench', n)} (sum {batch_total * 1000:.0f})", "", ""],
        ["cores during serial / batch: ours / others' / idle", f"{serial_meter.split()} · {meter.split()}", "", ""],
        ["CPU of the batch / CPU of serial", f"{batch_total / serial_total:.2f}" if serial_total else "?", "", ""],
        ["rate-limit-bound minimum", "< 1 request interval (distinct sellers, 2 calls each within burst 15)", "", ""],
        ["ideal = serial × stores / min(workers, cores)", f"{ideal:.1f} s ({WORKERS} workers, {cores} cores)", "", ""],
        ["wall time", f"{wall:.1f} s", "", ""],
        ["wall / ideal", f"{ratio:.2f}", f"≤ {TARGET}", "ok" if ratio <= TARGET else "MISSED"],
        ["wall / ideal on the cores others' load left us (information)", f"{ratio * (1 - meter.others):.2f}", "", ""],
        ["wall / (serial × stores / workers)", f"{wall / strict:.2f} (if the machine had ≥ {WORKERS} cores)", "", ""],
        ["result", "ok" if ok else "MISSED", "", ""],
    ]  # fmt: skip
    print(table("Bulk re-check through django-q2", ["measure", "value", "target", "result"], rows))
    return ok
