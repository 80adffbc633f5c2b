"""Demo data for the README's first command: a demo distributor login, a staff login and a few stores. Idempotent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Membership, Tenant, User
from authorizations.store_actions import create_store
from stores.models import Store

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-2026"
STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "staff-password-2026"
DEMO_STORES = [
    ("US main store", "NA", ["US", "CA", "MX"]),
    ("Europe store", "EU", ["UK", "DE", "FR"]),
    ("Japan store", "FE", ["JP"]),
]


class Command(BaseCommand):
    help = (
        "Create the demo login, a staff login, demo stores and (with the sandbox) simulated Amazon sellers."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, first_name="Demo")
            Tenant.create_for_owner(user, "Demo Distributor Co.")
        membership = Membership.objects.select_related("tenant").filter(user=user).first()
        assert membership is not None
        for nickname, region, sites in DEMO_STORES:
            if not Store.objects.filter(tenant=membership.tenant, nickname=nickname).exists():
                create_store(
                    None, membership, nickname=nickname, region=region, sites=sites, initial_order_date=None
                )
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(STAFF_EMAIL, STAFF_PASSWORD)
        if settings.SANDBOX_ENABLED:
            from sandbox import api as sandbox_api

            sandbox_api.seed_demo()
        self.stdout.write(
            f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}; staff: {STAFF_EMAIL} / {STAFF_PASSWORD}"
        )
