"""Callback throughput: N concurrent consents completed against gunicorn + PostgreSQL + the sandbox on loopback."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import requests

from bench.common import table

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    port: int,
    workers: int,
    threads: int,
    stderr: IO[bytes] | None = None,
    sandbox_base: str | None = None,
    redirect_base: str | None = None,
) -> subprocess.Popen[bytes]:
    """gunicorn serving the portal and the sandbox on `port`; the portal calls the sandbox at `sandbox_base` (by
    default this same server); its log lines go to `stderr` when given. `redirect_base`: the portal's origin when
    the sandbox runs apart, so that it registers the portal's callback URIs (sandbox.services.registered_uris)."""
    env = dict(
        os.environ,
        SANDBOX_BASE_URL=sandbox_base or f"http://127.0.0.1:{port}/sandbox",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    if redirect_base:
        env["SANDBOX_REDIRECT_BASES"] = redirect_base
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "-k", "gthread", "--threads", str(threads), "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env, stderr=stderr,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def start_portal_and_amazon(
    workers: int, threads: int, stderr: IO[bytes] | None = None
) -> tuple[list[subprocess.Popen[bytes]], str]:
    """The portal on gunicorn (`workers` × `threads`, its log to `stderr`) and the sandbox on a server of its own
    (2 × 8), as Amazon is one; returns both processes and the portal's base URL.

    Served by the portal's own gthread workers, a callback's call to the sandbox can be accepted by a worker whose
    threads all wait on the sandbox, and queue there until the 20 s read timeout: a run on this machine lost 2 of 96
    code exchanges so."""
    amazon_port = port = free_port()
    while port == amazon_port:
        port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Both register the portal's callback URIs: each process writes the sandbox's application rows from its settings.
    amazon = start_gunicorn(amazon_port, 2, 8, redirect_base=base)
    try:
        portal = start_gunicorn(
            port,
            workers,
            threads,
            stderr=stderr,
            sandbox_base=f"http://127.0.0.1:{amazon_port}/sandbox",
            redirect_base=base,
        )
    except RuntimeError:
        stop([amazon])
        raise
    return [portal, amazon], base


