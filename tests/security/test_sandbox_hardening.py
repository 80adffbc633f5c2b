"""The sandbox under attack over HTTP: the control page's access, bounded control inputs, a clock that cannot
overflow, the runtime refusal outside development, the admin never showing client secrets, and NUL bytes.

Tests run with DEBUG=true in the environment, so SANDBOX_ACTIVE and SANDBOX_CONTROL_OPEN are on; the refusals are
tested with override_settings (request time) and in a subprocess with production settings (settings time).
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory, TestCase, override_settings
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.models import User
from sandbox import api, clock, faults, services
from sandbox.models import (
    SandboxAppAuthorization,
    SandboxApplication,
    SandboxConfig,
    SandboxListing,
    SandboxSeller,
)
from tests.base import PASSWORD
from tests.sandbox.helpers import (
    ADS_CALLBACK,
    CALLBACK,
    US,
    ads_app,
    connect,
    consent_url,
    new_seller,
    orders_app,
)
from tests.security.routes import all_routes, generic_url

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/sandbox/na/auth/o2/token"
PARTICIPATIONS_URL = "/sandbox/na/sp/sellers/v1/marketplaceParticipations"
NUL = "\x00"


def sandbox_routes() -> list[Any]:
    return [r for r in all_routes() if r.route.startswith("sandbox/")]


def control_route_names() -> set[str]:
    return {r.name for r in sandbox_routes() if r.name == "sandbox:control" or "control_" in r.name}


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def ads_authorize_url(**overrides: str) -> str:
    params = {
        "client_id": ads_app()["client_id"],
        "scope": services.ADS_SCOPE,
        "response_type": "code",
        "redirect_uri": ADS_CALLBACK,
        "state": "s",
        **overrides,
    }
    return f"/sandbox/na/ap/oa?{urlencode(params)}"


class SandboxTestCase(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Hardening Seller", marketplace_ids=[US])
        self.tokens = connect(self.client, self.seller)
        self.auth = SandboxAppAuthorization.objects.get(seller=self.seller)
        self.staff = User.objects.create_user(email="staff@example.org", password=PASSWORD, is_staff=True)
        self.member = User.objects.create_user(email="member@example.org", password=PASSWORD)

    def as_user(self, user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    def control_urls(self) -> dict[str, str]:
        """name → URL of every control route, filled with real objects."""
        app = SandboxApplication.objects.get(application_id=orders_app()["app_id"])
        urls = {
            "sandbox:control": reverse("sandbox:control"),
            "sandbox:control_revoke": reverse("sandbox:control_revoke", args=[self.auth.pk]),
            "sandbox:control_expire": reverse("sandbox:control_expire", args=[self.auth.pk]),
            "sandbox:control_create_seller": reverse("sandbox:control_create_seller"),
            "sandbox:control_faults": reverse("sandbox:control_faults"),
            "sandbox:control_time_scale": reverse("sandbox:control_time_scale"),
            "sandbox:control_appstore": reverse("sandbox:control_appstore", args=[self.seller.pk, app.pk]),
        }
        self.assertEqual(set(urls), control_route_names(), "a control route is missing from this test")
        return urls


HOSTILE_CONTROL_POST = {
    "name": "Intruder Seller",
    "region": "NA",
    "orders_per_day": "5",
    "time_scale": "5000",
    **{f"kind_{e}": "http500" for e in faults.ENDPOINTS},
}


@override_settings(SANDBOX_CONTROL_OPEN=False)
class ControlAccessTests(SandboxTestCase):
    def assert_untouched(self) -> None:
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status(api.now()), "active")
        self.assertFalse(SandboxSeller.objects.filter(name="Intruder Seller").exists())
        self.assertEqual(faults.all_faults(), {})
        self.assertEqual(clock.config().time_scale, 0)

    def test_anonymous_users_are_sent_to_the_portal_login_with_next(self) -> None:
        client = self.as_user(None)
        login = reverse("account_login")
        for name, url in self.control_urls().items():
            for method in ("get", "post"):
                with self.subTest(name=name, method=method):
                    r = client.get(url) if method == "get" else client.post(url, HOSTILE_CONTROL_POST)
                    self.assertEqual(r.status_code, 302)
                    location = urlsplit(r["Location"])
                    self.assertEqual(location.path, login)
                    # A GET comes back to itself; a POST-only action comes back to the control page.
                    expected = url if method == "get" else reverse("sandbox:control")
                    self.assertEqual(parse_qs(location.query), {"next": [expected]})
        self.assert_untouched()

    def test_logged_in_users_who_are_not_staff_get_403(self) -> None:
        client = self.as_user(self.member)
        for name, url in self.control_urls().items():
            for method in ("get", "post"):
                with self.subTest(name=name, method=method):
                    r = client.get(url) if method == "get" else client.post(url, HOSTILE_CONTROL_POST)
                    self.assertEqual(r.status_code, 403)
                    self.assertNotContains(r, "Hardening Seller", status_code=403)
        self.assert_untouched()

    def test_staff_can_use_the_control_page(self) -> None:
        client = self.as_user(self.staff)
        r = client.get(reverse("sandbox:control"))
        self.assertContains(r, "Manage your apps")
        self.assertContains(r, "Hardening Seller")
        r = client.post(reverse("sandbox:control_revoke", args=[self.auth.pk]))
        self.assertRedirects(r, reverse("sandbox:control"))
        self.auth.refresh_from_db()
        self.assertIsNotNone(self.auth.revoked_at)

    def test_amazons_public_pages_and_apis_stay_public(self) -> None:
        client = self.as_user(None)
        self.assertContains(client.get(consent_url(orders_app()["app_id"])), "I understand")
        self.assertContains(client.get(ads_authorize_url()), "Hardening Seller")
        r = client.get(
            reverse("sandbox:appstore_confirm", args=["sellercentral.amazon.com", orders_app()["app_id"]]),
            {"redirect_uri": CALLBACK, "amazon_state": "unknown", "state": "s"},
        )
        self.assertContains(r, "MD9100", status_code=400)  # Amazon's answer, not a login redirect
        r = client.post(
            TOKEN_URL,
            {
                "grant_type": "refresh_token",
                "refresh_token": self.tokens["refresh_token"],
                "client_id": orders_app()["client_id"],
                "client_secret": orders_app()["client_secret"],
            },
        )
        self.assertEqual(r.status_code, 200)
        r = client.get(PARTICIPATIONS_URL, HTTP_X_AMZ_ACCESS_TOKEN=r.json()["access_token"])
        self.assertEqual(r.status_code, 200)


class ControlInputTests(SandboxTestCase):
    """Every control input is bounded: a clear error on the control page, nothing stored, never a 500."""

    def setUp(self) -> None:
        super().setUp()
        api.set_time_scale(7)

    def post(self, name: str, data: dict[str, Any], *args: Any) -> Any:
        r = Client().post(reverse(name, args=args), data)  # a new client: only this request's messages
        self.assertEqual(r.status_code, 302, r.content[:300])
        self.assertEqual(r["Location"], reverse("sandbox:control"))
        return r

    def test_bad_time_scales_are_refused_with_a_message(self) -> None:
        for raw in [
            "1e308",
            "1e10",
            "10000.5",
            "inf",
            "-inf",
            "nan",
            "-1",
            "0.001",
            "abc",
            "",
            "  ",
            "9" * 5000,
        ]:
            with self.subTest(raw=raw[:20]):
                r = self.post("sandbox:control_time_scale", {"time_scale": raw})
                self.assertEqual(messages_of(r), [clock.SCALE_RULE])
                self.assertEqual(clock.config().time_scale, 7)
        self.assertEqual(self.client.get(reverse("sandbox:control")).status_code, 200)

    def test_the_bounds_themselves_and_zero_are_accepted(self) -> None:
        for raw, value in [("0.01", 0.01), ("10000", 10000.0), ("0", 0.0), (" 60 ", 60.0)]:
            with self.subTest(raw=raw):
                self.post("sandbox:control_time_scale", {"time_scale": raw})
                self.assertEqual(clock.config().time_scale, value)

    def test_bad_fault_values_are_refused_and_no_row_is_saved(self) -> None:
        form = {f"kind_{e}": "none" for e in faults.ENDPOINTS}
        bad_rows = [
            {"kind_orders": "slow", "delay_orders": "1e308"},
            {"kind_orders": "slow", "delay_orders": "inf"},
            {"kind_orders": "slow", "delay_orders": "nan"},
            {"kind_orders": "slow", "delay_orders": "-1"},
            {"kind_orders": "slow", "delay_orders": "121"},
            {"kind_orders": "slow", "delay_orders": "abc"},
            {"kind_orders": "slow", "delay_orders": "1" * 5000},
            {"kind_orders": "meltdown"},
            {"kind_orders": "x" * 10000},
        ]
        for row in bad_rows:
            with self.subTest(row={k: v[:20] for k, v in row.items()}):
                # The token row is valid: it must not be saved either when another row is refused.
                r = self.post("sandbox:control_faults", {**form, "kind_token": "http500", **row})
                (message,) = messages_of(r)
                self.assertLess(len(message), 200)
                self.assertEqual(faults.all_faults(), {})
        self.post("sandbox:control_faults", {**form, "kind_orders": "slow", "delay_orders": "120"})
        self.assertEqual(faults.get("orders"), {"kind": "slow", "delay": 120.0})

    def test_the_python_api_is_bounded_too(self) -> None:
        for scale in (1e308, math.inf, math.nan, -1, 0.001, 10001):
            with self.subTest(scale=scale), self.assertRaises(ValueError):
                api.set_time_scale(scale)
        for delay in (1e308, math.inf, math.nan, -1, 121):
            with self.subTest(delay=delay), self.assertRaises(ValueError):
                api.set_fault("orders", "slow", delay)
        for seconds in (math.inf, math.nan, 1e308, -1):
            with self.subTest(seconds=seconds), self.assertRaises(ValueError):
                api.advance_clock(seconds)
        with self.assertRaises(ValueError):
            api.create_seller("x" * 201, "NA")
        with self.assertRaises(ValueError):
            api.create_seller("Fine", "NA", orders_per_day=10**6)

    def test_bad_seller_values_are_refused_and_no_seller_is_created(self) -> None:
        good = {"name": "New Seller", "region": "NA", "orders_per_day": "3", "marketplaces": [US]}
        bad_values: list[dict[str, Any]] = [
            {"name": ""},
            {"name": "   "},
            {"name": "x" * 201},
            {"name": "x" * 100_000},
            {"name": "Tab\tseller"},
            {"orders_per_day": "-1"},
            {"orders_per_day": "501"},
            {"orders_per_day": "1e3"},
            {"orders_per_day": "4.5"},
            {"orders_per_day": "abc"},
            {"orders_per_day": "9" * 5000},
            {"region": "XX"},
            {"region": "NA" * 5000},
            {"marketplaces": [US] * 100},
        ]
        before = SandboxSeller.objects.count()
        for values in bad_values:
            with self.subTest(values={k: str(v)[:20] for k, v in values.items()}):
                r = self.post("sandbox:control_create_seller", {**good, **values})
                (message,) = messages_of(r)
                self.assertLess(len(message), 200)
                self.assertEqual(SandboxSeller.objects.count(), before)
        self.post("sandbox:control_create_seller", {**good, "name": "x" * 200, "orders_per_day": "500"})
        self.assertEqual(SandboxSeller.objects.get(name="x" * 200).orders_per_day, 500)

    def test_out_of_range_ids_are_404_not_500(self) -> None:
        huge = 10**25
        app = SandboxApplication.objects.first()
        assert app is not None
        for name, args in [
            ("sandbox:control_revoke", [huge]),
            ("sandbox:control_expire", [huge]),
            ("sandbox:control_appstore", [huge, app.pk]),
            ("sandbox:control_appstore", [self.seller.pk, huge]),
        ]:
            with self.subTest(name=name, args=args):
                self.assertEqual(self.client.post(reverse(name, args=args)).status_code, 404)

    def test_the_consent_page_bounds_the_seller_it_creates_and_picks(self) -> None:
        url = consent_url(orders_app()["app_id"])
        before = SandboxSeller.objects.count()
        for data in [
            {"seller": "new", "new_name": "x" * 201},
            {"seller": "new", "new_name": "Fine", "new_marketplaces": ["nope"] * 100},
            {"seller": "A" * 10_000},
        ]:
            with self.subTest(data={k: str(v)[:20] for k, v in data.items()}):
                r = self.client.post(url, {**data, "understand": "1", "action": "confirm"})
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, 'class="error"')
                self.assertEqual(SandboxSeller.objects.count(), before)

    def test_oversized_or_malformed_redirect_uris_are_refused(self) -> None:
        long_uri = CALLBACK + "?x=" + "a" * 2100
        for uri in (long_uri, "http://[::1/amazon/callback/"):
            with self.subTest(uri=uri[:40]):
                r = self.client.get(consent_url(orders_app()["app_id"], redirect_uri=uri))
                self.assertContains(r, "MD5101", status_code=400)
                r = self.client.get(ads_authorize_url(redirect_uri=uri))
                self.assertContains(r, "invalid_request", status_code=400)

    def test_listings_patch_bounds_sku_and_product_type(self) -> None:
        from sandbox import spapi

        token = connect(self.client, self.seller, api_app("listings"))["access_token"]
        body = {
            "productType": "PRODUCT",
            "patches": [
                {"op": "replace", "path": "/attributes/fulfillment_availability", "value": [{"quantity": 3}]}
            ],
        }

        def patch(sku: str, data: dict[str, Any]) -> Any:
            return self.client.patch(
                f"/sandbox/na/sp/listings/2021-08-01/items/{self.seller.selling_partner_id}/{sku}"
                f"?marketplaceIds={US}",
                data=json.dumps(data),
                content_type="application/json",
                HTTP_X_AMZ_ACCESS_TOKEN=token,
            )

        self.assertEqual(patch("S" * (spapi.MAX_SKU + 1), body).status_code, 400)
        self.assertEqual(patch("SKU-1", {**body, "productType": "P" * 101}).status_code, 400)
        self.assertEqual(patch("SKU-1", {**body, "productType": "PRO\x00DUCT"}).status_code, 400)
        self.assertFalse(SandboxListing.objects.exists())
        self.assertEqual(patch("S" * spapi.MAX_SKU, body).status_code, 200)


def api_app(capability: str) -> dict[str, Any]:
    from django.conf import settings

    app: dict[str, Any] = settings.AMAZON_SPAPI_APPS[capability]
    return app


class StoredBadValuesTests(SandboxTestCase):
    """A bad value already in the database (an older version, a hand edit) must not turn every page into a 500."""

    def pages(self) -> dict[str, Any]:
        client = Client()
        refresh = client.post(
            TOKEN_URL,
            {
                "grant_type": "refresh_token",
                "refresh_token": self.tokens["refresh_token"],
                "client_id": orders_app()["client_id"],
                "client_secret": orders_app()["client_secret"],
            },
        )
        return {
            "control": client.get(reverse("sandbox:control")),
            "consent": client.get(consent_url(orders_app()["app_id"])),
            "token": refresh,
            "participations": client.get(
                PARTICIPATIONS_URL, HTTP_X_AMZ_ACCESS_TOKEN=self.tokens["access_token"]
            ),
        }

    def test_an_out_of_range_time_scale_in_the_database_is_clamped(self) -> None:
        hour_ago = timezone.now() - timedelta(hours=1)
        for scale in (1e308, 1e10, math.inf, -5.0, 1e-300):
            with self.subTest(scale=scale):
                SandboxConfig.objects.filter(pk=1).update(
                    time_scale=scale, anchor_real=hour_ago, anchor_virtual=timezone.now()
                )
                for name, response in self.pages().items():
                    self.assertLess(response.status_code, 500, name)
                    if (
                        name == "token"
                    ):  # a year of virtual time may have passed: invalid_grant, in LWA's shape
                        self.assertIn(response.status_code, (200, 400))
                        self.assertTrue("access_token" in response.json() or response.json()["error"])
                self.assertLessEqual(api.now(), clock.MAX_VIRTUAL)
                self.assertTrue(0 <= clock.config().time_scale <= clock.MAX_SCALE)

    def test_the_clock_saturates_instead_of_overflowing(self) -> None:
        SandboxConfig.objects.filter(pk=1).update(
            time_scale=clock.MAX_SCALE,
            anchor_real=timezone.now() - timedelta(days=3650),
            anchor_virtual=timezone.now(),
        )
        self.assertEqual(api.now(), clock.MAX_VIRTUAL)
        for name, response in self.pages().items():
            self.assertLess(response.status_code, 500, name)
        # Setting the scale and advancing from the saturated clock stay within range as well.
        api.set_time_scale(1)
        self.assertEqual(api.advance_clock(clock.MAX_ADVANCE_SECONDS), clock.MAX_VIRTUAL)

    def test_the_stored_scale_is_clamped_when_read(self) -> None:
        self.assertEqual(clock.clamp_scale(math.nan), 1.0)
        self.assertEqual(clock.clamp_scale(math.inf), clock.MAX_SCALE)
        self.assertEqual(clock.clamp_scale(-1), 0.0)
        self.assertEqual(clock.clamp_scale(1e-9), clock.MIN_SCALE)
        self.assertEqual(clock.clamp_scale("junk"), 1.0)

    def test_garbage_faults_in_the_database_are_ignored(self) -> None:
        SandboxConfig.objects.filter(pk=1).update(
            faults={"orders": "junk", "token": {"kind": "bogus"}, "nowhere": {"kind": "http500"}, "ads": [1]}
        )
        self.assertEqual(faults.all_faults(), {})
        for name, response in self.pages().items():
            self.assertLess(response.status_code, 400 if name != "token" else 500, name)
        SandboxConfig.objects.filter(pk=1).update(faults=["not", "a", "dict"])
        self.assertEqual(self.client.get(reverse("sandbox:control")).status_code, 200)
        # A delay out of bounds is brought back into them (a 1e308 s sleep would raise OverflowError).
        SandboxConfig.objects.filter(pk=1).update(faults={"sellers": {"kind": "slow", "delay": "abc"}})
        r = self.client.get(PARTICIPATIONS_URL, HTTP_X_AMZ_ACCESS_TOKEN=self.tokens["access_token"])
        self.assertEqual(r.status_code, 200)


class InactiveSandboxTests(SandboxTestCase):
    def test_every_sandbox_route_is_404_when_the_sandbox_is_not_active(self) -> None:
        routes = sandbox_routes()
        self.assertGreaterEqual(len(routes), 15)
        staff = self.as_user(self.staff)
        for route in routes:
            url = generic_url(route)
            for client in (self.client, staff):
                for method in ("get", "post", "patch"):
                    with self.subTest(url=url, method=method), self.settings(SANDBOX_ACTIVE=False):
                        self.assertEqual(getattr(client, method)(url).status_code, 404)
        with self.settings(SANDBOX_ACTIVE=False):
            r = self.client.post(reverse("sandbox:control_revoke", args=[self.auth.pk]))
            self.assertEqual(r.status_code, 404)
            r = self.client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": "x"})
            self.assertEqual(r.status_code, 404)
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status(api.now()), "active")

    def test_every_sandbox_route_goes_through_the_guard(self) -> None:
        for route in sandbox_routes():
            with self.subTest(route=str(route)):
                self.assertTrue(getattr(route.callback, "sandbox_guarded", False))


def settings_in_subprocess(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "SANDBOX_", "AMAZON_", "SPAPI_", "ADS_", "SECRET_KEY", "ALLOWED_HOSTS"))
    }
    clean.update(
        {
            "DJANGO_READ_DOT_ENV": "0",
            "DATABASE_URL": "sqlite:///:memory:",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "portal.example.com",
            "PUBLIC_BASE_URL": "https://portal.example.com",
            "TOKEN_ENCRYPTION_KEYS": "ZGV2LW9ubHktaW5zZWN1cmUtZmVybmV0LWtleS0zMmI=",
            **env,
        }
    )
    script = "import django; django.setup()\nfrom django.conf import settings\n" + code
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


RESOLVES_SANDBOX = """
from django.urls import Resolver404, resolve
try:
    resolve("/sandbox/na/auth/o2/token")
    mounted = True
