from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from authorizations import lifecycle, reminders
from authorizations.models import AuditEvent, Authorization, AuthStatus, ExpiryReminder
from stores.models import CombinedStatus
from sync import tasks
from tests.authorizations.helpers import FlowTestCase


class DisableEnableRevokeTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("orders")
        self.authorize("listings")
        self.auth = Authorization.objects.get(store=self.store, capability="orders")

    def url(self, action: str, confirm: bool = False) -> str:
        name = "authorizations:lifecycle_apply" if confirm else "authorizations:lifecycle_confirm"
        return reverse(name, args=[self.store.code, "orders", action])

    def test_disable_asks_for_confirmation_then_keeps_the_token(self) -> None:
        r = self.client.get(self.url("disable"))
        self.assertContains(r, "Disable Order loading?")
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status, AuthStatus.AUTHORIZED)
        token = self.auth.refresh_token_encrypted
        self.client.post(self.url("disable", confirm=True))
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status, AuthStatus.DISABLED)
        self.assertEqual(self.auth.refresh_token_encrypted, token)
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.PARTIAL)
        self.assertTrue(AuditEvent.objects.filter(action="authorization.disabled", user=self.alice).exists())

    def test_enable_restores_authorized_and_rechecks(self) -> None:
        self.client.post(self.url("disable", confirm=True))
        r = self.client.post(self.url("enable", confirm=True), follow=True)
        self.assertContains(r, "is enabled again")
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status, AuthStatus.AUTHORIZED)
        self.assertTrue(AuditEvent.objects.filter(action="authorization.enabled").exists())
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.AUTHORIZED)

    def test_revoke_deletes_the_token_and_explains_manage_your_apps(self) -> None:
        page = self.client.get(self.url("revoke"))
        self.assertContains(page, "Manage Your Apps")
        r = self.client.post(self.url("revoke", confirm=True), follow=True)
        self.assertContains(r, "Manage your apps")
        self.auth.refresh_from_db()
        self.assertEqual(
            (self.auth.status, self.auth.refresh_token_encrypted), (AuthStatus.NOT_AUTHORIZED, "")
        )
        self.assertIsNone(self.auth.expires_at)
        self.assertTrue(AuditEvent.objects.filter(action="authorization.revoked").exists())
        self.store.refresh_from_db()
        self.assertEqual(
            self.store.selling_partner_id, self.seller.selling_partner_id
        )  # listings still holds one

    def test_revoking_both_sp_capabilities_frees_the_amazon_account(self) -> None:
        self.client.post(self.url("revoke", confirm=True))
        self.client.post(
            reverse("authorizations:lifecycle_apply", args=[self.store.code, "listings", "revoke"])
        )
        self.store.refresh_from_db()
        self.assertEqual(self.store.selling_partner_id, "")
        self.assertEqual(self.store.authorization_status, CombinedStatus.NOT_AUTHORIZED)

    def test_revoke_followed_by_reauthorization(self) -> None:
        self.client.post(self.url("revoke", confirm=True))
        self.authorize("orders")
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status, AuthStatus.AUTHORIZED)
        self.assertTrue(self.auth.has_token)

    def test_enabling_something_not_disabled_is_refused_with_a_message(self) -> None:
        r = self.client.post(self.url("enable", confirm=True), follow=True)
        self.assertContains(r, "cannot be done in the capability")
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status, AuthStatus.AUTHORIZED)

    def test_an_unknown_action_is_404_and_viewers_403_outsiders_404(self) -> None:
        self.assertEqual(
            self.client.get(
                reverse("authorizations:lifecycle_confirm", args=[self.store.code, "orders", "explode"])
            ).status_code,
            404,
        )
        for user, code in ((self.vera, 403), (self.charlie, 404)):
            self.login(user)
            for action in ("disable", "enable", "revoke"):
                self.assertEqual(self.client.get(self.url(action)).status_code, code)
                self.assertEqual(self.client.post(self.url(action, confirm=True)).status_code, code)
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status, AuthStatus.AUTHORIZED)

    def test_archiving_disables_every_capability_and_keeps_history(self) -> None:
        self.client.post(reverse("stores:archive", args=[self.store.code]))
        statuses = set(Authorization.objects.filter(store=self.store).values_list("capability", "status"))
        self.assertIn(("orders", AuthStatus.DISABLED), statuses)
        self.assertIn(("listings", AuthStatus.DISABLED), statuses)
        self.assertIn(("ads", AuthStatus.NOT_AUTHORIZED), statuses)
        self.assertTrue(
            AuditEvent.objects.filter(store=self.store, action="authorization.succeeded").exists()
        )
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Authorization history")


class ExpiryTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("orders")
        self.authorize("listings")
        self.auth = Authorization.objects.get(store=self.store, capability="orders")

    def expire_in(self, days: float) -> None:
        Authorization.objects.filter(pk=self.auth.pk).update(expires_at=timezone.now() + timedelta(days=days))

    def test_the_store_page_shows_authorized_on_and_expires_on(self) -> None:
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Authorized on")
        # The store page shows dates in the store's time zone.
        local = timezone.localtime(timezone.now() + timedelta(days=365), ZoneInfo(self.store.timezone))
        self.assertContains(page, local.strftime("%Y-%m-%d"))

    def test_thirty_days_before_expiry_the_store_needs_attention_with_a_renewal_badge(self) -> None:
        self.expire_in(20)
        tasks.expiry_and_reminders()
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.ATTENTION)
        self.assertContains(self.client.get(reverse("stores:list")), "Renewal due")
        self.assertContains(
            self.client.get(reverse("stores:detail", args=[self.store.code])), "Renew: 19 days left"
        )

    def test_the_reminder_job_run_twice_sends_once_per_threshold(self) -> None:
        self.expire_in(29.5)
        self.assertEqual(reminders.send_due(), 1)
        self.assertEqual(reminders.send_due(), 0)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["alice@example.org"])
        self.assertIn("expires in 30 day", mail.outbox[0].subject)
        self.expire_in(6.5)
        self.assertEqual(reminders.send_due(), 1)
        self.expire_in(0.5)
        self.assertEqual(reminders.send_due(), 1)
        self.assertEqual(reminders.send_due(), 0)
        self.assertEqual(len(mail.outbox), 3)

    def test_a_store_first_seen_close_to_expiry_gets_one_mail_not_three(self) -> None:
        self.expire_in(5)
        self.assertEqual(reminders.send_due(), 1)
        self.assertIn("7 day", mail.outbox[0].subject)
        self.assertEqual(set(ExpiryReminder.objects.values_list("threshold_days", flat=True)), {30, 7})

    def test_renewing_extends_the_dates_and_resets_the_reminders(self) -> None:
        self.expire_in(10)
        reminders.send_due()
        self.authorize("orders")
        self.auth.refresh_from_db()
        self.assertGreater(self.auth.expires_at, timezone.now() + timedelta(days=364))
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.AUTHORIZED)
        self.assertEqual(reminders.send_due(), 0)

    def test_a_lapsed_authorization_needs_reauthorization(self) -> None:
        self.expire_in(-1)
        self.assertEqual(lifecycle.expire_lapsed(), 1)
        self.auth.refresh_from_db()
        self.assertEqual(self.auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertIn("365 days", self.auth.last_error_text)
        self.assertEqual(lifecycle.expire_lapsed(), 0)
