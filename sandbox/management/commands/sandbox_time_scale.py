"""Show or change the sandbox's virtual time scale."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import api, clock


class Command(BaseCommand):
    help = "Show or set virtual seconds per real second (0 freezes); --advance moves virtual time forward."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scale", nargs="?", type=float)
        parser.add_argument(
            "--advance", type=float, default=None, help="Seconds to move virtual time forward"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["scale"] is not None:
                api.set_time_scale(options["scale"])
            if options["advance"] is not None:
                api.advance_clock(options["advance"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Time scale ×{clock.config().time_scale:g}; virtual now {api.now().isoformat()}")
