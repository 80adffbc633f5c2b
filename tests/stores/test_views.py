from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from authorizations.models import AuditEvent, Authorization, AuthStatus, Capability
from stores.models import CombinedStatus, Store
from tests.base import BaseTestCase, make_store


class StoreListTests(BaseTestCase):
    url = reverse("stores:list")

    def test_anonymous_is_sent_to_login(self) -> None:
        r = self.client.get(self.url)
        self.assertRedirects(r, f"{reverse('account_login')}?next={self.url}", fetch_redirect_response=False)

    def test_it_lists_only_the_tenant_stores(self) -> None:
        make_store(self.other_tenant, nickname="Charlie secret store")
        self.login(self.vera)
        r = self.client.get(self.url)
        self.assertContains(r, "Main US store")
        self.assertNotContains(r, "Charlie secret store")

    def test_it_shows_region_sites_status_label_capabilities_and_date(self) -> None:
        self.login(self.alice)
        r = self.client.get(self.url)
        self.assertContains(r, "North America")
        self.assertContains(r, "US, CA")
        self.assertContains(r, "Not authorized")
        self.assertContains(r, "Order loading: Not authorized")
        self.assertContains(r, "Listing/inventory sync: Not authorized")
        self.assertContains(r, "Advertising: Not authorized")
        # Dates in the store's time zone.
        self.assertContains(
            r, timezone.localtime(timezone.now(), ZoneInfo(self.store.timezone)).strftime("%Y-%m-%d")
        )

    def test_it_searches_by_nickname(self) -> None:
        make_store(self.tenant, nickname="Germany shop", region="EU", sites=["DE"])
        self.login(self.alice)
        r = self.client.get(self.url, {"q": "germ"})
        self.assertContains(r, "Germany shop")
        self.assertNotContains(r, "Main US store")

    def test_it_filters_by_status(self) -> None:
        s = make_store(self.tenant, nickname="Authorized shop")
        Store.objects.filter(pk=s.pk).update(authorization_status=CombinedStatus.AUTHORIZED)
        self.login(self.alice)
        r = self.client.get(self.url, {"status": "authorized"})
        self.assertContains(r, "Authorized shop")
        self.assertNotContains(r, "Main US store")

    def test_it_paginates_by_50(self) -> None:
        for i in range(55):
            make_store(self.tenant, nickname=f"Bulk {i:02d}")
        self.login(self.alice)
        r = self.client.get(self.url)
        self.assertEqual(len(r.context["page"].object_list), 50)
        self.assertContains(r, "Page 1 of 2")
        r2 = self.client.get(self.url, {"page": 2})
        self.assertEqual(len(r2.context["page"].object_list), 6)

    def test_a_bad_page_number_does_not_crash(self) -> None:
        self.login(self.alice)
        for page in ("abc", "-1", "99999"):
            self.assertEqual(self.client.get(self.url, {"page": page}).status_code, 200)

    def test_the_query_count_does_not_grow_with_the_page(self) -> None:
        self.login(self.alice)
        self.client.get(self.url)
        # PostgreSQL adds the planner's estimate (stores/paging.py), asked at every size.
        with self.assertNumQueries(8 if connection.vendor == "postgresql" else 7) as small:
            self.client.get(self.url)
        for i in range(30):
            make_store(self.tenant, nickname=f"More {i}")
        with self.assertNumQueries(len(small.captured_queries)):
            self.client.get(self.url)

    def test_html_in_a_nickname_is_shown_escaped(self) -> None:
        make_store(self.tenant, nickname="<script>alert(1)</script>")
        self.login(self.alice)
        r = self.client.get(self.url)
        self.assertNotContains(r, "<script>alert(1)</script>")
        self.assertContains(r, "&lt;script&gt;alert(1)&lt;/script&gt;")

    def test_a_user_without_a_tenant_is_asked_to_create_one(self) -> None:
        from tests.base import make_user

        loner = make_user("loner@example.org")
        self.login(loner)
        self.assertRedirects(self.client.get(self.url), reverse("accounts:create_tenant"))


