"""POST /api/v1/stores/{code}/recheck over HTTP: the live "query authorization result" for a read + write key, with the
buttons' rules (the same check, one per-authorization limit shared with the store page)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from api.models import ApiKey
from authorizations.models import AuditEvent, Authorization, AuthStatus
from sandbox import api as sandbox_api
from tests.api.helpers import bearer, make_key
from tests.authorizations.helpers import FlowTestCase
from tests.base import make_store

ORDERS_APP = "amzn1.sp.solution.sandbox-orders-0001"


class StoreRecheckApiTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.key, self.secret = make_key(self.tenant, self.alice, scope=ApiKey.Scope.READ_WRITE)
        self.url = f"/api/v1/stores/{self.store.code}/recheck"

    def post(self, url: str | None = None, body: Any = None, secret: str | None = None, **extra: Any) -> Any:
        return self.client.post(
            url or self.url,
            data=body if body is not None else {},
            content_type="application/json",
            **bearer(secret or self.secret, **extra),
        )

    def status(self, capability: str = "orders") -> str:
        return Authorization.objects.get(store=self.store, capability=capability).status

    def test_a_revoke_at_amazon_is_found_and_answered_with_the_fresh_status_in_words(self) -> None:
        self.authorize("orders")
        sandbox_api.revoke(self.seller, ORDERS_APP)
        r = self.post()
        self.assertEqual(r.status_code, 200, r.content)
        body = r.json()
        orders = next(c for c in body["checks"] if c["capability"] == "orders")
        self.assertEqual(
            orders,
            {
                "capability": "orders",
                "checked": True,
                "result": "revoked",
                "status": AuthStatus.NEEDS_REAUTHORIZATION,
                "message": "Amazon says the authorization was revoked or has expired.",
                "todo": "Re-authorize to restore it.",
            },
        )
        self.assertEqual(self.status(), AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertEqual(body["store"]["status"], "attention")
        cap = next(c for c in body["store"]["capabilities"] if c["capability"] == "orders")
        self.assertEqual((cap["status"], cap["reason_code"]), (AuthStatus.NEEDS_REAUTHORIZATION, "revoked"))

    def test_a_working_authorization_is_confirmed_and_its_last_check_moves(self) -> None:
        self.authorize("orders")
        Authorization.objects.filter(store=self.store, capability="orders").update(last_checked_at=None)
        body = self.post().json()
        orders = next(c for c in body["checks"] if c["capability"] == "orders")
        self.assertEqual((orders["checked"], orders["result"]), (True, "ok"))
        self.assertIsNotNone(Authorization.objects.get(store=self.store, capability="orders").last_checked_at)
        event = AuditEvent.objects.filter(action="authorization.rechecked", store=self.store).latest("id")
        self.assertIn(self.key.prefix, event.detail)
        self.assertNotIn(self.secret, event.detail)

    def test_a_capability_without_a_token_is_not_checked_and_says_what_to_do(self) -> None:
        body = self.post(body={"capability": "listings"}).json()
        self.assertEqual(len(body["checks"]), 1)
        check = body["checks"][0]
        self.assertEqual(
            (check["capability"], check["checked"], check["result"]), ("listings", False, "not_checked")
        )
        self.assertEqual(check["todo"], "Authorize listing/inventory sync on the store page.")

    def test_the_answer_is_in_the_requests_language(self) -> None:
        self.authorize("orders")
        sandbox_api.revoke(self.seller, ORDERS_APP)
        # A fresh client: the API reads Accept-Language, and the test's logged-in client carries a language cookie.
        self.client = Client()
        body = self.post(HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
        orders = next(c for c in body["checks"] if c["capability"] == "orders")
        self.assertNotEqual(orders["message"], "Amazon says the authorization was revoked or has expired.")
        self.assertRegex(orders["message"], r"[\u4e00-\u9fff]")

    def test_a_read_key_gets_403_and_nothing_is_checked(self) -> None:
        self.authorize("orders")
        sandbox_api.revoke(self.seller, ORDERS_APP)
        _key, read = make_key(self.tenant, self.alice)
        r = self.post(secret=read)
        self.assertEqual(r.status_code, 403)
        self.assertEqual(r.json()["error"]["code"], "permission_denied")
        self.assertEqual(self.status(), AuthStatus.AUTHORIZED)

    def test_another_tenants_store_and_a_store_outside_a_limited_key_are_404(self) -> None:
        other = make_store(self.other_tenant, nickname="Charlie EU", region="EU")
        self.assertEqual(self.post(url=f"/api/v1/stores/{other.code}/recheck").status_code, 404)
        second = make_store(self.tenant, nickname="Second")
        _key, limited = make_key(self.tenant, self.alice, scope=ApiKey.Scope.READ_WRITE, stores=[second])
        self.assertEqual(self.post(secret=limited).status_code, 404)
        self.assertEqual(self.post(url="/api/v1/stores/not-a-uuid/recheck").status_code, 404)

    def test_a_platform_key_may_not_recheck(self) -> None:
        _key, platform = make_key(None)
        self.assertEqual(self.post(secret=platform).status_code, 403)

    def test_bad_bodies_get_400_in_the_error_shape_never_a_500(self) -> None:
        for body in ({"capability": "nope"}, {"surprise": 1}, [1, 2], '"text"', "null", "3"):
            r = self.post(body=body)
            self.assertEqual(r.status_code, 400, (body, r.content))
            self.assertEqual(r.json()["error"]["code"], "invalid")
        r = self.client.post(
            self.url, data="{not json", content_type="application/json", **bearer(self.secret)
        )
        self.assertEqual((r.status_code, r.json()["error"]["code"]), (400, "parse_error"))

    def test_over_the_live_check_limit_answers_429_with_retry_after_and_asks_amazon_nothing(self) -> None:
        self.authorize("orders")
        with self.settings(LIVE_CHECKS_PER_MINUTE=2):
            self.assertEqual(self.post().status_code, 200)
            self.assertEqual(self.post().status_code, 200)
            calls = len(self.rsps.calls)
            r = self.post()
            self.assertEqual(r.status_code, 429, r.content)
            self.assertEqual(r.json()["error"]["code"], "throttled")
            self.assertGreaterEqual(int(r["Retry-After"]), 1)
            self.assertLessEqual(int(r["Retry-After"]), 90)
            self.assertEqual(len(self.rsps.calls), calls)

    def test_the_limit_is_shared_with_the_store_pages_re_check_button(self) -> None:
        self.authorize("orders")
        with self.settings(LIVE_CHECKS_PER_MINUTE=2):
            button = reverse("authorizations:recheck", args=[self.store.code, "orders"])
            self.client.post(button)
            self.client.post(button)
            self.assertEqual(self.post().status_code, 429)
            page = self.client.post(button, follow=True)
            self.assertContains(page, "checked at Amazon several times in the last minute")

    def test_a_browser_session_without_a_key_cannot_recheck_even_with_a_csrf_token(self) -> None:
        # The API accepts keys only: a logged-in browser's cookie (a CSRF attack's only credential) checks nothing.
        self.authorize("orders")
        sandbox_api.revoke(self.seller, ORDERS_APP)
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(self.alice)
        r = browser.post(self.url, data={}, content_type="application/json")
        self.assertEqual(r.status_code, 401)
        self.assertEqual(self.status(), AuthStatus.AUTHORIZED)

    def test_a_key_call_needs_no_csrf_token(self) -> None:
        self.authorize("orders")
        browser = Client(enforce_csrf_checks=True)
        r = browser.post(self.url, data={}, content_type="application/json", **bearer(self.secret))
        self.assertEqual(r.status_code, 200)
