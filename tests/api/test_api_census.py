"""Every route under /api/v1/, enumerated from the resolver, for every kind of caller: a route added later is
checked without editing this file, and a parameter it cannot fill fails the census."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.urls import resolve
from django.utils import timezone

from api.models import ApiKey
from tests.api.helpers import bearer, make_key
from tests.api.order_helpers import amazon_order, store_orders
from tests.base import BaseTestCase, make_store
from tests.security.routes import PARAM, UnknownParameter, all_routes

# Public on purpose: the OpenAPI document and its docs page describe the API and hold no tenant data.
PUBLIC = {"api/v1/schema/", "api/v1/docs/"}
UNSAFE = ("post", "put", "patch", "delete")


def api_routes() -> list[str]:
    return sorted(r.route for r in all_routes() if r.route.startswith("api/v1/") and not r.is_regex)


# The order the census's store holds (so every orders route has something of the store's to show or hide).
ORDER_ID = "111-0000001-0000001"
SHIPMENT = {
    "package_reference_id": 1,
    "carrier_code": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "ship_date": "2026-03-02T10:00:00Z",
}


def fill(route: str, store_code: str) -> str:
    def value(m: Any) -> str:
        if m["name"] == "code":
            return store_code
        if m["name"] == "amazon_order_id":
            return ORDER_ID
        raise UnknownParameter(f"/{route}: teach tests/api/test_api_census.py what <{m['name']}> names")

    return "/" + PARAM.sub(value, route)


def methods(url: str) -> list[str]:
    """The methods a route's view answers (GET for reads, POST for actions), from the view class itself."""
    view = resolve(url).func.cls  # type: ignore[attr-defined]
    return [m for m in ("get", *UNSAFE) if hasattr(view, m)]


class ApiCensusTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.second = make_store(self.tenant, nickname="Second store")
        store_orders(self.store, [amazon_order(ORDER_ID)])
        _k, self.own = make_key(self.tenant, self.alice)
        _k, self.own_write = make_key(self.tenant, self.alice, scope=ApiKey.Scope.READ_WRITE)
        # Write keys, so that an action route answers for the store (404), not for the scope (403).
        _k, self.foreign = make_key(self.other_tenant, self.charlie, scope=ApiKey.Scope.READ_WRITE)
        _k, self.limited = make_key(
            self.tenant, self.alice, scope=ApiKey.Scope.READ_WRITE, stores=[self.second]
        )
        revoked, self.revoked = make_key(self.tenant, self.alice)
        ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
        _k, self.expired = make_key(self.tenant, self.alice, expires_at=timezone.now() - timedelta(seconds=1))
        self.private = [r for r in api_routes() if r not in PUBLIC]
        self.urls = [fill(r, str(self.store.code)) for r in self.private]

    def call(self, method: str, url: str, secret: str | None = None) -> Any:
        headers = bearer(secret) if secret else {}
        if method == "get":
            return self.client.get(url, **headers)
        data: dict[str, Any] = {}
        if url.endswith("/shipments"):
            # A write that needs a body of its own: one package of the census's order, under a new key each time.
            data = SHIPMENT | {"items": [{"order_item_id": f"{ORDER_ID}-1", "quantity": 1}]}
            headers["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4())
        return getattr(self.client, method)(url, data=data, content_type="application/json", **headers)

    def each_call(self) -> list[tuple[str, str, str]]:
        """(route, url, method) for every route and every method its view answers."""
        return [(r, u, m) for r, u in zip(self.private, self.urls, strict=True) for m in methods(u)]

    def assert_status(self, response: Any, status: int, url: str) -> None:
        self.assertEqual(response.status_code, status, url)
        self.assertIn("error", response.json(), url)

    def test_the_census_sees_the_api_routes_and_the_public_ones_still_exist(self) -> None:
        self.assertIn("api/v1/stores/<str:code>/", self.private)
        self.assertIn("api/v1/orders/<str:amazon_order_id>/", self.private)
        self.assertIn("api/v1/orders/changes/", self.private)
        self.assertLessEqual(PUBLIC, set(api_routes()))

    def test_anonymous_revoked_and_expired_callers_get_401_on_every_route_and_method(self) -> None:
        for url in self.urls:
            for method in ("get", *UNSAFE):
                for secret in (None, self.revoked, self.expired):
                    self.assert_status(self.call(method, url, secret), 401, f"{method} {url}")

    def test_every_route_answers_some_method(self) -> None:
        for url in self.urls:
            self.assertTrue(methods(url), url)

    def test_another_tenants_key_never_sees_the_store(self) -> None:
        for route, url, method in self.each_call():
            response = self.call(method, url, self.foreign)
            if "<" in route:
                self.assert_status(response, 404, f"{method} {url}")
            else:
                self.assertNotIn(str(self.store.code), response.content.decode(), f"{method} {url}")

    def test_a_store_limited_key_never_sees_the_other_stores(self) -> None:
        for route, url, method in self.each_call():
            response = self.call(method, url, self.limited)
            if "<" in route:
                self.assert_status(response, 404, f"{method} {url}")
            else:
                self.assertNotIn(str(self.store.code), response.content.decode(), f"{method} {url}")

    def test_a_read_key_gets_403_on_every_write(self) -> None:
        for url in self.urls:
            for method in UNSAFE:
                self.assert_status(self.call(method, url, self.own), 403, f"{method} {url}")

    def test_the_tenants_own_key_reads_every_route(self) -> None:
        for _route, url, method in self.each_call():
            response = self.call(method, url, self.own if method == "get" else self.own_write)
            # A package is accepted (202) and sent to Amazon later; every other route answers at once.
            expected = 202 if method == "post" and url.endswith("/shipments") else 200
            self.assertEqual(response.status_code, expected, f"{method} {url}")
            self.assertIn(str(self.store.code), response.content.decode(), f"{method} {url}")
