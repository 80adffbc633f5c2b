"""Create or list simulated sellers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amazon import marketplaces
from sandbox import api, catalog
from sandbox.models import SandboxSeller


class Command(BaseCommand):
    help = (
        "List simulated Amazon sellers, or create one: sandbox_seller create NAME --region NA --sites US,CA"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "create"], nargs="?", default="list")
        parser.add_argument("name", nargs="?", help="Seller name (create)")
        parser.add_argument("--region", default="NA", choices=marketplaces.REGION_CODES)
        parser.add_argument(
            "--sites", default="", help="Comma-separated site codes, e.g. US,CA (default: first)"
        )
        parser.add_argument("--orders-per-day", type=int, default=4, help="Per marketplace")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            if not options["name"]:
                raise CommandError("Give the seller a name.")
            ids = []
            for site in filter(None, (s.strip().upper() for s in options["sites"].split(","))):
                if site not in marketplaces.BY_SITE:
                    raise CommandError(f"Unknown site {site}.")
                ids.append(marketplaces.BY_SITE[site].marketplace_id)
            try:
                seller = api.create_seller(
                    options["name"], options["region"], ids or None, options["orders_per_day"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Created {seller.name}: {seller.selling_partner_id} ({seller.region})")
            return
        for seller in SandboxSeller.objects.all():
            sites = ",".join(m.site for m in map(catalog.marketplace, seller.marketplace_ids) if m)
            self.stdout.write(f"{seller.selling_partner_id}  {seller.region}  {sites:<12} {seller.name}")
