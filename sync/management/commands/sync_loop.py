"""`manage.py sync_loop`: dispatch due order syncs every second and read Amazon's notifications as they arrive.

Runs beside the qcluster (scripts/run starts one; production runs one or more, which is safe: dispatching claims
each sync with a conditional UPDATE and SQS hands each message to one reader). Set SYNC_LOOP=true where it runs.
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand

from sync import order_changes


class Command(BaseCommand):
    help = "Dispatch due order syncs every second and long-poll Amazon's notification queue."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between dispatch passes")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = [False]

        def stopping(_signum: int, _frame: object) -> None:
            stop[0] = True

        signal.signal(signal.SIGTERM, stopping)
        signal.signal(signal.SIGINT, stopping)
        order_changes.loop(stop, dispatch_every=options["interval"])