class StoreAddTests(BaseTestCase):
    url = reverse("stores:add")

    def post(self, **data: object) -> object:
        base = {"nickname": "New store", "region": "EU", "sites": ["DE", "FR"], "initial_order_date": ""}
        base.update(data)
        return self.client.post(self.url, base)

    def test_it_shows_the_form(self) -> None:
        self.login(self.bob)
        r = self.client.get(self.url)
        self.assertContains(r, "Add Amazon account")
        self.assertContains(r, 'data-region="FE"')

    def test_it_creates_a_store_with_three_capabilities_not_authorized(self) -> None:
        self.login(self.bob)
        r = self.post(initial_order_date=(timezone.localdate() - timedelta(days=10)).isoformat())
        store = Store.objects.get(nickname="New store")
        self.assertRedirects(r, reverse("stores:created", args=[store.code]))
        self.assertEqual(store.tenant, self.tenant)
        self.assertEqual(store.region, "EU")
        self.assertEqual(store.sites, ["DE", "FR"])
        self.assertEqual(store.timezone, "Europe/Berlin")
        self.assertEqual(store.authorization_status, CombinedStatus.NOT_AUTHORIZED)
        self.assertEqual(store.selling_partner_id, "")
        caps = set(Authorization.objects.filter(store=store).values_list("capability", "status"))
        self.assertEqual(caps, {(c, AuthStatus.NOT_AUTHORIZED) for c in Capability.values})
        self.assertTrue(
            AuditEvent.objects.filter(store=store, action="store.created", user=self.bob).exists()
        )

    def test_the_created_page_offers_both_authorizations(self) -> None:
        self.login(self.bob)
        self.post()
        store = Store.objects.get(nickname="New store")
        r = self.client.get(reverse("stores:created", args=[store.code]))
        self.assertContains(r, "The Amazon account was created")
        self.assertContains(r, reverse("authorizations:start", args=[store.code, "orders"]))
        self.assertContains(r, reverse("authorizations:start", args=[store.code, "listings"]))

    def test_an_invalid_post_shows_errors_next_to_the_fields_and_keeps_input(self) -> None:
        self.login(self.bob)
        r = self.post(nickname="Main US store", region="NA", sites=["US", "DE"])
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="id_nickname_errors"')
        self.assertContains(r, 'id="id_sites_errors"')
        self.assertContains(r, 'value="Main US store"')
        self.assertEqual(Store.objects.count(), 1)

    def test_a_viewer_cannot_add(self) -> None:
        self.login(self.vera)
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertEqual(self.post().status_code, 403)
        self.assertFalse(Store.objects.filter(nickname="New store").exists())

    def test_anonymous_is_sent_to_login(self) -> None:
        r = self.post()
        self.assertEqual(r.status_code, 302)
        self.assertIn(reverse("account_login"), r["Location"])


class StoreDetailTests(BaseTestCase):
    def url(self, name: str = "stores:detail") -> str:
        return reverse(name, args=[self.store.code])

    def test_members_and_viewers_see_the_store(self) -> None:
        for user in (self.alice, self.bob, self.vera):
            self.login(user)
            r = self.client.get(self.url())
            self.assertContains(r, "Main US store")
            self.assertContains(r, "Authorization history")

    def test_an_outsider_gets_404_on_every_store_page(self) -> None:
        self.login(self.charlie)
        for name in ("stores:detail", "stores:created", "stores:edit", "stores:archive_confirm"):
            self.assertEqual(self.client.get(self.url(name)).status_code, 404, name)
        self.assertEqual(self.client.post(self.url("stores:archive")).status_code, 404)
        self.assertEqual(self.client.post(self.url("stores:edit"), {"nickname": "x"}).status_code, 404)

    def test_anonymous_is_sent_to_login_on_every_store_page(self) -> None:
        for name in ("stores:detail", "stores:created", "stores:edit", "stores:archive_confirm"):
            r = self.client.get(self.url(name))
            self.assertEqual(r.status_code, 302)
            self.assertIn(reverse("account_login"), r["Location"])

    def test_a_viewer_sees_no_change_buttons(self) -> None:
        self.login(self.vera)
        r = self.client.get(self.url())
        self.assertNotContains(r, self.url("stores:edit"))
        self.assertNotContains(r, self.url("stores:archive_confirm"))

    def test_an_unknown_code_is_404(self) -> None:
        self.login(self.alice)
        r = self.client.get(reverse("stores:detail", args=["00000000-0000-0000-0000-000000000000"]))
        self.assertEqual(r.status_code, 404)

    def test_a_store_of_another_own_tenant_switches_the_current_tenant(self) -> None:
        from accounts.models import Membership

        Membership.objects.create(tenant=self.other_tenant, user=self.bob, role=Membership.Role.VIEWER)
        theirs = make_store(self.other_tenant, nickname="Charlie store")
        self.login(self.bob)
        r = self.client.get(reverse("stores:detail", args=[theirs.code]))
        self.assertContains(r, "Charlie store")
        self.assertContains(self.client.get(reverse("stores:list")), "Charlie store")


