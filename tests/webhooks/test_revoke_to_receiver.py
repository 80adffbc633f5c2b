"""A revoke at the sandbox, noticed by the hourly token check, reaches a real receiver on loopback as
`store.authorization_changed` through a real qcluster: within 60 s (p95) of the portal noticing. Runs on its own
SQLite file shared by runserver (the sandbox), qcluster and the scripts."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sync.test_worker_kill import ROOT, django_env, free_port, process, wait_for, wait_http
from tests.webhooks.helpers import Receiver

pytestmark = pytest.mark.process
SCRIPT = "import django; django.setup(); from tests.webhooks import revoke_script as s; s.{call}"
STORES = 6


def run(env: dict[str, str], call: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(call=call)], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    loaded: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def test_a_revoke_at_the_sandbox_reaches_the_receiver_within_a_minute_of_the_portal_noticing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "hooks.sqlite3"
    port = free_port()
    env = django_env(db, port)
    env["WEBHOOKS_ALLOW_LOOPBACK"] = "true"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180
    )
    receiver = Receiver().start()
    try:
        info = run(env, f"setup({STORES}, {receiver.url!r})")
        secret = str(info["secret"])
        with process(env, "runserver", f"127.0.0.1:{port}", "--noreload"), process(env, "qcluster"):
            wait_http(port)
            noticed: dict[str, float] = {}
            for auth_pk, seller in info["auths"]:  # type: ignore[attr-defined]
                result = run(env, f"revoke_and_check({auth_pk}, {seller!r})")
                assert (result["outcome"], result["status"]) == ("revoked", "needs_reauthorization"), result
                noticed[str(result["store"])] = float(result["noticed"])  # type: ignore[arg-type]
            wait_for(lambda: len(receiver.received) >= STORES, 120, "every event at the receiver")
        bodies = receiver.verified(secret)
        latencies = []
        for body, received in zip(bodies, receiver.received, strict=True):
            assert body["type"] == "store.authorization_changed"
            assert body["data"]["status"] == "attention"
            caps = {c["capability"]: c for c in body["data"]["capabilities"]}
            assert (caps["orders"]["status"], caps["orders"]["reason_code"]) == (
                "needs_reauthorization",
                "revoked",
            )
            latencies.append(received.at - noticed[body["data"]["code"]])
        assert set(noticed) == {b["data"]["code"] for b in bodies}
        assert p95(latencies) <= 60, latencies
    finally:
        receiver.stop()
