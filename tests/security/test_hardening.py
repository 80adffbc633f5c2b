"""Low-severity findings of the outside test, each attacked over HTTP (or through the job it breaks)."""

from __future__ import annotations

import io
import logging
import sys
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authorizations import reminders
from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus
from config.logfilters import RedactSecrets
from stores.models import Store
from tests.authorizations.helpers import FlowTestCase
from tests.base import BaseTestCase

Outcome = AuthorizationAttempt.Outcome


class NulByteTests(FlowTestCase):
    def test_search_boxes_answer_400_for_a_nul_byte(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.get("/stores/?q=%00").status_code, 400)
        self.assertEqual(self.client.get("/stores/?q=abc%00def&status=%00").status_code, 400)
        staff = Client()
        self.alice.is_staff = True
        self.alice.save()
        staff.force_login(self.alice)
        self.assertEqual(staff.get(reverse("staff:staff_stores") + "?q=%00").status_code, 400)

    def test_a_nul_byte_in_the_callback_is_refused_before_the_code_is_spent(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        r = self.client.get(url.replace("selling_partner_id=", "selling_partner_id=%00"))
        self.assertEqual(r.status_code, 400)
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.used_at), (Outcome.PENDING, None))
        # The untouched callback still completes.
        self.callback(url)
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.SUCCEEDED)

    def test_forms_answer_400_for_a_nul_byte_and_store_nothing(self) -> None:
        self.login(self.alice)
        before = Store.objects.count()
        r = self.client.post(reverse("stores:add"), {"nickname": "Evil\x00", "region": "NA", "sites": ["US"]})
        self.assertEqual(r.status_code, 400)
        self.assertEqual(Store.objects.count(), before)
        r = self.client.post(reverse("account_login"), {"login": "a\x00@example.org", "password": "x"})
        self.assertEqual(r.status_code, 400)


class LogTests(FlowTestCase):
    def configured_handler_output(self) -> tuple[logging.Handler, io.StringIO]:
        handler = next(
            h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecrets) for f in h.filters)
        )
        assert isinstance(handler, logging.StreamHandler)
        buffer = io.StringIO()
        handler.setStream(buffer)
        return handler, buffer

    def test_the_configured_log_never_carries_a_state_or_a_code(self) -> None:
        handler, buffer = self.configured_handler_output()
        try:
            attempt = self.begin()
            url = self.amazon_answer(attempt)
            self.callback(url)
            self.callback(url)  # the refused replay logs too
            # runserver's request line for the callback (django.server logs the full path and query).
            logging.getLogger("django.server").info('"GET %s HTTP/1.1" 302 0', url)
            logging.getLogger("authorizations").warning("unexpected callback %s", url)
        finally:
            handler.setStream(sys.stderr)
        text = buffer.getvalue()
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        self.assertIn("/amazon/callback/", text)
        self.assertIn("state=[redacted]", text)
        self.assertNotIn(query["state"], text)
        self.assertNotIn(query["spapi_oauth_code"], text)


class ContentSecurityPolicyTests(BaseTestCase):
    def test_every_page_carries_a_content_security_policy_without_inline_scripts(self) -> None:
        self.login(self.alice)
        for url in (
            reverse("stores:list"),
            reverse("stores:detail", args=[self.store.code]),
            reverse("account_login"),
        ):
            with self.subTest(url=url):
                policy = self.client.get(url)["Content-Security-Policy"]
                self.assertIn("script-src 'self'", policy)
                self.assertIn("frame-ancestors 'none'", policy)
                self.assertNotIn("unsafe-inline", policy)
                self.assertNotIn("unsafe-eval", policy)

    def test_portal_pages_have_no_inline_script_or_style(self) -> None:
        self.login(self.alice)
        for url in (
            reverse("stores:list"),
            reverse("stores:detail", args=[self.store.code]),
            reverse("accounts:members"),
        ):
            with self.subTest(url=url):
                html = self.client.get(url).content.decode()
                self.assertNotIn("<script>", html)
                self.assertNotIn(" style=", html)
                self.assertNotIn("<style", html)


class EmailTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("orders")
        self.auth = Authorization.objects.get(store=self.store, capability="orders")
        Authorization.objects.filter(pk=self.auth.pk).update(expires_at=timezone.now() + timedelta(days=6))

    def test_a_nickname_with_a_line_break_cannot_stop_the_reminder_job(self) -> None:
        # Older rows and the admin could hold one; the store form now refuses it (below).
        Store.objects.filter(pk=self.store.pk).update(nickname="Shop\r\nBcc: victim@example.org")
        other = Store.objects.create(
            tenant=self.other_tenant, nickname="Charlie US", region="NA", sites=["US"]
        )
        Authorization.objects.create(
            store=other,
            capability="orders",
            status=AuthStatus.AUTHORIZED,
            expires_at=timezone.now() + timedelta(days=6),
        )
        self.assertEqual(reminders.send_due(), 2)
        subjects = [m.subject for m in mail.outbox]
        self.assertEqual(len(subjects), 2)
        for subject in subjects:
            self.assertNotIn("\n", subject)
            self.assertNotIn("\r", subject)
        self.assertTrue(all("victim@example.org" not in m.to and not m.bcc for m in mail.outbox))

    def test_the_store_form_refuses_a_nickname_with_a_line_break(self) -> None:
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]),
            {"nickname": "Shop\r\nBcc: victim@example.org", "sites": ["US", "CA"]},
        )
        self.assertContains(r, "without control characters")
        self.store.refresh_from_db()
        self.assertEqual(self.store.nickname, "Main US store")

    def test_plain_text_emails_show_characters_not_html_entities(self) -> None:
        Store.objects.filter(pk=self.store.pk).update(nickname='O\'Brien & "Co" <1>')
        reminders.send_due()
        message = mail.outbox[-1]
        for text in (message.subject, message.body):
            self.assertIn('O\'Brien & "Co" <1>', text)
            for entity in ("&amp;", "&#x27;", "&quot;", "&lt;", "&#39;"):
                self.assertNotIn(entity, text)