class StoreEditTests(BaseTestCase):
    def url(self) -> str:
        return reverse("stores:edit", args=[self.store.code])

    def test_a_member_renames_and_changes_sites_and_date(self) -> None:
        self.login(self.bob)
        day = timezone.localdate() - timedelta(days=3)
        r = self.client.post(
            self.url(), {"nickname": " Renamed ", "sites": ["MX"], "initial_order_date": day}
        )
        self.assertRedirects(r, reverse("stores:detail", args=[self.store.code]))
        self.store.refresh_from_db()
        self.assertEqual(self.store.nickname, "Renamed")
        self.assertEqual(self.store.sites, ["MX"])
        self.assertEqual(self.store.initial_order_date, day)
        self.assertTrue(AuditEvent.objects.filter(store=self.store, action="store.updated").exists())

    def test_the_same_validation_applies(self) -> None:
        make_store(self.tenant, nickname="Taken")
        self.login(self.bob)
        future = timezone.localdate() + timedelta(days=2)
        r = self.client.post(self.url(), {"nickname": "taken", "sites": ["DE"], "initial_order_date": future})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="id_nickname_errors"')
        self.assertContains(r, 'id="id_sites_errors"')
        self.assertContains(r, 'id="id_initial_order_date_errors"')
        self.store.refresh_from_db()
        self.assertEqual(self.store.nickname, "Main US store")

    def test_a_viewer_gets_403(self) -> None:
        self.login(self.vera)
        self.assertEqual(self.client.get(self.url()).status_code, 403)
        r = self.client.post(self.url(), {"nickname": "Hijacked", "sites": ["US"]})
        self.assertEqual(r.status_code, 403)
        self.store.refresh_from_db()
        self.assertEqual(self.store.nickname, "Main US store")


class StoreArchiveTests(BaseTestCase):
    def test_archiving_asks_for_confirmation_first(self) -> None:
        self.login(self.bob)
        r = self.client.get(reverse("stores:archive_confirm", args=[self.store.code]))
        self.assertContains(r, "Archive “Main US store”?")
        self.store.refresh_from_db()
        self.assertIsNone(self.store.archived_at)

    def test_archiving_hides_the_store_and_frees_the_nickname(self) -> None:
        self.login(self.bob)
        r = self.client.post(reverse("stores:archive", args=[self.store.code]))
        self.assertRedirects(r, reverse("stores:list"))
        self.store.refresh_from_db()
        self.assertIsNotNone(self.store.archived_at)
        self.assertNotContains(self.client.get(reverse("stores:list")), "Main US store")
        self.assertContains(self.client.get(reverse("stores:list"), {"status": "archived"}), "Main US store")
        self.assertTrue(AuditEvent.objects.filter(store=self.store, action="store.archived").exists())
        make_store(self.tenant, nickname="Main US store")

    def test_an_archived_store_cannot_be_changed(self) -> None:
        self.login(self.bob)
        self.client.post(reverse("stores:archive", args=[self.store.code]))
        self.assertEqual(self.client.get(reverse("stores:edit", args=[self.store.code])).status_code, 403)

    def test_archiving_needs_a_post(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("stores:archive", args=[self.store.code])).status_code, 405)

    def test_a_viewer_cannot_archive(self) -> None:
        self.login(self.vera)
        self.assertEqual(self.client.post(reverse("stores:archive", args=[self.store.code])).status_code, 403)
        self.store.refresh_from_db()
        self.assertIsNone(self.store.archived_at)
