"""The "Webhooks" pages over HTTP: owners and admins manage endpoints (member and viewer 403, outsider 404); the
form refuses addresses a request must never reach; the secret is shown once; every change is audited."""

from __future__ import annotations

from typing import Any

from django.test import override_settings
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from accounts.models import Membership
from authorizations import crypto
from authorizations.models import AuditEvent
from tests.base import make_user
from tests.webhooks.helpers import WebhookTestCase
from tests.webhooks.test_delivery import resolving
from webhooks.models import Delivery, Endpoint

PAGE = "/team/webhooks/"
EVENTS = ["store.authorization_changed", "order.cancelled"]


class EndpointPageTests(WebhookTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.admin = make_user("adam@example.org")
        Membership.objects.create(tenant=self.tenant, user=self.admin, role=Membership.Role.ADMIN)

    def add(self, url: str | None = None, **extra: Any) -> Any:
        data = {"url": url or self.receiver.url, "events": EVENTS, "description": "Platform", **extra}
        return self.client.post(PAGE, data)

    def test_an_owner_and_an_admin_add_an_endpoint_whose_secret_is_shown_once_and_stored_encrypted(
        self,
    ) -> None:
        for user in (self.alice, self.admin):
            Endpoint.objects.all().delete()
            self.login(user)
            response = self.add()
            self.assertEqual(response.status_code, 200)
            secret = response.context["secret"]
            self.assertTrue(secret.startswith("whsec_"))
            self.assertContains(response, secret)
            self.assertIn("no-store", response["Cache-Control"])
            endpoint = Endpoint.objects.get(tenant=self.tenant)
            self.assertEqual(endpoint.events, EVENTS)
            self.assertNotIn(secret, endpoint.secret_encrypted)
            self.assertEqual(crypto.decrypt(endpoint.secret_encrypted), secret)
            listing = self.client.get(PAGE)
            self.assertContains(listing, endpoint.url)
            self.assertNotContains(listing, secret)
            self.assertNotContains(
                self.client.get(reverse("webhooks:endpoint", args=[endpoint.code])), secret
            )
            event = AuditEvent.objects.filter(action="webhook.created").latest("created_at")
            self.assertEqual(event.user, user)
            self.assertNotIn(secret, event.detail)
            self.assertIn("127.0.0.1", event.detail)

    def test_members_and_viewers_get_403_and_outsiders_404_on_every_webhook_page(self) -> None:
        endpoint, _secret = self.add_endpoint()
        urls = [
            (PAGE, "get"),
            (PAGE, "post"),
            (reverse("webhooks:endpoint", args=[endpoint.code]), "get"),
        ] + [
            (reverse(f"webhooks:{name}", args=[endpoint.code]), "post")
            for name in ("send_test", "send_again", "rotate", "enable", "disable", "delete")
        ]
        for user, expected in ((self.bob, 403), (self.vera, 403), (self.charlie, 404)):
            self.login(user)
            for url, method in urls:
                if user == self.charlie and url == PAGE:
                    continue  # the outsider's own account's list (their own endpoints): the next test
                r = getattr(self.client, method)(url, {"url": "https://x.example.com/", "events": EVENTS})
                self.assertEqual(r.status_code, expected, (user.email, url, method))
        self.client.logout()
        self.assertEqual(self.client.get(PAGE).status_code, 302)
        self.assertTrue(Endpoint.objects.filter(pk=endpoint.pk, enabled=True).exists())
        self.assertEqual(Endpoint.objects.count(), 1)

    def test_an_outsider_sees_their_own_empty_list_and_never_another_tenants_endpoint(self) -> None:
        self.add_endpoint()
        self.login(self.charlie)
        r = self.client.get(PAGE)
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, self.receiver.url)

    @override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
    def test_the_form_refuses_loopback_private_link_local_metadata_and_plain_http(self) -> None:
        self.login(self.alice)
        with resolving({"inside.example.test": "10.1.2.3", "outside.example.test": "93.184.215.14"}):
            for url, words in (
                ("https://127.0.0.1/hooks", "resolves to 127.0.0.1"),
                ("https://10.0.0.1/hooks", "resolves to 10.0.0.1"),
                ("https://169.254.169.254/latest/meta-data/", "resolves to 169.254.169.254"),
                ("https://[::1]/hooks", "resolves to ::1"),
                ("https://[::ffff:10.0.0.1]/hooks", "resolves to 10.0.0.1"),
                ("https://inside.example.test/hooks", "resolves to 10.1.2.3"),
                ("http://outside.example.test/hooks", "must start with https://"),
                ("https://no-such-host.invalid/hooks", "could not be resolved"),
                ("not a url", "Enter a valid URL."),
            ):
                r = self.add(url)
                self.assertEqual(r.status_code, 400, url)
                self.assertContains(r, words, status_code=400)
            self.assertFalse(Endpoint.objects.exists())
            self.assertEqual(self.add("https://outside.example.test/hooks").status_code, 200)
        self.assertEqual(Endpoint.objects.count(), 1)

    def test_no_event_chosen_or_a_foreign_event_is_a_form_error_not_a_crash(self) -> None:
        self.login(self.alice)
        r = self.client.post(PAGE, {"url": self.receiver.url, "description": "x"})
        self.assertEqual(r.status_code, 400)
        r = self.client.post(PAGE, {"url": self.receiver.url, "events": ["order.shipped\x00"]})
        self.assertEqual(r.status_code, 400)
        self.assertFalse(Endpoint.objects.exists())

    def test_send_a_test_event_and_send_a_delivery_again_with_the_same_webhook_id(self) -> None:
        endpoint, secret = self.add_endpoint()
        self.login(self.alice)
        with self.delivering():
            r = self.client.post(reverse("webhooks:send_test", args=[endpoint.code]))
        self.assertEqual(r.status_code, 302)
        [body] = self.receiver.verified(secret)
        self.assertEqual(body["type"], "webhook.test")
        delivery = Delivery.objects.get()
        with self.delivering():
            self.client.post(reverse("webhooks:send_again", args=[endpoint.code]), {"delivery": delivery.pk})
        ids = [r.headers["webhook-id"] for r in self.receiver.received]
        self.assertEqual(ids, [delivery.event_id, delivery.event_id])
        page = self.client.get(reverse("webhooks:endpoint", args=[endpoint.code]))
        self.assertContains(page, delivery.event_id)
        self.assertContains(page, "Delivered")
        for bad in ("", "abc", "999999"):
            r = self.client.post(reverse("webhooks:send_again", args=[endpoint.code]), {"delivery": bad})
            self.assertEqual(r.status_code, 302)

    def test_a_delivery_of_another_endpoint_cannot_be_sent_again_through_this_one(self) -> None:
        mine, _secret = self.add_endpoint()
        foreign = Endpoint.objects.create(tenant=self.other_tenant, url="https://x.example.com/", events=EVENTS, secret_encrypted=crypto.encrypt("whsec_MTIz"))  # fmt: skip
        with self.delivering():
            from webhooks import endpoints

            endpoints.send_test(foreign)
        theirs = Delivery.objects.get(endpoint=foreign)
        self.login(self.alice)
        with self.delivering():
            self.client.post(reverse("webhooks:send_again", args=[mine.code]), {"delivery": theirs.pk})
        theirs.refresh_from_db()
        self.assertEqual(theirs.attempts, 1)

    def test_rotating_shows_the_new_secret_once_and_both_sign_during_the_overlap(self) -> None:
        endpoint, old = self.add_endpoint()
        self.login(self.alice)
        r = self.client.post(reverse("webhooks:rotate", args=[endpoint.code]))
        self.assertEqual(r.status_code, 200)
        new = r.context["secret"]
        self.assertNotEqual(new, old)
        self.assertContains(r, new)
        self.assertIn("no-store", r["Cache-Control"])
        with self.delivering():
            self.client.post(reverse("webhooks:send_test", args=[endpoint.code]))
        [received] = self.receiver.received
        Webhook(old).verify(received.body, received.headers)
        Webhook(new).verify(received.body, received.headers)
        self.assertTrue(AuditEvent.objects.filter(action="webhook.secret_rotated").exists())

    def test_disable_enable_and_delete_are_audited_and_a_disabled_endpoint_gets_no_event(self) -> None:
        endpoint, _secret = self.add_endpoint()
        self.login(self.admin)
        self.client.post(reverse("webhooks:disable", args=[endpoint.code]))
        page = self.client.get(reverse("webhooks:endpoint", args=[endpoint.code]))
        self.assertContains(page, "by a person")
        with self.delivering():
            self.authorize("orders")
        self.assertEqual(self.receiver.received, [])
        self.client.post(reverse("webhooks:enable", args=[endpoint.code]))
        self.assertTrue(Endpoint.objects.get(pk=endpoint.pk).enabled)
        r = self.client.post(reverse("webhooks:delete", args=[endpoint.code]))
        self.assertRedirects(r, PAGE)
        self.assertFalse(Endpoint.objects.exists())
        actions = set(AuditEvent.objects.filter(tenant=self.tenant).values_list("action", flat=True))
        self.assertLessEqual({"webhook.disabled", "webhook.enabled", "webhook.deleted"}, actions)

    def test_the_pages_speak_chinese(self) -> None:
        endpoint, _secret = self.add_endpoint()
        self.login(self.alice)
        listing = self.client.get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertContains(listing, "添加端点")
        page = self.client.get(
            reverse("webhooks:endpoint", args=[endpoint.code]), HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        self.assertContains(page, "发送测试事件")

    def test_the_navigation_links_the_page_for_owners_and_admins_only(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get("/team/api-keys/"), f'href="{PAGE}"')
        self.login(self.bob)
        self.assertNotContains(self.client.get(reverse("stores:list")), f'href="{PAGE}"')