except Resolver404:
    mounted = False
print(settings.SANDBOX_ACTIVE, settings.SANDBOX_CONTROL_OPEN, mounted)
"""


def test_production_settings_do_not_mount_the_sandbox_even_when_enabled() -> None:
    r = settings_in_subprocess(RESOLVES_SANDBOX, DEBUG="false", SANDBOX_ENABLED="true")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False", "False"]


def test_a_demo_host_mounts_the_sandbox_with_a_staff_only_control_page() -> None:
    r = settings_in_subprocess(
        RESOLVES_SANDBOX, DEBUG="false", SANDBOX_ENABLED="true", SANDBOX_ALLOWED_IN_PRODUCTION="true"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "False", "True"]


def test_development_mounts_the_sandbox_with_an_open_control_page() -> None:
    r = settings_in_subprocess(RESOLVES_SANDBOX, DEBUG="true")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True", "True"]
    r = settings_in_subprocess(RESOLVES_SANDBOX, DEBUG="true", SANDBOX_CONTROL_OPEN="false")
    assert r.stdout.split() == ["True", "False", "True"]


def test_an_out_of_range_sandbox_time_scale_in_the_environment_refuses_to_start() -> None:
    for raw in ("1e308", "1e10", "inf", "nan", "-1", "0.001", "abc", "1,5"):
        r = settings_in_subprocess("print(settings.SANDBOX_TIME_SCALE)", DEBUG="true", SANDBOX_TIME_SCALE=raw)
        assert r.returncode != 0, raw
        assert "SANDBOX_TIME_SCALE must be 0 (frozen) or a number from 0.01 to 10000" in r.stderr, raw
    r = settings_in_subprocess("print(settings.SANDBOX_TIME_SCALE)", DEBUG="true", SANDBOX_TIME_SCALE="10000")
    assert r.stdout.strip() == "10000.0", r.stderr


class AdminSecretTests(SandboxTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.root = User.objects.create_superuser("root@example.org", PASSWORD)
        self.admin = self.as_user(self.root)
        self.app = SandboxApplication.objects.get(application_id=orders_app()["app_id"])
        self.secret = self.app.client_secret
        self.assertTrue(self.secret)

    def test_the_changelist_and_change_page_never_show_the_client_secret(self) -> None:
        urls = [
            reverse("admin:sandbox_sandboxapplication_changelist"),
            reverse("admin:sandbox_sandboxapplication_changelist") + "?q=sandbox",
            reverse("admin:sandbox_sandboxapplication_change", args=[self.app.pk]),
            reverse("admin:sandbox_sandboxapplication_history", args=[self.app.pk]),
            reverse("admin:sandbox_sandboxapplication_delete", args=[self.app.pk]),
            reverse("admin:sandbox_sandboxapplication_add"),
        ]
        for url in urls:
            with self.subTest(url=url):
                page = self.admin.get(url)
                self.assertEqual(page.status_code, 200)
                self.assertNotContains(page, self.secret)
        self.assertContains(
            self.admin.get(reverse("admin:sandbox_sandboxapplication_change", args=[self.app.pk])),
            'name="new_client_secret"',
        )

    def change_form(self, **changes: str) -> dict[str, str]:
        return {
            "application_id": self.app.application_id,
            "kind": self.app.kind,
            "name": self.app.name,
            "developer": self.app.developer,
            "client_id": self.app.client_id,
            "redirect_uris": json.dumps(self.app.redirect_uris),
            "login_path": self.app.login_path,
            **changes,
        }

    def test_the_secret_is_write_only(self) -> None:
        url = reverse("admin:sandbox_sandboxapplication_change", args=[self.app.pk])
        r = self.admin.post(url, self.change_form(name="Renamed", client_secret="ignored"))
        self.assertEqual(r.status_code, 302, r.content[:2000])
        self.app.refresh_from_db()
        self.assertEqual((self.app.name, self.app.client_secret), ("Renamed", self.secret))
        self.admin.post(url, self.change_form(new_client_secret="replaced-secret"))
        self.app.refresh_from_db()
        self.assertEqual(self.app.client_secret, "replaced-secret")
        self.assertNotContains(self.admin.get(url), "replaced-secret")

    def test_a_new_application_needs_a_secret(self) -> None:
        url = reverse("admin:sandbox_sandboxapplication_add")
        form = self.change_form(application_id="new-app", client_id="new-client")
        r = self.admin.post(url, form)
        self.assertEqual(r.status_code, 200)
        self.assertFalse(SandboxApplication.objects.filter(application_id="new-app").exists())
        self.admin.post(url, {**form, "new_client_secret": "s3cret"})
        self.assertEqual(SandboxApplication.objects.get(application_id="new-app").client_secret, "s3cret")

    def test_an_application_without_a_secret_never_authenticates(self) -> None:
        SandboxApplication.objects.filter(pk=self.app.pk).update(client_secret="")
        with override_settings(AMAZON_SPAPI_APPS={}, AMAZON_ADS_APP={}):  # no re-sync from the settings
            r = self.client.post(
                TOKEN_URL,
                {
                    "grant_type": "refresh_token",
                    "refresh_token": self.tokens["refresh_token"],
                    "client_id": self.app.client_id,
                    "client_secret": "",
                },
            )
        self.assertEqual(r.status_code, 401)


class NulByteTests(SandboxTestCase):
    """A NUL in any parameter is a clear 400 (PostgreSQL cannot take NUL in text, so it would end in a 500).

    Over HTTP the portal's global middleware (config/middleware.py) may refuse first, with its own 400 page; the
    sandbox's guard refuses by itself as well, in each endpoint's own format, which `direct` checks by calling the
    resolved view without the middleware stack.
    """

    factory = RequestFactory()

    def direct(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        request = getattr(self.factory, method)(path, data, **extra)
        request.user = AnonymousUser()
        request._dont_enforce_csrf_checks = True
        match = resolve(request.path_info)
        return match.func(request, *match.args, **match.kwargs)

    def token_form(self, **changes: str) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "refresh_token": self.tokens["refresh_token"],
            "client_id": orders_app()["client_id"],
            "client_secret": orders_app()["client_secret"],
            **changes,
        }

    def assert_lwa_400(self, response: Any) -> None:
        self.assertEqual(response.status_code, 400)
        body = json.loads(response.content)
        self.assertEqual(body["error"], "invalid_request")
        self.assertIn("NUL", body["error_description"])

    def test_the_token_endpoint(self) -> None:
        cases = [
            {"code": "AN" + NUL, "grant_type": "authorization_code", "redirect_uri": CALLBACK},
            {"refresh_token": self.tokens["refresh_token"] + NUL},
            {"client_id": NUL + orders_app()["client_id"]},
            {"client_secret": NUL},
            {"grant_type": "authorization_code", "code": "AN", "redirect_uri": CALLBACK + NUL},
            {"grant_type": "refresh" + NUL},
        ]
        for changes in cases:
            with self.subTest(changes=changes):
                self.assertEqual(self.client.post(TOKEN_URL, self.token_form(**changes)).status_code, 400)
                self.assert_lwa_400(self.direct("post", TOKEN_URL, self.token_form(**changes)))
                # A JSON body (which LWA accepts too) is the sandbox's own to refuse.
                r = self.client.post(
                    TOKEN_URL, json.dumps(self.token_form(**changes)), content_type="application/json"
                )
                self.assert_lwa_400(r)
        basic = base64.b64encode(f"{orders_app()['client_id']}{NUL}:x".encode()).decode()
        r = self.client.post(
            TOKEN_URL,
            {"grant_type": "refresh_token", "refresh_token": self.tokens["refresh_token"]},
            HTTP_AUTHORIZATION=f"Basic {basic}",
        )
        self.assert_lwa_400(r)
        self.assertEqual(self.client.post(TOKEN_URL, self.token_form()).status_code, 200)

    def test_the_consent_page(self) -> None:
        app_id = orders_app()["app_id"]
        for url in (
            consent_url(app_id, state="st" + NUL),
            consent_url(app_id + NUL),
            consent_url(app_id, redirect_uri=CALLBACK + NUL),
        ):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 400)
                self.assertContains(self.direct("get", url), "NUL character", status_code=400)
        before = SandboxSeller.objects.count()
        for data in (
            {"seller": "new", "new_name": "Nul" + NUL},
            {"seller": self.seller.selling_partner_id + NUL},
            {"seller": "new", "new_name": "Fine", "new_marketplaces": US + NUL},
        ):
            with self.subTest(data=data):
                form = {**data, "understand": "1", "action": "confirm"}
                self.assertEqual(self.client.post(consent_url(app_id), form).status_code, 400)
                self.assertContains(self.direct("post", consent_url(app_id), form), "NUL", status_code=400)
        self.assertEqual(SandboxSeller.objects.count(), before)
        self.assertEqual(self.client.get(consent_url(app_id)).status_code, 200)

    def test_the_ads_authorize_page(self) -> None:
        for changes in ({"client_id": ads_app()["client_id"] + NUL}, {"state": NUL}, {"scope": NUL}):
            with self.subTest(changes=changes):
                self.assertEqual(self.client.get(ads_authorize_url(**changes)).status_code, 400)
                r = self.direct("get", ads_authorize_url(**changes))
                self.assertContains(r, "NUL character", status_code=400)
        self.assertEqual(self.client.get(ads_authorize_url()).status_code, 200)

    def test_the_appstore_confirm_page_and_the_control_forms(self) -> None:
        confirm = reverse(
            "sandbox:appstore_confirm", args=["sellercentral.amazon.com", orders_app()["app_id"]]
        )
        params = {"redirect_uri": CALLBACK, "amazon_state": NUL, "state": "s"}
        self.assertEqual(self.client.get(confirm, params).status_code, 400)
        self.assertContains(self.direct("get", confirm, params), "NUL", status_code=400)
        for name, data in [
            ("sandbox:control_create_seller", {"name": "A" + NUL, "region": "NA"}),
            ("sandbox:control_time_scale", {"time_scale": "1" + NUL}),
            ("sandbox:control_faults", {"kind_orders": "slow", "delay_orders": NUL}),
        ]:
            with self.subTest(name=name):
                self.assertEqual(self.client.post(reverse(name), data).status_code, 400)
                self.assertEqual(self.direct("post", reverse(name), data).status_code, 400)

    def test_the_sp_api_and_ads_api(self) -> None:
        access = self.tokens["access_token"]
        # Headers are not the global middleware's: the sandbox refuses them in the SP-API's error shape.
        r = self.client.get(PARTICIPATIONS_URL, HTTP_X_AMZ_ACCESS_TOKEN=access + NUL)
        self.assertEqual((r.status_code, r.json()["errors"][0]["code"]), (400, "InvalidInput"))
        r = self.client.get("/sandbox/na/ads/v2/profiles", HTTP_AUTHORIZATION=f"Bearer x{NUL}")
        self.assertEqual((r.status_code, r.json()["code"]), (400, "BAD_REQUEST"))
        order_url = f"/sandbox/na/sp/orders/2026-01-01/orders/123{NUL}"
        self.assertEqual(self.client.get(order_url, HTTP_X_AMZ_ACCESS_TOKEN=access).status_code, 400)
        r = self.direct("get", order_url, HTTP_X_AMZ_ACCESS_TOKEN=access)
        self.assertEqual((r.status_code, json.loads(r.content)["errors"][0]["code"]), (400, "InvalidInput"))
        search = (
            "/sandbox/na/sp/orders/2026-01-01/orders",
            {"marketplaceIds": US + NUL, "createdAfter": "2025-01-01"},
        )
        self.assertEqual(self.client.get(*search, HTTP_X_AMZ_ACCESS_TOKEN=access).status_code, 400)
        self.assertEqual(self.direct("get", *search, HTTP_X_AMZ_ACCESS_TOKEN=access).status_code, 400)
        self.assertEqual(self.client.get(PARTICIPATIONS_URL, HTTP_X_AMZ_ACCESS_TOKEN=access).status_code, 200)
