"""The "API access" page: owners and admins create and revoke keys; the secret is shown once and stored hashed."""

from __future__ import annotations

from unittest import mock

from django.contrib.messages import get_messages
from django.core.cache import cache

from accounts.models import Membership
from api.models import ApiKey, hash_key
from authorizations.models import AuditEvent
from tests.api.helpers import bearer, make_key
from tests.base import BaseTestCase, make_store, make_user

PAGE = "/team/api-keys/"


class KeyPageTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.admin = make_user("adam@example.org")
        Membership.objects.create(tenant=self.tenant, user=self.admin, role=Membership.Role.ADMIN)

    def create(self, **data: object) -> tuple[ApiKey, str, object]:
        response = self.client.post(PAGE, {"name": "Platform", "scope": "read", **data})
        self.assertEqual(response.status_code, 200, response.content)
        key = ApiKey.objects.get(tenant=self.tenant, name="Platform")
        secret = response.context["secret"]
        return key, secret, response

    def test_an_owner_and_an_admin_create_a_key_shown_once_and_stored_hashed(self) -> None:
        for user in (self.alice, self.admin):
            ApiKey.objects.filter(name="Platform").delete()
            self.login(user)
            key, secret, response = self.create()
            self.assertContains(response, secret)
            self.assertContains(response, f"Authorization: Bearer {key.prefix}_…")
            self.assertTrue(secret.startswith(key.prefix))
            self.assertEqual(key.secret_hash, hash_key(secret))
            self.assertEqual(key.created_by, user)
            self.assertIn("no-store", response["Cache-Control"])
            listing = self.client.get(PAGE)
            self.assertContains(listing, key.prefix)
            self.assertNotContains(listing, secret)
            event = AuditEvent.objects.filter(action="api_key.created").latest("created_at")
            self.assertNotIn(secret, event.detail)
            self.assertEqual(self.client.get("/api/v1/stores/", **bearer(secret)).status_code, 200)

    def test_a_key_may_be_limited_to_some_stores_of_its_own_tenant_only(self) -> None:
        self.login(self.alice)
        key, _secret, _response = self.create(stores=[self.store.pk])
        self.assertEqual(list(key.stores.all()), [self.store])
        foreign = make_store(self.other_tenant, nickname="Foreign")
        response = self.client.post(PAGE, {"name": "Sneaky", "scope": "read", "stores": [foreign.pk]})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(ApiKey.objects.filter(name="Sneaky").exists())

    def test_a_prefix_already_taken_draws_a_new_secret_instead_of_failing(self) -> None:
        self.login(self.alice)
        taken, _secret, _response = self.create()
        ApiKey.objects.filter(pk=taken.pk).update(name="Taken")
        draws = iter([taken.prefix.removeprefix("pk_live_"), "0badcafe"])
        with mock.patch("api.models.secrets.token_hex", side_effect=lambda n: next(draws)):
            key, secret, _response = self.create()
        self.assertEqual(key.prefix, "pk_live_0badcafe")
        self.assertTrue(secret.startswith("pk_live_0badcafe_"))
        self.assertEqual(self.client.get("/api/v1/stores/", **bearer(secret)).status_code, 200)

    def test_the_expiry_field_says_its_time_zone(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get(PAGE), "In UTC, like every time on this page.")
        key, _secret, _response = self.create(expires_at="2099-03-01T18:00")
        self.assertEqual(key.expires_at.isoformat(), "2099-03-01T18:00:00+00:00")

    def test_a_missing_name_or_a_past_expiry_is_a_form_error_not_a_crash(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.post(PAGE, {"name": "", "scope": "read"}).status_code, 400)
        response = self.client.post(PAGE, {"name": "Old", "scope": "read", "expires_at": "2000-01-01T00:00"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.client.post(PAGE, {"name": "X", "scope": "root"}).status_code, 400)
        self.assertFalse(ApiKey.objects.exists())

    def test_revoking_a_key_stops_it_and_is_audited(self) -> None:
        key, secret = make_key(self.tenant, self.alice)
        self.login(self.admin)
        response = self.client.post(f"{PAGE}{key.code}/revoke/")
        self.assertRedirects(response, PAGE)
        self.assertIn(key.prefix, str(next(iter(get_messages(response.wsgi_request)))))
        key.refresh_from_db()
        self.assertIsNotNone(key.revoked_at)
        self.assertTrue(
            AuditEvent.objects.filter(action="api_key.revoked", detail__contains=key.prefix).exists()
        )
        self.assertEqual(self.client.get("/api/v1/stores/", **bearer(secret)).status_code, 401)

    def test_members_and_viewers_get_403_and_change_nothing(self) -> None:
        key, _secret = make_key(self.tenant, self.alice)
        for user in (self.bob, self.vera):
            self.login(user)
            self.assertEqual(self.client.get(PAGE).status_code, 403)
            self.assertEqual(self.client.post(PAGE, {"name": "Mine", "scope": "read"}).status_code, 403)
            self.assertEqual(self.client.post(f"{PAGE}{key.code}/revoke/").status_code, 403)
        key.refresh_from_db()
        self.assertIsNone(key.revoked_at)
        self.assertEqual(ApiKey.objects.count(), 1)

    def test_an_outsider_gets_404_on_another_tenants_key(self) -> None:
        key, _secret = make_key(self.tenant, self.alice)
        self.login(self.charlie)
        self.assertEqual(self.client.post(f"{PAGE}{key.code}/revoke/").status_code, 404)
        key.refresh_from_db()
        self.assertIsNone(key.revoked_at)
        # Charlie's own page lists only Charlie's keys.
        self.assertNotContains(self.client.get(PAGE), key.prefix)

    def test_the_navigation_links_the_page_for_owners_only(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get("/team/members/"), f'href="{PAGE}"')
        self.login(self.vera)
        self.assertNotContains(self.client.get("/team/members/"), f'href="{PAGE}"')

    def test_the_page_speaks_chinese(self) -> None:
        self.login(self.alice)
        response = self.client.get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-Hans")
        self.assertContains(response, "API 访问")
        self.assertContains(response, "创建密钥")


class PlatformKeyAdminTests(BaseTestCase):
    def test_a_superuser_creates_a_platform_key_in_admin_and_sees_the_secret_once(self) -> None:
        root = make_user("root@example.org")
        root.is_staff = root.is_superuser = True
        root.save()
        self.login(root)
        response = self.client.post(
            "/admin/api/apikey/add/", {"name": "Back office", "scope": "read_write"}, follow=True
        )
        self.assertEqual(response.status_code, 200)
        key = ApiKey.objects.get(name="Back office")
        self.assertIsNone(key.tenant)
        self.assertEqual(key.scope, ApiKey.Scope.READ)
        shown = [str(m) for m in response.context["messages"]]
        secret = next(m.split(": ", 1)[1] for m in shown if key.prefix in m)
        self.assertEqual(key.secret_hash, hash_key(secret))
        change = self.client.get(f"/admin/api/apikey/{key.pk}/change/")
        self.assertNotContains(change, secret)
        self.assertNotContains(change, key.secret_hash)
        listed = {s["code"] for s in self.client.get("/api/v1/stores/", **bearer(secret)).json()["results"]}
        self.assertIn(str(self.store.code), listed)
