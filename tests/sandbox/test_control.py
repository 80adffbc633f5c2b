"""The control page ("Manage your apps"), the management commands and the virtual clock."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

from django.core.management import CommandError, call_command
from django.test import TestCase

from sandbox import api, clock, faults
from sandbox.models import SandboxAppAuthorization, SandboxApplication, SandboxSeller
from tests.sandbox.helpers import US, connect, new_seller, orders_app, refresh


class ControlPageTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Control Seller", marketplace_ids=[US])
        self.tokens = connect(self.client, self.seller)
        self.auth = SandboxAppAuthorization.objects.get(seller=self.seller)

    def test_lists_sellers_with_their_authorizations_dates_and_expiry(self) -> None:
        api.generated_orders(self.seller, [US], api.now() - timedelta(days=2))
        response = self.client.get("/sandbox/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Amazon sandbox (simulated)")
        self.assertContains(response, "Manage your apps")
        self.assertContains(response, "Control Seller")
        self.assertContains(response, self.seller.selling_partner_id)
        self.assertContains(response, "Platform Order Loader")
        self.assertContains(response, self.auth.expires_at.strftime("%Y-%m-%d"))
        self.assertContains(response, "generated order")
        self.assertContains(response, "Revoke")

    def test_lists_each_applications_registered_redirect_uris(self) -> None:
        response = self.client.get("/sandbox/")
        for app in SandboxApplication.objects.all():
            self.assertTrue(app.redirect_uris)
            for uri in app.redirect_uris:
                self.assertContains(response, f"<code>{uri}</code>", html=True)

    def test_revoke_button_revokes_and_the_refresh_token_stops_working(self) -> None:
        response = self.client.post(f"/sandbox/control/authorizations/{self.auth.pk}/revoke")
        self.assertRedirects(response, "/sandbox/")
        self.auth.refresh_from_db()
        self.assertIsNotNone(self.auth.revoked_at)
        self.assertEqual(refresh(self.client, self.tokens["refresh_token"]).json()["error"], "invalid_grant")
        self.assertContains(self.client.get("/sandbox/"), "revoked")

    def test_expire_button_expires_and_the_refresh_token_stops_working(self) -> None:
        self.client.post(f"/sandbox/control/authorizations/{self.auth.pk}/expire")
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status(api.now()), "expired")
        self.assertEqual(refresh(self.client, self.tokens["refresh_token"]).json()["error"], "invalid_grant")

    def test_revoke_needs_a_post(self) -> None:
        self.assertEqual(
            self.client.get(f"/sandbox/control/authorizations/{self.auth.pk}/revoke").status_code, 405
        )

    def test_the_forms_are_csrf_protected(self) -> None:
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        self.assertEqual(
            strict.post(f"/sandbox/control/authorizations/{self.auth.pk}/revoke").status_code, 403
        )

    def test_a_seller_can_be_created(self) -> None:
        self.client.post(
            "/sandbox/control/sellers",
            {
                "name": "Page Seller",
                "region": "EU",
                "orders_per_day": "2",
                "marketplaces": ["A1PA6795UKMFR9", US],
            },
        )
        seller = SandboxSeller.objects.get(name="Page Seller")
        self.assertEqual(seller.region, "EU")
        self.assertEqual(seller.marketplace_ids, ["A1PA6795UKMFR9"])
        self.assertEqual(seller.orders_per_day, 2)

    def test_faults_can_be_set_and_cleared(self) -> None:
        form = {f"kind_{e}": "none" for e in faults.ENDPOINTS}
        self.client.post("/sandbox/control/faults", {**form, "kind_orders": "slow", "delay_orders": "1.5"})
        self.assertEqual(faults.get("orders"), {"kind": "slow", "delay": 1.5})
        self.assertContains(self.client.get("/sandbox/"), 'value="slow" selected')
        self.client.post("/sandbox/control/faults", form)
        self.assertIsNone(faults.get("orders"))

    def test_the_time_scale_can_be_set(self) -> None:
        self.client.post("/sandbox/control/time-scale", {"time_scale": "60"})
        self.assertEqual(clock.config().time_scale, 60)
        response = self.client.post("/sandbox/control/time-scale", {"time_scale": "-1"}, follow=True)
        self.assertContains(response, "must be 0 (frozen) or a number from 0.01 to 10000")
        self.assertEqual(clock.config().time_scale, 60)


class VirtualClockTests(TestCase):
    def test_a_frozen_clock_stands_still(self) -> None:
        api.set_time_scale(0)
        first = api.now()
        time.sleep(0.01)
        self.assertEqual(api.now(), first)

    def test_a_scaled_clock_runs_faster_than_real_time(self) -> None:
        api.set_time_scale(1000)
        first = api.now()
        time.sleep(0.02)
        self.assertGreaterEqual(api.now() - first, timedelta(seconds=15))

    def test_changing_the_scale_never_moves_time_backwards(self) -> None:
        api.set_time_scale(10000)
        time.sleep(0.02)
        ahead = api.now()
        api.set_time_scale(1)
        self.assertGreaterEqual(api.now(), ahead)
        api.set_time_scale(0)
        self.assertGreaterEqual(api.now(), ahead)

    def test_advance_moves_forward_only(self) -> None:
        api.set_time_scale(0)
        start = api.now()
        self.assertEqual(api.advance_clock(90) - start, timedelta(seconds=90))
        with self.assertRaises(ValueError):
            api.advance_clock(-1)
        with self.assertRaises(ValueError):
            api.set_time_scale(-2)


class ApplicationsAndDemoTests(TestCase):
    def test_the_configured_applications_are_known_to_the_sandbox(self) -> None:
        api.seed_demo()
        orders = SandboxApplication.objects.get(application_id=orders_app()["app_id"])
        self.assertEqual(orders.name, "Platform Order Loader")
        self.assertEqual(orders.developer, "Distribution Platform (sandbox)")
        self.assertIn("http://localhost:8000/amazon/callback/", orders.redirect_uris)
        self.assertIn("http://127.0.0.1:8000/amazon/callback/", orders.redirect_uris)
        names = set(SandboxApplication.objects.values_list("name", flat=True))
        self.assertEqual(names, {"Platform Order Loader", "Platform Inventory Sync", "Platform Advertising"})

    def test_seed_demo_is_idempotent_with_two_sellers_per_region(self) -> None:
        first = api.seed_demo()
        again = api.seed_demo()
        self.assertEqual([s.pk for s in first], [s.pk for s in again])
        for region in ("NA", "EU", "FE"):
            self.assertEqual(SandboxSeller.objects.filter(region=region).count(), 2)

    def test_reset_forgets_sellers_but_keeps_the_applications(self) -> None:
        api.seed_demo()
        api.reset()
        self.assertFalse(SandboxSeller.objects.exists())
        self.assertEqual(SandboxApplication.objects.count(), 3)


class ManagementCommandTests(TestCase):
    def run_command(self, *args: str) -> str:
        out = StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    def test_sandbox_seller_creates_and_lists(self) -> None:
        output = self.run_command(
            "sandbox_seller", "create", "CLI Seller", "--region", "EU", "--sites", "DE,FR"
        )
        seller = SandboxSeller.objects.get(name="CLI Seller")
        self.assertIn(seller.selling_partner_id, output)
        self.assertEqual(seller.marketplace_ids, ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"])
        self.assertIn("CLI Seller", self.run_command("sandbox_seller", "list"))
        with self.assertRaises(CommandError):
            self.run_command("sandbox_seller", "create", "Bad", "--region", "EU", "--sites", "US")

    def test_sandbox_revoke_and_expire(self) -> None:
        api.set_time_scale(0)
        seller = new_seller("CLI Auth")
        api.authorize(seller, orders_app()["app_id"])
        self.run_command("sandbox_expire", seller.selling_partner_id, orders_app()["client_id"])
        self.assertEqual(api.authorization(seller, orders_app()["app_id"]).status(api.now()), "expired")
        self.run_command("sandbox_revoke", seller.selling_partner_id, orders_app()["app_id"])
        self.assertEqual(api.authorization(seller, orders_app()["app_id"]).status(api.now()), "revoked")
        with self.assertRaises(CommandError):
            self.run_command("sandbox_revoke", seller.selling_partner_id, "amzn1.sp.solution.none")

    def test_sandbox_fault_sets_and_clears(self) -> None:
        self.assertIn("token: http500", self.run_command("sandbox_fault", "token", "http500"))
        self.run_command("sandbox_fault", "orders", "slow", "--delay", "2")
        self.assertEqual(faults.get("orders"), {"kind": "slow", "delay": 2.0})
        self.assertIn("No faults", self.run_command("sandbox_fault", "--clear"))

    def test_sandbox_time_scale_sets_and_advances(self) -> None:
        self.run_command("sandbox_time_scale", "0")
        before = api.now()
        output = self.run_command("sandbox_time_scale", "--advance", "3600")
        self.assertIn("×0", output)
        self.assertEqual(api.now() - before, timedelta(hours=1))
