"""Application credentials as data: fallback to the previous secret, one alarm per outage, token reuse, warnings."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from authorizations import app_secrets, crypto
from authorizations.credentials import access_token_for
from authorizations.grant_checks import recheck
from authorizations.models import (
    ApplicationCredential,
    AuditEvent,
    Authorization,
    AuthStatus,
    PlatformAlarm,
)
from sandbox import api as sandbox_api
from tests.authorizations.helpers import FlowTestCase
from tests.base import make_store

Kind = ApplicationCredential.Kind


class SecretsTestCase(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.staff = User.objects.create_user("staff@example.org", "x", is_staff=True, is_superuser=True)

    def token_calls(self) -> int:
        return sum(1 for c in self.rsps.calls if "/auth/o2/token" in str(c.request.url))

    def set_secrets(
        self, kind: str, current: str, previous: str = "", valid_for: timedelta | None = None
    ) -> None:
        row = app_secrets.credential(kind)
        row.secret_encrypted = crypto.encrypt(current)
        row.previous_secret_encrypted = crypto.encrypt(previous) if previous else ""
        row.previous_expires_at = timezone.now() + valid_for if valid_for else None
        row.save()


class SeedAndFallbackTests(SecretsTestCase):
    def test_the_environment_seeds_each_application_once_and_only_encrypted(self) -> None:
        orders = app_secrets.credential(Kind.ORDERS)
        self.assertEqual(orders.client_id, "amzn1.application-oa2-client.sandbox-orders")
        self.assertEqual(orders.secret, "sandbox-orders-client-secret")
        self.assertNotIn("sandbox-orders-client-secret", orders.secret_encrypted)
        self.assertEqual(app_secrets.credential(Kind.ORDERS).pk, orders.pk)

    def test_calls_fall_back_to_the_previous_secret_while_it_is_valid(self) -> None:
        # The portal already stores a newer secret that Amazon does not know yet (or the reverse): the other works.
        self.set_secrets(
            Kind.ORDERS, "not-yet-known-to-amazon", "sandbox-orders-client-secret", timedelta(days=3)
        )
        r = self.authorize("orders")
        self.assertEqual(r.status_code, 302)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.AUTHORIZED
        )
        self.assertFalse(PlatformAlarm.objects.exists())

    def test_an_expired_previous_secret_is_not_tried(self) -> None:
        self.set_secrets(Kind.ORDERS, "sandbox-orders-client-secret", "old-secret", timedelta(days=-1))
        self.assertEqual(app_secrets.clients(Kind.ORDERS)[-1].client_secret, "sandbox-orders-client-secret")
        self.assertEqual(len(app_secrets.clients(Kind.ORDERS)), 1)


class InvalidClientAlarmTests(SecretsTestCase):
    def test_refused_credentials_raise_one_alarm_and_change_no_store(self) -> None:
        self.authorize("orders")
        other = make_store(self.tenant, nickname="Second store")
        second_seller = sandbox_api.create_seller("Second", "NA", ["ATVPDKIKX0DER"])
        self.authorize("orders", seller_id=second_seller.selling_partner_id, store=other)
        self.set_secrets(Kind.ORDERS, "wrong-secret")
        mail.outbox.clear()
        results = [
            recheck(a) for a in Authorization.objects.filter(capability="orders").select_related("store")
        ]
        self.assertEqual(results, ["platform_credentials", "platform_credentials"])
        self.assertEqual(
            list(Authorization.objects.filter(capability="orders").values_list("status", flat=True)),
            [AuthStatus.AUTHORIZED, AuthStatus.AUTHORIZED],
        )
        alarm = PlatformAlarm.objects.get()
        self.assertEqual((alarm.kind, alarm.subject, alarm.occurrences), ("invalid_client", "orders", 2))
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("invalid_client", mail.outbox[0].subject)
        # Staff see it once, as a banner on the staff pages.
        self.client.force_login(self.staff)
        page = self.client.get(reverse("staff:staff_stores"))
        self.assertContains(page, 'data-testid="platform-alarm"', count=1)
        # The store page does not say "needs re-authorization".
        self.client.force_login(self.alice)
        store_page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertNotContains(store_page, "needs re-authorization")

    def test_the_alarm_closes_when_the_credentials_work_again(self) -> None:
        self.authorize("orders")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        self.set_secrets(Kind.ORDERS, "wrong-secret")
        recheck(auth)
        self.set_secrets(Kind.ORDERS, "sandbox-orders-client-secret")
        self.assertEqual(recheck(auth), "ok")
        self.assertIsNotNone(PlatformAlarm.objects.get().resolved_at)


class TokenReuseTests(SecretsTestCase):
    def test_an_access_token_is_reused_for_its_hour(self) -> None:
        self.authorize("orders")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        before = self.token_calls()
        tokens = {access_token_for(self.store, "orders", auth.get_refresh_token()) for _ in range(5)}
        self.assertEqual(len(tokens), 1)
        self.assertEqual(self.token_calls() - before, 1)

    def test_a_forced_refresh_asks_lwa_again(self) -> None:
        self.authorize("orders")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        access_token_for(self.store, "orders", auth.get_refresh_token())
        before = self.token_calls()
        access_token_for(self.store, "orders", auth.get_refresh_token(), force=True)
        self.assertEqual(self.token_calls() - before, 1)

    def test_the_cached_token_is_stored_encrypted(self) -> None:
        from django.core.cache import cache

        self.authorize("orders")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        token = access_token_for(self.store, "orders", auth.get_refresh_token())
        with mock.patch.object(cache, "set", wraps=cache.set) as spy:
            access_token_for(self.store, "orders", auth.get_refresh_token(), force=True)
        stored = spy.call_args[0][1]
        self.assertNotIn(token, stored)


class ManualRotationTests(SecretsTestCase):
    def test_a_secret_pasted_by_hand_becomes_current_and_the_old_one_stays_for_the_overlap(self) -> None:
        with mock.patch("sys.stdin", StringIO("brand-new-secret\n")):
            call_command("rotate_app_secret", "listings", "--overlap-days", "7", stdout=StringIO())
        row = app_secrets.credential(Kind.LISTINGS)
        self.assertEqual(row.secret, "brand-new-secret")
        self.assertEqual(row.previous_secret, "sandbox-listings-client-secret")
        self.assertAlmostEqual((row.previous_expires_at - timezone.now()).days, 6, delta=1)
        self.assertTrue(AuditEvent.objects.filter(action="credentials.rotated", outcome="listings").exists())
        # The old secret (still what the sandbox knows) keeps calls working through the overlap.
        self.assertEqual(self.authorize("listings").status_code, 302)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="listings").status, AuthStatus.AUTHORIZED
        )

    def test_the_admin_takes_a_new_secret_without_ever_showing_one(self) -> None:
        row = app_secrets.credential(Kind.ORDERS)
        self.client.force_login(self.staff)
        url = reverse("admin:authorizations_applicationcredential_change", args=[row.pk])
        page = self.client.get(url)
        self.assertNotContains(page, "sandbox-orders-client-secret")
        self.assertNotContains(page, row.secret_encrypted)
        r = self.client.post(
            url,
            {
                "secret_expires_at_0": "",
                "secret_expires_at_1": "",
                "new_secret": "pasted",
                "overlap_days": "7",
            },
        )
        self.assertEqual(r.status_code, 302, r.content[:2000])
        self.assertEqual(app_secrets.credential(Kind.ORDERS).secret, "pasted")


class ExpiryWarningTests(SecretsTestCase):
    def test_staff_are_mailed_at_90_30_and_7_days_once_each(self) -> None:
        row = app_secrets.credential(Kind.ORDERS)
        now = timezone.now()
        # (days left, mails expected): each threshold once; a run again the same day sends nothing more.
        for days, expected in ((100, 0), (89, 1), (89, 0), (29, 1), (29, 0), (6.5, 1), (6.5, 0)):
            ApplicationCredential.objects.filter(pk=row.pk).update(
                secret_expires_at=now + timedelta(days=days)
            )
            mail.outbox.clear()
            self.assertEqual(app_secrets.warn_expiring(), expected, days)
            self.assertEqual([m.to for m in mail.outbox], [["staff@example.org"]] * expected)
        self.client.force_login(self.staff)
        self.assertContains(self.client.get(reverse("staff:staff_stores")), "expires in 6 days")
