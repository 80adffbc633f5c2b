"""The stores API over HTTP: who may call, what each key sees, filters, errors and the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any
from unittest import mock
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from api.authentication import ApiKeyThrottle
from api.models import ApiKey, hash_key
from api.views import StorePages
from authorizations.models import AuditEvent, Authorization, AuthStatus
from stores.models import CombinedStatus
from tests.api.helpers import bearer, make_key
from tests.base import BaseTestCase, make_store

STORES = "/api/v1/stores/"


class StoresApiTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.key, self.secret = make_key(self.tenant, self.alice)
        self.other_store = make_store(self.other_tenant, nickname="Charlie EU", region="EU")

    def get(self, url: str, secret: str | None = None, **extra: Any) -> Any:
        headers = bearer(secret or self.secret, **extra)
        return self.client.get(url, **headers)

    def assert_error(self, response: Any, status: int, code: str) -> dict[str, Any]:
        self.assertEqual(response.status_code, status, response.content)
        body = response.json()
        self.assertEqual(set(body), {"error"})
        self.assertEqual(set(body["error"]), {"code", "message", "fields"})
        self.assertEqual(body["error"]["code"], code)
        self.assertTrue(body["error"]["message"])
        return dict(body["error"])

    def test_an_anonymous_call_gets_401_in_the_error_shape(self) -> None:
        response = self.client.get(STORES)
        self.assert_error(response, 401, "not_authenticated")
        self.assertIn("Bearer", response["WWW-Authenticate"])

    def test_a_wrong_or_malformed_key_gets_401(self) -> None:
        self.assert_error(self.get(STORES, secret=self.secret[:-2] + "xx"), 401, "authentication_failed")
        self.assert_error(
            self.client.get(STORES, HTTP_AUTHORIZATION="Bearer a b"), 401, "authentication_failed"
        )
        self.assert_error(
            self.client.get(STORES, HTTP_AUTHORIZATION="Bearer é"), 401, "authentication_failed"
        )

    def test_a_key_lists_its_tenants_stores_with_status_capabilities_and_order_loading(self) -> None:
        response = self.get(STORES)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual([s["code"] for s in body["results"]], [str(self.store.code)])
        store = body["results"][0]
        self.assertEqual(store["nickname"], "Main US store")
        self.assertEqual(store["region"], "NA")
        self.assertEqual(store["status"], CombinedStatus.NOT_AUTHORIZED)
        self.assertEqual(store["status_label"], "Not authorized")
        self.assertEqual({c["capability"] for c in store["capabilities"]}, {"orders", "listings", "ads"})
        self.assertIn("order_loading", store)
        self.assertIn("seller_id_verified", store)

    def test_a_key_of_another_tenant_gets_404_on_the_store(self) -> None:
        _other, secret = make_key(self.other_tenant, self.charlie)
        self.assert_error(self.get(f"{STORES}{self.store.code}/", secret=secret), 404, "not_found")
        self.assertEqual(self.get(f"{STORES}{self.store.code}/").status_code, 200)

    def test_a_store_limited_key_gets_404_on_the_tenants_other_stores(self) -> None:
        second = make_store(self.tenant, nickname="Second store")
        _limited, secret = make_key(self.tenant, self.alice, stores=[self.store])
        self.assertEqual(self.get(f"{STORES}{self.store.code}/", secret=secret).status_code, 200)
        self.assert_error(self.get(f"{STORES}{second.code}/", secret=secret), 404, "not_found")
        listed = [s["code"] for s in self.get(STORES, secret=secret).json()["results"]]
        self.assertEqual(listed, [str(self.store.code)])

    def test_a_revoked_key_gets_401_and_its_use_is_audited_without_the_secret(self) -> None:
        self.key.revoked_at = timezone.now()
        self.key.save()
        error = self.assert_error(self.get(STORES), 401, "key_revoked")
        self.assertIn("revoked", error["message"])
        event = AuditEvent.objects.get(action="api_key.used_after_revoke")
        self.assertIn(self.key.prefix, event.detail)
        self.assertNotIn(self.secret, event.detail)

    def test_an_expired_key_gets_401(self) -> None:
        _expired, secret = make_key(self.tenant, self.alice, expires_at=timezone.now() - timedelta(seconds=1))
        self.assert_error(self.get(STORES, secret=secret), 401, "key_expired")

    def test_a_platform_key_sees_every_tenants_stores(self) -> None:
        _platform, secret = make_key(None)
        listed = {s["code"] for s in self.get(STORES, secret=secret).json()["results"]}
        self.assertEqual(listed, {str(self.store.code), str(self.other_store.code)})
        self.assertEqual(self.get(f"{STORES}{self.other_store.code}/", secret=secret).status_code, 200)

    def test_a_read_key_gets_403_on_a_write_and_a_write_key_405_on_the_read_routes(self) -> None:
        _writer, write_secret = make_key(self.tenant, self.alice, scope=ApiKey.Scope.READ_WRITE)
        for url in (STORES, f"{STORES}{self.store.code}/"):
            for method in ("post", "put", "patch", "delete"):
                call = getattr(self.client, method)
                self.assert_error(call(url, **bearer(self.secret)), 403, "permission_denied")
                self.assert_error(call(url, **bearer(write_secret)), 405, "method_not_allowed")

    def test_a_platform_key_is_read_only_even_when_asked_for_write(self) -> None:
        platform, _secret = make_key(None, scope=ApiKey.Scope.READ_WRITE)
        self.assertEqual(platform.scope, ApiKey.Scope.READ)
        self.assertFalse(platform.can_write)

    def test_labels_follow_accept_language_in_salesyee_words(self) -> None:
        body = self.get(f"{STORES}{self.store.code}/", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
        self.assertEqual(body["status"], CombinedStatus.NOT_AUTHORIZED)
        self.assertEqual(body["status_label"], "未授权")

    def test_filters_by_status_capability_status_region_and_updated_since(self) -> None:
        Authorization.objects.filter(store=self.store, capability="orders").update(
            status=AuthStatus.AUTHORIZED
        )
        second = make_store(self.tenant, nickname="Japan store", region="FE")
        codes = lambda query: [s["code"] for s in self.get(STORES + query).json()["results"]]  # noqa: E731
        self.assertEqual(codes("?region=FE"), [str(second.code)])
        self.assertEqual(codes("?capability=orders&capability_status=authorized"), [str(self.store.code)])
        # Alone, a capability status matches a store with any capability in it (here: the authorized orders).
        self.assertEqual(codes("?capability_status=authorized"), [str(self.store.code)])
        self.assertEqual(codes("?capability_status=needs_reauthorization"), [])
        self.assertEqual(codes("?status=authorized"), [])
        self.assertEqual(len(codes("?updated_since=2000-01-01T00:00:00Z")), 2)
        self.assertEqual(
            codes("?" + urlencode({"updated_since": (timezone.now() + timedelta(days=1)).isoformat()})), []
        )

    def test_bad_filters_answer_400_with_the_fields(self) -> None:
        for query, field in (
            ("?updated_since=yesterday", "updated_since"),
            ("?status=sparkling", "status"),
            ("?region=XX", "region"),
            ("?colour=red", "colour"),
        ):
            error = self.assert_error(self.get(STORES + query), 400, "invalid")
            self.assertIn(field, error["fields"], query)

    def test_an_unknown_or_malformed_address_is_404_in_the_error_shape(self) -> None:
        for url in (
            f"{STORES}not-a-uuid/",
            f"{STORES}00000000-0000-0000-0000-000000000000/",
            "/api/v1/nothing/",
        ):
            self.assert_error(self.get(url), 404, "not_found")
        self.assert_error(self.get(STORES + "?cursor=%%%garbage"), 404, "invalid_cursor")

    def test_pages_follow_a_stable_cursor(self) -> None:
        for n in range(3):
            make_store(self.tenant, nickname=f"Store {n}")
        seen: list[str] = []
        url: str | None = STORES
        with mock.patch.object(StorePages, "page_size", 2):
            while url:
                body = self.get(url).json()
                seen += [s["code"] for s in body["results"]]
                url = body["next"]
        self.assertEqual(len(seen), 4)
        self.assertEqual(len(set(seen)), 4)

    def test_the_key_is_stored_hashed_and_its_last_use_is_recorded(self) -> None:
        self.assertEqual(self.key.secret_hash, hash_key(self.secret))
        self.assertNotIn(self.secret, str(self.key))
        self.assertFalse(ApiKey.objects.filter(secret_hash=self.secret).exists())
        self.get(STORES)
        self.key.refresh_from_db()
        self.assertIsNotNone(self.key.last_used_at)

    def test_csrf_does_not_apply_to_key_authenticated_calls(self) -> None:
        browser = Client(enforce_csrf_checks=True)
        _writer, secret = make_key(self.tenant, self.alice, scope=ApiKey.Scope.READ_WRITE)
        # Without a CSRF token the key's call reaches the API (405: no write route yet), not the CSRF refusal.
        self.assert_error(browser.post(STORES, **bearer(secret)), 405, "method_not_allowed")

    def test_a_browser_session_alone_is_not_accepted(self) -> None:
        self.login(self.alice)
        self.assert_error(self.client.get(STORES), 401, "not_authenticated")

    def test_a_key_over_its_rate_gets_429_with_retry_after_and_other_keys_are_not_slowed(self) -> None:
        _other, other_secret = make_key(self.tenant, self.alice)
        with mock.patch.object(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "2/min"}):
            self.assertEqual(self.get(STORES).status_code, 200)
            self.assertEqual(self.get(STORES).status_code, 200)
            response = self.get(STORES)
            self.assert_error(response, 429, "throttled")
            self.assertGreater(int(response["Retry-After"]), 0)
            self.assertEqual(self.get(STORES, secret=other_secret).status_code, 200)

    def test_the_openapi_document_validates_without_a_warning(self) -> None:
        out = StringIO()
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
        self.assertIn("/api/v1/stores/{code}/", out.getvalue())

    def test_the_schema_and_the_docs_page_are_served_from_our_own_files(self) -> None:
        schema = self.client.get("/api/v1/schema/?format=json")
        self.assertEqual(schema.status_code, 200)
        self.assertIn("/api/v1/stores/", schema.json()["paths"])
        page = self.client.get("/api/v1/docs/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "js/api-docs.js")
        self.assertNotContains(page, "cdn")

    def test_last_used_is_written_at_most_once_a_minute(self) -> None:
        self.get(STORES)
        self.key.refresh_from_db()
        first = self.key.last_used_at
        assert first is not None
        self.get(STORES)
        self.key.refresh_from_db()
        self.assertEqual(self.key.last_used_at, first)
        ApiKey.objects.filter(pk=self.key.pk).update(last_used_at=first - timedelta(seconds=61))
        self.get(STORES)
        self.key.refresh_from_db()
        assert self.key.last_used_at is not None
        self.assertGreater(self.key.last_used_at, first - timedelta(seconds=61))

    def test_errors_speak_the_requests_language(self) -> None:
        self.key.revoked_at = timezone.now()
        self.key.save()
        error = self.assert_error(self.get(STORES, HTTP_ACCEPT_LANGUAGE="zh-Hans"), 401, "key_revoked")
        self.assertEqual(error["message"], "此 API 密钥已被撤销。")

    def test_odd_inputs_get_an_answer_in_the_error_shape_never_a_500(self) -> None:
        for query in ("?updated_since=99999-01-01", "?updated_since=2026-13-45T99:00", "?region=na%00"):
            self.assert_error(self.get(STORES + query), 400, "invalid")
        # An empty filter is no filter (as an empty form field).
        self.assertEqual(self.get(STORES + "?status=").status_code, 200)
        self.assert_error(self.get(STORES, HTTP_ACCEPT="text/html"), 406, "not_acceptable")
        response = self.get(STORES + "?format=xml")
        self.assertLess(response.status_code, 500)
        self.assertIn("error", response.json())
