"""Send the sandbox's ORDER_CHANGE notifications, as Amazon's Notifications API does, in a loop (or once)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import api, applications, faults


class Command(BaseCommand):
    help = (
        "Deliver ORDER_CHANGE notifications for every subscription every --interval real seconds (--once: one pass). "
        "--drop/--duplicate/--seed set the delivery faults first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="Real seconds between passes")
        parser.add_argument("--once", action="store_true", help="One pass, then exit")
        parser.add_argument(
            "--drop", type=float, default=None, help="Fraction of notifications lost (0 to 1)"
        )
        parser.add_argument("--duplicate", type=float, default=None, help="Fraction sent twice (0 to 1)")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the drop/duplicate choice")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX_ACTIVE:
            raise CommandError(
                "The sandbox is not active (SANDBOX_ENABLED and DEBUG or SANDBOX_ALLOWED_IN_PRODUCTION)."
            )
        interval = options["interval"]
        if not 0 < interval <= 3600:
            raise CommandError("--interval must be more than 0 and at most 3600 seconds.")
        if options["drop"] is not None or options["duplicate"] is not None:
            try:
                api.set_notification_faults(
                    options["drop"] or 0.0, options["duplicate"] or 0.0, options["seed"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        if options["once"]:
            self.stdout.write(f"{self._pass()} notifications sent.")
            return
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
        current = faults.delivery_faults()
        self.stdout.write(
            f"Delivering every {interval:g} s (drop {current.drop:g}, duplicate {current.duplicate:g}); "
            "SIGTERM or Ctrl-C stops."
        )
        total = 0
        try:
            while not stop.is_set():
                total += self._pass()
                stop.wait(interval)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        self.stdout.write(f"Stopped; {total} notifications sent.")

    def _pass(self) -> int:
        try:
            return api.deliver_order_changes()
        except applications.NotificationError as exc:
            # Nothing moved: the same changes are sent on the next pass.
            self.stderr.write(str(exc))
            return 0