def stop(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait(timeout=20)


def csrf_of(session: requests.Session, url: str) -> str:
    r = session.get(url, timeout=30)
    r.raise_for_status()
    m = CSRF.search(r.text)
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def session_for(email: str) -> requests.Session:
    """A logged-in HTTP session made directly in the session store: the login form is rate limited per IP by
    django-allauth (30 a minute), and logging in is not what is measured."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    user = User.objects.get(email=email)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    s = requests.Session()
    # No keep-alive: gunicorn closes idle connections after 2 s, and a reused one then fails with a reset.
    s.headers["Connection"] = "close"
    s.cookies.set(settings.SESSION_COOKIE_NAME, store.session_key, domain="127.0.0.1")
    return s


def one_flow(
    base: str, session: requests.Session, store_code: str, seller_id: str
) -> tuple[float, float, int]:
    """Start order loading, confirm at the sandbox, follow the callback. Returns (flow s, callback s, status)."""
    s = session
    t0 = time.perf_counter()
    start = f"{base}/stores/{store_code}/authorize/orders/"
    token = csrf_of(s, start)
    r = s.post(
        f"{start}start/",
        data={"usual_environment": "on", "csrfmiddlewaretoken": token},
        headers={"Accept": "application/json", "Referer": start},
        timeout=30,
    )
    consent = r.json()["consent_url"]
    token = csrf_of(s, consent)
    r = s.post(
        consent,
        data={"seller": seller_id, "understand": "1", "action": "confirm", "csrfmiddlewaretoken": token},
        headers={"Referer": consent},
        allow_redirects=False,
        timeout=30,
    )
    callback = r.headers["Location"]
    t1 = time.perf_counter()
    r = s.get(callback, allow_redirects=False, timeout=60)
    t2 = time.perf_counter()
    return t2 - t0, t2 - t1, r.status_code


def flow_people(n: int, prefix: str) -> list[tuple[requests.Session, str, str]]:
    """n tenants, each with a logged-in session, an NA store and its own sandbox seller, ready for one_flow."""
    from accounts.models import Tenant, User
    from authorizations.store_actions import create_store
    from sandbox import api as sandbox_api

    people = []
    for i in range(n):
        user = User.objects.create_user(f"{prefix.lower()}{i}@bench.test", "bench-password-1")
        tenant = Tenant.create_for_owner(user, f"{prefix} tenant {i}")
        store = create_store(
            None,
            tenant.memberships.get(),
            nickname=f"{prefix} {i}",
            region="NA",
            sites=["US"],
            initial_order_date=None,
        )
        seller = sandbox_api.create_seller(f"{prefix} seller {i}", "NA", ["ATVPDKIKX0DER"], orders_per_day=0)
        people.append((session_for(user.email), str(store.code), seller.selling_partner_id))
    return people


def run(quick: bool = False) -> bool:
    from django.db.models import Count

    from authorizations.models import AuditEvent, AuthorizationAttempt, AuthStatus
    from stores.models import Store

    n = 24 if quick else 96
    concurrency = 8 if quick else 16
    workers, threads = 4, 4
    people = flow_people(n, "CB")
    servers, base = start_portal_and_amazon(workers, threads)
    try:
        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(lambda p: one_flow(base, *p), people))
        wall = time.perf_counter() - t
    finally:
        stop(servers)
    flows = sorted(r[0] for r in results)
    callbacks = sorted(r[1] for r in results)
    statuses = {r[2] for r in results}
    # Only this section's stores: other sections may have run in the same database.
    codes = [p[1] for p in people]
    mine = AuthorizationAttempt.objects.filter(store__code__in=codes)
    succeeded = mine.filter(outcome="succeeded").count()
    attempts = mine.count()
    events = AuditEvent.objects.filter(action="authorization.succeeded", store__code__in=codes).count()
    authorized = Store.objects.filter(
        code__in=codes, authorizations__capability="orders", authorizations__status=AuthStatus.AUTHORIZED
    ).count()
    exactly_once = succeeded == attempts == events == authorized == n and statuses == {302}

    failures = ", ".join(
        f"{reason or outcome} × {n}"
        for outcome, reason, n in mine.exclude(outcome="succeeded")
        .values_list("outcome", "reason")
        .annotate(n=Count("pk"))
        .values_list("outcome", "reason", "n")
    )
    errors = sorted({str(r[2]) for r in results if r[2] != 302})
    report = "report only (the issue sets no target)"
    rows: list[list[object]] = [
        ["consents completed", n, "", ""],
        ["concurrency / gunicorn", f"{concurrency} clients / {workers} workers × {threads} threads (sandbox: its own 2 × 8)", "", ""],
        ["completed authorizations per second", f"{n / wall:.1f}", report, ""],
        ["callback latency p50 / p95 (ms)", f"{statistics.median(callbacks) * 1000:.0f} / {percentile(callbacks, 0.95) * 1000:.0f}", report, ""],
        ["whole flow p50 / p95 (ms)", f"{statistics.median(flows) * 1000:.0f} / {percentile(flows, 0.95) * 1000:.0f}", report, ""],
        ["attempts / succeeded / audit events / stores authorized", f"{attempts} / {succeeded} / {events} / {authorized}", f"all {n}", "ok" if exactly_once else "MISSED"],
        ["failures (reason × count; callback statuses other than 302)", f"{failures or 'none'}{'; HTTP ' + ', '.join(errors) if errors else ''}", "none", "ok" if not failures and not errors else "MISSED"],
    ]  # fmt: skip
    print(
        table(
            "Callback throughput (gunicorn + PostgreSQL + sandbox on loopback)",
            ["measure", "value", "target", "result"],
            rows,
        )
    )
    return exactly_once


def percentile(sorted_xs: list[float], q: float) -> float:
    """The `q` quantile of sorted values, nearest rank."""
    return sorted_xs[min(len(sorted_xs) - 1, int(round(q * (len(sorted_xs) - 1))))]
