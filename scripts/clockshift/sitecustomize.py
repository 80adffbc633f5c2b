"""Moves the wall clock of every Python process started with this folder on PYTHONPATH, so that a test that depends
on the hour fails whatever the hour it runs at.

With PORTAL_CLOCK_SHIFT_HOURS set (a number of hours, may be negative or fractional), Python imports this module at
start-up (before any other code) and starts time-machine's travel to now + shift with tick=True: time.time(),
datetime.now(), date.today(), gmtime/localtime and the realtime clock_gettime read the moved clock, and it goes on
ticking. The monotonic clocks (time.monotonic, perf_counter, sleeps and timed waits) are left as they are, so
timeouts behave. Every process that inherits the environment (pytest's workers, and the web, queue and SQS-protocol
servers the tests start) moves by the same amount, so they agree with each other.

What it does not move: anything that is not Python (PostgreSQL's now(), redis-server, Chromium). The portal reads
its time in Python only.

Without the variable, it does nothing. scripts/test sets it for one leg of the suite.
"""

from __future__ import annotations

import os

_SHIFT = os.environ.get("PORTAL_CLOCK_SHIFT_HOURS", "").strip()

if _SHIFT:
    import sys
    import time

    try:
        _hours = float(_SHIFT)
    except ValueError:
        # Python reports an error raised here as one line and goes on unshifted: say it plainly and stop instead,
        # so that a leg meant to be shifted never passes unshifted.
        sys.stderr.write(f"PORTAL_CLOCK_SHIFT_HOURS must be a number of hours, not {_SHIFT!r}\n")
        raise SystemExit(2) from None
    try:
        import time_machine
    except ImportError:
        sys.stderr.write(
            "PORTAL_CLOCK_SHIFT_HOURS is set but time-machine is not installed (requirements-test.txt)\n"
        )
        raise SystemExit(2) from None

    # Started and never stopped: it lasts as long as the process. A test's own travel nests inside it and, when it
    # stops, hands the clock back to this one.
    time_machine.travel(time.time() + _hours * 3600, tick=True).start()
