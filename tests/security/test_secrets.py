"""Secrets stay secret after a full authorization: pages, admin, logs, str/repr; headers, cookies, check --deploy."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from typing import Any
from unittest import mock

from django.contrib import admin
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import Membership, User
from authorizations.models import Authorization, AuthorizationAttempt
from sandbox.models import SandboxAccessToken, SandboxRefreshToken
from sync.models import SkuMapping
from tests.authorizations.helpers import FlowTestCase
from tests.base import PASSWORD, BaseTestCase
from tests.config.test_settings import PROD, ROOT
from tests.sandbox_http import sandbox_path
from tests.security.helpers import PORTAL_APPS, captured_logs, portal_rows
from tests.security.routes import (
    PUBLIC_ROUTES,
    Fixtures,
    all_routes,
    generic_url,
    tenant_url,
)
from tests.sync.ship_to_helpers import personal_values, with_role

REFERRER_POLICIES = {"same-origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin"}


class AuthorizedTenantTestCase(FlowTestCase):
    """Order loading, listing sync and advertising authorized through the sandbox, with every log line kept."""

    def setUp(self) -> None:
        super().setUp()
        with captured_logs() as self.flow_logs:
            self.authorize("orders")
            self.authorize("listings")
            attempt = self.begin("ads")
            url = sandbox_path(attempt.consent_url)
            self.assertEqual(self.amazon.get(url).status_code, 200)
            r = self.amazon.post(url, {"seller": self.seller.selling_partner_id, "action": "allow"})
            self.callback(str(r["Location"]))
            # A re-check refreshes tokens again, so more access tokens exist.
            self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"]))
        auths = list(Authorization.objects.filter(store=self.store))
        self.assertEqual({a.capability for a in auths if a.has_token}, {"orders", "listings", "ads"})
        self.secrets: dict[str, str] = {}
        for a in auths:
            self.secrets[f"{a.capability} refresh token"] = a.get_refresh_token()
            self.secrets[f"{a.capability} encrypted refresh token"] = a.refresh_token_encrypted
        for t in SandboxAccessToken.objects.all():
            self.secrets[f"access token {t.pk}"] = t.token
        for t in SandboxRefreshToken.objects.all():
            self.secrets[f"sandbox refresh token {t.pk}"] = t.token
        self.assertGreaterEqual(len([k for k in self.secrets if k.startswith("access token")]), 3)

    def assert_no_secret(self, text: str, where: str) -> None:
        for name, secret in self.secrets.items():
            self.assertTrue(secret)
            self.assertNotIn(secret, text, f"{name} found in {where}")

    def owner_pages(self) -> dict[str, Any]:
        """Every page the owner can GET, each tenant URL filled once per capability."""
        client = Client()
        client.force_login(self.alice)
        membership = Membership.objects.get(user=self.bob, tenant=self.tenant)
        mapping = SkuMapping.objects.create(
            store=self.store, platform_sku="P-1", seller_sku="S-1", marketplace_id="ATVPDKIKX0DER"
        )
        pages: dict[str, Any] = {}
        for capability in ("orders", "listings", "ads"):
            attempt = AuthorizationAttempt.objects.filter(store=self.store, capability=capability).first()
            assert attempt is not None
            fx = Fixtures(
                store_code=str(self.store.code),
                tenant_code=str(self.tenant.code),
                membership_code=str(membership.code),
                attempt_code=str(attempt.code),
                capability=capability,
                sku_mapping_pk=str(mapping.pk),
            )
            for route in all_routes():
                if route.excluded_by or route.is_staff or route.route in PUBLIC_ROUTES:
                    continue
                for action in ("disable", "enable", "revoke"):
                    fx.action = action
                    url = tenant_url(route, fx)
                    if url not in pages:
                        pages[url] = client.get(url)
            url = tenant_url(next(r for r in all_routes() if r.name == "authorizations:attempt"), fx)
            pages[url + "?format=json"] = client.get(url, {"format": "json"})
        return pages


class SecretsInPagesTests(AuthorizedTenantTestCase):
    def test_no_token_appears_in_any_page_the_owner_can_open(self) -> None:
        pages = self.owner_pages()
        self.assertGreater(len([p for p in pages.values() if p.status_code == 200]), 15)
        for url, page in pages.items():
            self.assertLess(page.status_code, 500, url)
            self.assert_no_secret(page.content.decode(), url)

    def test_no_token_appears_in_the_admin_or_the_staff_pages(self) -> None:
        root = User.objects.create_superuser("root@example.org", PASSWORD)
        client = Client()
        client.force_login(root)
        urls = [reverse("admin:index")]
        for model in admin.site._registry:
            if model._meta.app_label not in PORTAL_APPS:
                continue  # the sandbox's admin is the simulated Amazon's console, not the portal's
            prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            urls.append(reverse(f"{prefix}_changelist"))
            for obj in model.objects.all()[:10]:
                urls.append(reverse(f"{prefix}_change", args=[obj.pk]))
                urls.append(reverse(f"{prefix}_history", args=[obj.pk]))
        staff = [generic_url(r) for r in all_routes() if r.is_staff and not r.params]
        names = {u.split("/")[2] for u in urls if u.startswith("/admin/") and u.count("/") > 3}
        self.assertTrue({"stores", "authorizations"} <= names, names)
        for url in urls:
            page = client.get(url)
            self.assertEqual(page.status_code, 200, url)
            self.assert_no_secret(page.content.decode(), url)
        for url in staff:
            page = client.get(url)
            self.assertIn(page.status_code, (200, 405), url)  # 405: a POST-only staff action
            self.assert_no_secret(page.content.decode(), url)
        for model in (Authorization, AuthorizationAttempt):
            prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            for q in ("Atzr", "gAAAA"):
                page = client.get(reverse(f"{prefix}_changelist"), {"q": q})
                self.assert_no_secret(page.content.decode(), f"admin search {q}")

    def test_no_token_appears_in_the_logs_of_the_flow(self) -> None:
        self.assertTrue(self.flow_logs)
        with captured_logs() as page_logs:
            self.owner_pages()
        for line in [*self.flow_logs, *page_logs]:
            self.assert_no_secret(line, f"log line {line[:80]!r}")

    def test_no_token_appears_in_str_or_repr_of_any_portal_object(self) -> None:
        for model, row in portal_rows():
            obj = model.objects.get(pk=row["id"])
            self.assert_no_secret(str(obj), f"str({model.__name__})")
            self.assert_no_secret(repr(obj), f"repr({model.__name__})")

    def test_no_token_is_stored_in_clear_in_any_portal_table(self) -> None:
        clear = {k: v for k, v in self.secrets.items() if "encrypted" not in k}
        for model, row in portal_rows():
            for field, value in row.items():
                for name, secret in clear.items():
                    self.assertNotIn(secret, str(value), f"{name} in {model.__name__}.{field}")

    def test_no_token_appears_in_emails_or_audit_events(self) -> None:
        for message in mail.outbox:
            self.assert_no_secret(message.subject + message.body, "an email")
        from authorizations.models import AuditEvent

        events = list(AuditEvent.objects.all())
        self.assertTrue(events)
        for e in events:
            self.assert_no_secret(f"{e.action} {e.outcome} {e.detail} {e.user_agent}", "an audit event")


@override_settings(ORDER_SYNC_PAGE_SIZE=10, ORDER_SYNC_KEEP_RAW=True)
class ShipToCensusTests(AuthorizedTenantTestCase):
    """The ship-to address (personal data) loaded with the restricted role: found in no page, admin list or detail,
    log line, e-mail, audit event, webhook body, str/repr, and not in clear in any table; erased after 30 days."""

    def setUp(self) -> None:
        self.enterContext(with_role())
        super().setUp()
        from django.utils import timezone

        from sandbox import api as sandbox_api
        from sync import tasks
        from sync.models import Order, OrderSync
        from tests.webhooks.census import make_endpoint

        sandbox_api.set_time_scale(0)
        endpoint = make_endpoint(self.tenant)
        endpoint.events = ["order.created", "order.updated", "order.cancelled"]
        endpoint.save()
        self.store.initial_order_date = (timezone.now() - timedelta(days=3)).date()
        self.store.save(update_fields=["initial_order_date"])
        OrderSync.objects.filter(store=self.store).delete()
        from authorizations.models import Authorization as Auth
        from sync.order_state import prepare

        prepare(Auth.objects.get(store=self.store, capability="orders"))
        with (
            captured_logs() as self.sync_logs,
            mock.patch("webhooks.events.async_task"),
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.orders = list(Order.objects.filter(store=self.store))
        self.assertTrue(self.orders)
        self.assertTrue(all(o.ship_to_personal for o in self.orders))
        self.personal = personal_values(self.orders)

    def assert_no_address(self, text: str, where: str) -> None:
        for value in self.personal:
            self.assertNotIn(value, text, f"a ship-to value found in {where}")

    def test_no_address_in_any_page_admin_list_or_detail(self) -> None:
        for url, page in self.owner_pages().items():
            self.assert_no_address(page.content.decode(), url)
        root = User.objects.create_superuser("root@example.org", PASSWORD)
        client = Client()
        client.force_login(root)
        from sync.models import Order

        prefix = "admin:sync_order"
        urls = [reverse(f"{prefix}_changelist")]
        urls += [reverse(f"{prefix}_change", args=[o.pk]) for o in self.orders[:5]]
        for url in urls:
            page = client.get(url)
            self.assertEqual(page.status_code, 200, url)
            self.assert_no_address(page.content.decode(), url)
        self.assertTrue(Order.objects.exists())

    def test_no_address_in_logs_emails_audit_events_webhook_bodies_or_str(self) -> None:
        from authorizations.models import AuditEvent
        from webhooks.models import Event

        for line in self.sync_logs:
            self.assert_no_address(line, f"log line {line[:80]!r}")
        for message in mail.outbox:
            self.assert_no_address(message.subject + message.body, "an email")
        for e in AuditEvent.objects.all():
            self.assert_no_address(f"{e.action} {e.outcome} {e.detail}", "an audit event")
        events = list(Event.objects.all())
        self.assertTrue(events)
        for event in events:
            self.assert_no_address(json.dumps(event.data), f"webhook {event.type}")
        for model, row in portal_rows():
            obj = model.objects.get(pk=row["id"])
            self.assert_no_address(f"{obj} {obj!r}", f"str({model.__name__})")
            for field, value in row.items():
                self.assert_no_address(str(value), f"{model.__name__}.{field}")

    def test_thirty_days_after_shipment_no_personal_field_is_left(self) -> None:
        import time_machine
        from django.utils import timezone

        from sync import tasks
        from sync.models import Order

        now = timezone.now()
        Order.objects.filter(store=self.store).update(shipped_at=now)
        with time_machine.travel(now + timedelta(days=30, hours=1), tick=False):
            self.assertEqual(tasks.erase_ship_to(), len(self.orders))
        for model, row in portal_rows():
            for field, value in row.items():
                self.assert_no_address(str(value), f"{model.__name__}.{field}")
        self.assertFalse(Order.objects.exclude(ship_to_personal="").exists())
        # Encrypted, so a search in clear finds nothing either: the ciphertext is gone too.
        self.assertTrue(all(o.ship_to_erased_at for o in Order.objects.all()))


class SecurityHeaderTests(BaseTestCase):
    def assert_headers(self, response: Any, where: str) -> None:
        self.assertEqual(response.get("X-Frame-Options"), "DENY", where)
        self.assertEqual(response.get("X-Content-Type-Options"), "nosniff", where)
        self.assertIn(response.get("Referrer-Policy"), REFERRER_POLICIES, where)

    def test_every_page_sends_the_security_headers(self) -> None:
        anonymous = Client()
        checked = [
            (reverse("account_login"), anonymous.get(reverse("account_login"))),
            (reverse("account_signup"), anonymous.get(reverse("account_signup"))),
            (reverse("amazon:callback"), anonymous.get(reverse("amazon:callback"))),
            (reverse("admin:login"), anonymous.get(reverse("admin:login"))),
            ("/no-such-page/", anonymous.get("/no-such-page/")),
        ]
        self.login(self.alice)
        for route in all_routes():
            if route.excluded_by or route.is_staff or route.route in PUBLIC_ROUTES or route.params:
                continue
            url = generic_url(route)
            checked.append((url, self.client.get(url)))
        checked.append(("store detail", self.client.get(reverse("stores:detail", args=[self.store.code]))))
        self.assertGreater(len(checked), 10)
        for where, response in checked:
            self.assert_headers(response, where)

    def test_the_session_cookie_is_http_only_and_same_site(self) -> None:
        r = Client().post(reverse("account_login"), {"login": "alice@example.org", "password": PASSWORD})
        cookie = r.cookies["sessionid"]
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")

    def test_the_csrf_cookie_is_http_only_and_same_site(self) -> None:
        # No script reads the cookie: static/js/app.js posts FormData, which carries csrfmiddlewaretoken.
        r = Client().get(reverse("account_login"))
        cookie = r.cookies["csrftoken"]
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertTrue(cookie["httponly"])


class DeployCheckTests(BaseTestCase):
    def test_check_deploy_is_clean_with_production_settings(self) -> None:
        # The environment of a production process: none of the development or test switches, a random key.
        dropped = {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "TOKEN_ENCRYPTION_KEYS",
            "SANDBOX_ENABLED",
            "AMAZON_USE_SANDBOX",
            "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by tests/conftest.py for Playwright only
        }
        env = {k: v for k, v in os.environ.items() if k not in dropped}
        env.update({"DJANGO_READ_DOT_ENV": "0", "DATABASE_URL": "sqlite:///:memory:", **PROD})
        env["SECRET_KEY"] = secrets.token_urlsafe(50)
        r = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no issues", r.stdout)
