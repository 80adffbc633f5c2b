"""The automatic rotation with a real gunicorn (two workers) and a real qcluster running, the sandbox playing
Amazon and moto playing the SQS queue: a browser keeps re-checking the authorization through the web servers all
along, and not one call fails — before, during and after the rotation, and after the old secret expired."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.sqs_server import dummy_credentials, sqs_queue
from tests.sync.test_worker_kill import ROOT, django_env, free_port, process, wait_for, wait_http

# Starts real servers and scripts (scripts/check leaves these to scripts/test).
pytestmark = pytest.mark.process

SCRIPT = (
    "import django; django.setup(); from tests.authorizations import rotation_processes_script as s; s.{call}"
)


def script(env: dict[str, str], call: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(call=call)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


class Browser:
    """Re-checks the store's order loading through gunicorn every second until stopped."""

    def __init__(self, base: str, store: str, session: str) -> None:
        self.url = f"{base}/stores/{store}/authorizations/orders/recheck/"
        self.page = f"{base}/stores/{store}/"
        self.http = requests.Session()
        self.http.cookies.set("sessionid", session)
        self.statuses: list[int] = []
        self.running = True

    def one(self) -> None:
        page = self.http.get(self.page, timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.status_code
        r = self.http.post(
            self.url,
            data={"csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": self.page},
            allow_redirects=False,
            timeout=30,
        )
        self.statuses.append(r.status_code)

    def loop(self) -> None:
        while self.running:
            self.one()
            time.sleep(1.0)


def test_a_rotation_with_web_and_workers_running_fails_no_call(tmp_path: Path) -> None:
    dummy_credentials()
    db = tmp_path / "rotation.sqlite3"
    port = free_port()
    with sqs_queue() as (endpoint, queue_url):
        env = django_env(db, port)
        env.update(
            {
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "AWS_SQS_ENDPOINT_URL": endpoint,
                "AMAZON_NOTIFICATIONS_QUEUE_URL": queue_url,
                "SANDBOX_NOTIFICATIONS_QUEUE_URL": queue_url,
                "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
                "AWS_REGION": "us-east-1",
                # getMarketplaceParticipations allows 0.016/s (burst 15): a compressed clock lets the browser
                # re-check every second without being throttled.
                "SANDBOX_TIME_SCALE": "100",
                "Q_TIMEOUT": "60",
                "Q_RETRY": "90",
            }
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180
        )
        info = json.loads(script(env, "setup()"))
        gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--threads",
                "4",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_http(port)
            with process(env, "qcluster"):
                browser = Browser(f"http://127.0.0.1:{port}", info["store"], info["session"])
                browser.one()
                worker = threading.Thread(target=browser.loop)
                worker.start()
                try:
                    time.sleep(2)
                    script(env, "announce_and_enqueue()")
                    wait_for(lambda: json.loads(script(env, "state()"))["rotated"], 60, "the new secret")
                    time.sleep(3)
                finally:
                    browser.running = False
                    worker.join(60)
                # Eight days later (the sandbox's clock jumps; calls pause so no access token spans the jump):
                # Amazon no longer accepts the old secret, and the portal no longer needs it.
                script(env, "expire_old_secret()")
                for _ in range(3):
                    browser.one()
                    time.sleep(1)
        finally:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=20)
        outcome = json.loads(script(env, "results()"))
    print("\n".join(outcome["timeline"]))
    print(f"{len(outcome['rechecks'])} re-checks through gunicorn: {sorted(set(outcome['rechecks']))}")
    assert set(browser.statuses) == {302}, browser.statuses
    assert len(outcome["rechecks"]) >= 5
    assert set(outcome["rechecks"]) == {"ok"}, outcome["rechecks"]
    actions = [line.split()[1] for line in outcome["timeline"]]
    assert actions[:3] == [
        "credentials.expiry_announced",
        "credentials.rotation_requested",
        "credentials.rotated",
    ]
