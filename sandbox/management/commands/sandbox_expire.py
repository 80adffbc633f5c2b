"""Let an app authorization lapse now, as if its 365 days were over."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import api
from sandbox.models import SandboxAppAuthorization


class Command(BaseCommand):
    help = "Expire a simulated seller's authorization of an application now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("selling_partner_id")
        parser.add_argument("application", help="Application id or LWA client id")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            api.expire(options["selling_partner_id"], options["application"])
        except (LookupError, SandboxAppAuthorization.DoesNotExist) as exc:
            raise CommandError(f"No such authorization: {exc}") from exc
        self.stdout.write("Expired.")
