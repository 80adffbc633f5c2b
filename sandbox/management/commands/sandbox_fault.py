"""Inject or clear faults per endpoint group."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import api, faults


class Command(BaseCommand):
    help = "Set a fault: sandbox_fault orders http500 | sandbox_fault token slow --delay 5 | sandbox_fault --clear"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", nargs="?", choices=faults.ENDPOINTS)
        parser.add_argument("kind", nargs="?", choices=faults.KINDS)
        parser.add_argument("--delay", type=float, default=None, help="Seconds, for slow and timeout")
        parser.add_argument("--clear", action="store_true", help="Remove every fault")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clear"]:
            api.clear_faults()
        elif options["endpoint"] and options["kind"]:
            try:
                api.set_fault(options["endpoint"], options["kind"], options["delay"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        elif options["endpoint"] or options["kind"]:
            raise CommandError("Give both an endpoint and a fault kind, or --clear.")
        current = faults.all_faults()
        if not current:
            self.stdout.write("No faults.")
        for endpoint, fault in current.items():
            self.stdout.write(f"{endpoint}: {fault['kind']} (delay {fault.get('delay', 0)} s)")
