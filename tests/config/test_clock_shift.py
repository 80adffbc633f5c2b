"""The shifted-clock leg of scripts/test: scripts/clockshift on PYTHONPATH with PORTAL_CLOCK_SHIFT_HOURS moves the
wall clock of every Python process (and of the processes those start) and leaves the monotonic clock alone.

These tests start their own processes with the variable set or unset, so they hold on either leg of the suite. The
parent's real time is read through time-machine's escape hatch, which sees past a shift of the parent itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import time_machine

ROOT = Path(__file__).resolve().parents[2]
CLOCKSHIFT = ROOT / "scripts" / "clockshift"
HOUR = 3600.0
MINUTE = 60.0

# What a process sees: its wall clock (time.time and datetime.now), its monotonic clock, how far each moved across a
# short sleep, and the same from a process it starts itself (as the test runner starts a server that starts workers).
REPORT = """
import json, subprocess, sys, time
from datetime import UTC, datetime
wall, now, mono = time.time(), datetime.now(UTC).timestamp(), time.monotonic()
time.sleep(0.3)
report = {
    "wall": wall, "now": now, "mono": mono,
    "wall_slept": time.time() - wall, "mono_slept": time.monotonic() - mono,
}
if len(sys.argv) > 1:
    child = subprocess.run([sys.executable, "-c", sys.argv[1]], capture_output=True, text=True, check=True)
    report["child"] = json.loads(child.stdout)
print(json.dumps(report))
"""


def real_time() -> float:
    """The machine's wall clock, whether or not this process is shifted (the escape hatch works only then)."""
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


def run(shift: str | None) -> tuple[dict[str, Any], float, float, float]:
    """The process's report, the parent's real time before it, and the parent's monotonic clock around it."""
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_CLOCK_SHIFT_HOURS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CLOCKSHIFT), env.get("PYTHONPATH", "")]))
    if shift is not None:
        env["PORTAL_CLOCK_SHIFT_HOURS"] = shift
    mono_before = time.monotonic()
    real_before = real_time()
    out = subprocess.run(
        [sys.executable, "-c", REPORT, REPORT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    mono_after = time.monotonic()
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), real_before, mono_before, mono_after


def assert_wall_clock_ahead(report: dict[str, Any], real_before: float, hours: float, spent: float) -> None:
    for clock in ("wall", "now"):
        ahead = report[clock] - real_before
        assert hours * HOUR - MINUTE <= ahead <= hours * HOUR + spent + MINUTE, (clock, ahead / HOUR)
    # tick=True: the moved clock goes on at the real pace (a frozen one would not move across the sleep).
    assert 0.29 <= report["wall_slept"] <= report["mono_slept"] + 1, report


def test_a_shifted_process_and_the_processes_it_starts_read_a_wall_clock_twelve_hours_ahead() -> None:
    report, real_before, mono_before, mono_after = run("12")
    spent = mono_after - mono_before
    assert_wall_clock_ahead(report, real_before, 12, spent)
    assert_wall_clock_ahead(report["child"], real_before, 12, spent)


def test_a_shifted_process_keeps_the_real_monotonic_clock() -> None:
    report, _real, mono_before, mono_after = run("12")
    # CLOCK_MONOTONIC is one clock for the whole machine: each process's reading falls within the parent's.
    assert mono_before <= report["mono"] <= mono_after, (mono_before, report["mono"], mono_after)
    assert mono_before <= report["child"]["mono"] <= mono_after
    assert 0.3 <= report["mono_slept"] < 5


def test_a_shift_back_moves_the_clock_back() -> None:
    report, real_before, mono_before, mono_after = run("-12")
    assert_wall_clock_ahead(report, real_before, -12, mono_after - mono_before)


def test_the_folder_on_the_path_changes_nothing_without_the_variable() -> None:
    report, real_before, mono_before, mono_after = run(None)
    assert_wall_clock_ahead(report, real_before, 0, mono_after - mono_before)
    assert_wall_clock_ahead(report["child"], real_before, 0, mono_after - mono_before)


def test_a_shift_that_is_not_a_number_stops_the_process_instead_of_running_unshifted() -> None:
    env = {**os.environ, "PYTHONPATH": str(CLOCKSHIFT), "PORTAL_CLOCK_SHIFT_HOURS": "twelve"}
    out = subprocess.run(
        [sys.executable, "-c", "print('ran')"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0
    assert "ran" not in out.stdout
    assert "PORTAL_CLOCK_SHIFT_HOURS must be a number of hours" in out.stderr
