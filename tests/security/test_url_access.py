"""Every URL, enumerated from the resolver: anonymous → login, outsider → 404, viewer → 403 on every change.

A URL added later is covered without editing this file; one with a parameter the tests cannot fill fails
`test_every_tenant_url_parameter_can_be_filled` until tests/security/routes.py learns what it names.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.invitations import hash_token, new_token
from accounts.models import Invitation, Membership, Tenant
from authorizations.models import (
    AuditEvent,
    Authorization,
    AuthorizationAttempt,
    hash_state,
    new_state,
)
from shipping.models import Package
from stores.models import Store
from sync.models import SkuMapping
from tests.api.helpers import make_key
from tests.api.order_helpers import amazon_order, store_orders
from tests.base import BaseTestCase
from tests.security.routes import (
    EXCLUDED_PREFIXES,
    PUBLIC_ROUTES,
    SESSION_BOUND_ROUTES,
    VIEWER_MAY_POST,
    Fixtures,
    Route,
    UnknownParameter,
    all_routes,
    generic_url,
    tenant_url,
)
from tests.webhooks.census import make_endpoint
from webhooks.models import Endpoint

# Data a careless view would act on: if an access check were missing, the database snapshot would change.
HOSTILE_POST = {
    "usual_environment": "on",
    "role": "owner",
    "nickname": "Taken over",
    "sites": ["US"],
    "email": "charlie@example.org",
    "name": "Taken over",
    "store": "new",
}
OTHER_METHODS = ("put", "patch", "delete")


def private_routes() -> list[Route]:
    """Routes that need a login: everything but the excluded families and the public allow-list."""
    return [
        r for r in all_routes() if r.excluded_by is None and r.route not in PUBLIC_ROUTES and not r.is_staff
    ]


def tenant_routes() -> list[Route]:
    """Private routes that name a tenant object in their path."""
    return [r for r in private_routes() if r.params]


def is_login_redirect(response: Any) -> bool:
    if response.status_code != 302:
        return False
    path = urlsplit(response["Location"]).path
    return path in (reverse("account_login"), reverse("admin:login"))


def snapshot() -> dict[str, Any]:
    """Everything a forbidden request could change."""
    return {
        "tenants": sorted(map(str, Tenant.objects.values_list("code", "name"))),
        "memberships": sorted(map(str, Membership.objects.values_list("code", "role", "tenant_id"))),
        "stores": sorted(
            map(
                str,
                Store.objects.values_list(
                    "code", "nickname", "archived_at", "sites", "selling_partner_id", "initial_order_date"
                ),
            )
        ),
        "authorizations": sorted(
            map(str, Authorization.objects.values_list("pk", "status", "refresh_token_encrypted"))
        ),
        "attempts": sorted(map(str, AuthorizationAttempt.objects.values_list("code", "outcome", "used_at"))),
        "audit_events": AuditEvent.objects.count(),
        "sku_mappings": sorted(map(str, SkuMapping.objects.values_list("pk", "store_id", "seller_sku"))),
        "packages": sorted(map(str, Package.objects.values_list("pk", "status", "tracking_number"))),
        "webhook_endpoints": sorted(
            map(str, Endpoint.objects.values_list("code", "url", "enabled", "secret_encrypted"))
        ),
    }


class AccessTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        now = timezone.now()
        self.attempt = AuthorizationAttempt.objects.create(
            state_hash=hash_state(new_state()),
            store=self.store,
            capability="orders",
            user=self.alice,
            started_at=now,
            expires_at=now + timedelta(minutes=15),
        )
        self.fx = Fixtures(
            store_code=str(self.store.code),
            tenant_code=str(self.tenant.code),
            membership_code=str(Membership.objects.get(user=self.bob, tenant=self.tenant).code),
            attempt_code=str(self.attempt.code),
            sku_mapping_pk=self.sku_mapping_pk(),
            amazon_order_id=self.order_id(),
            invitation_code=self.invitation_code(),
            api_key_code=str(make_key(self.tenant, self.alice)[0].code),
            webhook_endpoint_code=str(make_endpoint(self.tenant).code),
        )

    def order_id(self) -> str:
        """An order of the store, so that the order page answers (the viewer reads it, a POST is refused)."""
        order_id = "111-0000001-0000001"
        store_orders(self.store, [amazon_order(order_id)])
        return order_id

    def invitation_code(self) -> str:
        invitation = Invitation.objects.create(
            tenant=self.tenant,
            email="invitee@example.org",
            role=Membership.Role.MEMBER,
            invited_by=self.alice,
            token_hash=hash_token(new_token()),
            expires_at=timezone.now() + timedelta(days=7),
        )
        return str(invitation.code)

    def sku_mapping_pk(self) -> str:
        mapping = SkuMapping.objects.create(
            store=self.store, platform_sku="P-1", seller_sku="S-1", marketplace_id="ATVPDKIKX0DER"
        )
        return str(mapping.pk)

    def as_user(self, user: Any) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client


class EnumerationTests(AccessTestCase):
    def test_the_enumeration_finds_the_tenant_urls_of_every_app(self) -> None:
        names = {r.name for r in tenant_routes()}
        for expected in (
            "stores:detail",
            "stores:archive",
            "authorizations:begin",
            "authorizations:attempt",
            "authorizations:lifecycle_apply",
            "accounts:member_role",
            "accounts:switch_tenant",
            "webhooks:endpoint",
            "webhooks:send_again",
        ):
            self.assertIn(expected, names)

    def test_every_tenant_url_parameter_can_be_filled(self) -> None:
        problems = []
        for route in tenant_routes():
            try:
                tenant_url(route, self.fx)
            except UnknownParameter as e:
                problems.append(str(e))
        self.assertEqual(problems, [])

    def test_a_url_with_a_parameter_the_tests_do_not_know_is_reported(self) -> None:
        new = Route(route="stores/<uuid:code>/jobs/<int:job_id>/", name="x", callback=None, is_regex=False)
        with self.assertRaises(UnknownParameter):
            tenant_url(new, self.fx)
        unknown_code = Route(route="reports/<uuid:code>/", name="x", callback=None, is_regex=False)
        with self.assertRaises(UnknownParameter):
            tenant_url(unknown_code, self.fx)

    def test_every_allow_listed_route_still_exists(self) -> None:
        routes = {r.route for r in all_routes()}
        for listed in (*PUBLIC_ROUTES, *SESSION_BOUND_ROUTES, *VIEWER_MAY_POST):
            self.assertIn(listed, routes)
        for prefix in EXCLUDED_PREFIXES:
            self.assertTrue(any(r.startswith(prefix) for r in routes), prefix)


class AnonymousTests(AccessTestCase):
    def test_anonymous_visitors_are_sent_to_login_on_every_private_url(self) -> None:
        anonymous = Client()
        for route in private_routes():
            url = tenant_url(route, self.fx)
            with self.subTest(route=str(route)):
                get, post = anonymous.get(url), anonymous.post(url, HOSTILE_POST)
                # 405: the method decorator answers before the login check; it is the same for every object.
                for r in (get, post):
                    self.assertTrue(
                        is_login_redirect(r) or r.status_code == 405, (r.status_code, r.get("Location"))
                    )
                self.assertTrue(is_login_redirect(get) or is_login_redirect(post))
                for method in OTHER_METHODS:
                    r = getattr(anonymous, method)(url)
                    self.assertTrue(is_login_redirect(r) or r.status_code == 405, (method, r.status_code))

    def test_public_urls_answer_anonymous_visitors_without_an_error_or_tenant_data(self) -> None:
        anonymous = Client()
        for route in all_routes():
            if route.route not in PUBLIC_ROUTES:
                continue
            url = generic_url(route)
            with self.subTest(route=str(route)):
                r = anonymous.get(url)
                self.assertIn(r.status_code, (200, 302, 400))
                self.assertNotIn(self.store.nickname, r.content.decode())
                self.assertNotIn(self.tenant.name, r.content.decode())

    def test_anonymous_requests_change_nothing(self) -> None:
        before = snapshot()
        anonymous = Client()
        for route in private_routes():
            anonymous.post(tenant_url(route, self.fx), HOSTILE_POST)
        self.assertEqual(snapshot(), before)


class OutsiderTests(AccessTestCase):
    def test_an_outsider_gets_404_on_every_tenant_url(self) -> None:
        charlie = self.as_user(self.charlie)
        for route in tenant_routes():
            if route.route in SESSION_BOUND_ROUTES:
                continue
            url = tenant_url(route, self.fx)
            with self.subTest(route=str(route)):
                get, post = charlie.get(url), charlie.post(url, HOSTILE_POST)
                self.assertIn(get.status_code, (404, 405))
                self.assertIn(post.status_code, (404, 405))
                self.assertIn(404, (get.status_code, post.status_code))
                for method in OTHER_METHODS:
                    self.assertIn(getattr(charlie, method)(url).status_code, (404, 405), method)

    def test_session_bound_urls_answer_an_outsider_as_for_an_unknown_code(self) -> None:
        charlie = self.as_user(self.charlie)
        unknown = Fixtures(**{**self.fx.__dict__, "attempt_code": str(uuid.uuid4())})
        checked = 0
        for route in tenant_routes():
            if route.route not in SESSION_BOUND_ROUTES:
                continue
            with self.subTest(route=str(route)):
                for method in ("get", "post"):
                    real = getattr(charlie, method)(tenant_url(route, self.fx))
                    fake = getattr(charlie, method)(tenant_url(route, unknown))
                    self.assertEqual(real.status_code, fake.status_code)
                    self.assertFalse(200 <= real.status_code < 300 and method == "post")
                    self.assertNotIn(self.store.nickname, real.content.decode())
                    self.assertNotIn(self.tenant.name, real.content.decode())
                checked += 1
        self.assertEqual(checked, len(SESSION_BOUND_ROUTES))

    def test_an_outsider_changes_nothing(self) -> None:
        before = snapshot()
        charlie = self.as_user(self.charlie)
        for route in tenant_routes():
            url = tenant_url(route, self.fx)
            charlie.post(url, HOSTILE_POST)
            for method in OTHER_METHODS:
                getattr(charlie, method)(url)
        self.assertEqual(snapshot(), before)


class ViewerTests(AccessTestCase):
    def test_a_viewer_gets_403_on_every_unsafe_request_to_a_tenant_url(self) -> None:
        vera = self.as_user(self.vera)
        for route in tenant_routes():
            if route.route in VIEWER_MAY_POST:
                continue
            url = tenant_url(route, self.fx)
            with self.subTest(route=str(route)):
                r = vera.post(url, HOSTILE_POST)
                # 405: the URL takes no POST at all; 400: a session-bound link not held by this browser.
                allowed = (400, 405) if route.route in SESSION_BOUND_ROUTES else (403, 405)
                self.assertIn(r.status_code, allowed)
                for method in OTHER_METHODS:
                    r = getattr(vera, method)(url)
                    self.assertIn(r.status_code, (400, 403, 404, 405), method)

    def test_a_viewer_may_read_tenant_urls_but_never_gets_a_change_form(self) -> None:
        vera = self.as_user(self.vera)
        for route in tenant_routes():
            url = tenant_url(route, self.fx)
            with self.subTest(route=str(route)):
                r = vera.get(url)
                self.assertIn(r.status_code, (200, 302, 400, 403, 405))
                if r.status_code == 200:
                    # A page the viewer may read offers no form that posts to a change URL of this tenant.
                    self.assertNotIn(f'action="/stores/{self.store.code}/edit/', r.content.decode())
                    self.assertNotIn(
                        f'action="/stores/{self.store.code}/archive/confirm/', r.content.decode()
                    )

    def test_a_viewer_changes_nothing_through_any_tenant_url(self) -> None:
        before = snapshot()
        vera = self.as_user(self.vera)
        for route in tenant_routes():
            url = tenant_url(route, self.fx)
            vera.get(url)
            vera.post(url, HOSTILE_POST)
            for method in OTHER_METHODS:
                getattr(vera, method)(url)
        self.assertEqual(snapshot(), before)

    def test_the_viewer_allow_list_only_changes_the_viewer_session(self) -> None:
        vera = self.as_user(self.vera)
        before = snapshot()
        for route in tenant_routes():
            if route.route in VIEWER_MAY_POST:
                r = vera.post(tenant_url(route, self.fx), HOSTILE_POST)
                self.assertLess(r.status_code, 400)
        self.assertEqual(snapshot(), before)


class StaffOnlyTests(AccessTestCase):
    def staff_urls(self) -> list[str]:
        urls = [generic_url(r) for r in all_routes() if r.is_staff]
        return [reverse("admin:index"), *urls]

    def test_staff_only_urls_are_hidden_from_everyone_who_is_not_staff(self) -> None:
        for user in (None, self.alice, self.vera, self.charlie):
            client = self.as_user(user)
            for url in self.staff_urls():
                with self.subTest(user=str(user), url=url):
                    r = client.get(url)
                    self.assertTrue(r.status_code in (404, 405) or is_login_redirect(r), r.status_code)
                    r = client.post(url, HOSTILE_POST)
                    self.assertTrue(r.status_code in (403, 404, 405) or is_login_redirect(r), r.status_code)
