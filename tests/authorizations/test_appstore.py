from __future__ import annotations

from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus
from sandbox import api as sandbox_api
from sandbox.models import SandboxApplication, SandboxSeller
from stores.models import Store
from tests.authorizations.helpers import FlowTestCase
from tests.base import PASSWORD, make_store
from tests.sandbox_http import SANDBOX_BASE, sandbox_path


class AppstoreTestCase(FlowTestCase):
    def amazon_starts(self, capability: str = "orders", seller: SandboxSeller | None = None) -> str:
        """The seller presses "Authorize" in the (sandbox) Appstore: returns our login URI with Amazon's params."""
        amazon = Client(HTTP_HOST="sandbox.test")  # the sandbox as the test settings reach it
        amazon.get("/sandbox/")  # syncs the sandbox's applications from settings
        app = SandboxApplication.objects.get(application_id__contains=f"sandbox-{capability}")
        r = amazon.post(reverse("sandbox:control_appstore", args=[(seller or self.seller).pk, app.pk]))
        self.assertEqual(r.status_code, 302)
        self.assertTrue(r["Location"].startswith(f"/amazon/appstore/{capability}/login/?"))
        return str(r["Location"])

    def login_uri(self, **params: str) -> str:
        return reverse("amazon:appstore_login", args=["orders"]) + "?" + urlencode(params)


class AppstoreTests(AppstoreTestCase):
    def test_entry_from_the_appstore_creates_a_new_store_and_authorizes_it(self) -> None:
        browser = Client()
        r = browser.get(self.amazon_starts())
        self.assertIn(reverse("account_login"), r["Location"])
        r = browser.post(r["Location"], {"login": "bob@example.org", "password": PASSWORD})
        self.assertEqual(r["Location"], reverse("amazon:appstore_continue"))
        page = browser.get(r["Location"], {"region": "NA"})
        self.assertContains(page, self.seller.selling_partner_id)
        self.assertContains(page, "Create a new store")
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {
                "region": "NA",
                "store": "new",
                "nickname": "From the Appstore",
                "sites": ["US", "CA"],
                "usual_environment": "on",
            },
        )
        self.assertEqual(r.status_code, 302)
        self.assertTrue(
            r["Location"].startswith(f"{SANDBOX_BASE}/sellercentral/amazon.com/apps/authorize/confirm/")
        )
        self.assertIn("amazon_state=", r["Location"])
        self.assertIn("redirect_uri=", r["Location"])
        amazon = browser.get(sandbox_path(r["Location"]))
        self.assertEqual(amazon.status_code, 302)
        done = browser.get(sandbox_path(amazon["Location"]))
        store = Store.objects.get(nickname="From the Appstore")
        self.assertRedirects(done, reverse("stores:detail", args=[store.code]), fetch_redirect_response=False)
        self.assertEqual(store.selling_partner_id, self.seller.selling_partner_id)
        self.assertEqual(
            Authorization.objects.get(store=store, capability="orders").status, AuthStatus.AUTHORIZED
        )
        self.assertEqual(AuthorizationAttempt.objects.get(store=store).source, "appstore")

    def test_an_entry_from_amazon_com_lets_the_chosen_region_decide_the_region_of_a_new_store(self) -> None:
        # amazon.com (the Appstore's documented callback host) names no region: an EU seller chooses Europe.
        eu_seller = sandbox_api.create_seller("EU Appstore Seller", "EU", ["A1PA6795UKMFR9"])
        browser = Client()
        browser.force_login(self.alice)
        entry = self.amazon_starts(seller=eu_seller)
        self.assertIn(
            "amazon_callback_uri=http%3A%2F%2Fsandbox.test%2Fsandbox%2Fsellercentral%2Famazon.com", entry
        )
        r = browser.get(entry)
        page = browser.get(r["Location"], {"region": "EU"})
        self.assertContains(page, "Germany (DE)")
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {
                "region": "EU",
                "store": "new",
                "nickname": "DE from the Appstore",
                "sites": ["DE"],
                "usual_environment": "on",
            },
        )
        self.assertEqual(r.status_code, 302)
        done = browser.get(sandbox_path(browser.get(sandbox_path(r["Location"]))["Location"]))
        store = Store.objects.get(nickname="DE from the Appstore")
        self.assertEqual((store.region, store.sites), ("EU", ["DE"]))
        self.assertRedirects(done, reverse("stores:detail", args=[store.code]), fetch_redirect_response=False)
        self.assertEqual(
            Authorization.objects.get(store=store, capability="orders").status, AuthStatus.AUTHORIZED
        )

    def test_reauthorization_from_manage_your_apps_renews_an_existing_store(self) -> None:
        self.authorize("orders")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        old_token = auth.refresh_token_encrypted
        Authorization.objects.filter(pk=auth.pk).update(
            expires_at=timezone.now() + timezone.timedelta(days=3)
        )
        browser = Client()
        browser.force_login(self.alice)
        r = browser.get(self.amazon_starts())
        page = browser.get(r["Location"])
        self.assertContains(page, "Main US store")
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {"store": str(self.store.code), "usual_environment": "on"},
        )
        amazon = browser.get(sandbox_path(r["Location"]))
        browser.get(sandbox_path(amazon["Location"]))
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        self.assertNotEqual(auth.refresh_token_encrypted, old_token)
        self.assertGreater(auth.expires_at, timezone.now() + timezone.timedelta(days=364))
        self.assertEqual(
            AuthorizationAttempt.objects.filter(store=self.store).latest("started_at").reason, "renewed"
        )

    def test_the_login_uri_refuses_a_callback_that_is_not_amazon(self) -> None:
        for uri in (
            "https://evil.example/apps/authorize/confirm/x",
            "javascript:alert(1)",
            "//evil.example/",
            "",
        ):
            r = self.client.get(
                self.login_uri(amazon_callback_uri=uri, amazon_state="s", selling_partner_id="A1B2C3")
            )
            self.assertEqual(r.status_code, 400, uri)

    def test_with_real_amazon_only_https_seller_central_hosts_are_accepted(self) -> None:
        from authorizations.appstore import region_of_callback

        with self.settings(AMAZON_USE_SANDBOX=False):
            self.assertEqual(
                region_of_callback("https://sellercentral.amazon.co.jp/apps/authorize/confirm/a", "a"), "FE"
            )
            self.assertEqual(
                region_of_callback("https://sellercentral-europe.amazon.com/apps/authorize/confirm/a", "a"),
                "EU",
            )
            # The Appstore's own host, as Amazon documents amazon_callback_uri; it names no region.
            self.assertEqual(region_of_callback("https://amazon.com/apps/authorize/confirm/a", "a"), "")
            self.assertEqual(region_of_callback("https://www.amazon.com/apps/authorize/confirm/a", "a"), "")
            for bad in (
                "http://sellercentral.amazon.com/apps/authorize/confirm/a",
                "https://sellercentral.amazon.com.evil.example/apps/authorize/confirm/a",
                "https://user@sellercentral.amazon.com/apps/authorize/confirm/a",
                "https://sellercentral.amazon.com/apps/authorize/confirm/another-app",
                "https://sellercentral.amazon.com/apps/authorize/confirm/a/../../team/",
                "https://sellercentral.amazon.com/apps/authorize/confirm/%2e%2e/a",
                "https://sellercentral.amazon.com:abc/apps/authorize/confirm/a",
                "https://sellercentral.amazon.com:443/apps/authorize/confirm/a",
                "https://sellercentral.amazon.com/x",
                "https://amazon.com.evil.example/apps/authorize/confirm/a",
                "https://evilamazon.com/apps/authorize/confirm/a",
                "https://amazon.com@evil.example/apps/authorize/confirm/a",
                "https://amazon.com/apps/authorize/confirm/a?x=1#frag",
            ):
                with self.subTest(uri=bad):
                    self.assertIsNone(region_of_callback(bad, "a"))

    def test_an_account_of_another_tenant_is_refused_before_going_to_amazon(self) -> None:
        theirs = make_store(self.other_tenant, nickname="Charlie US")
        Store.objects.filter(pk=theirs.pk).update(selling_partner_id=self.seller.selling_partner_id)
        browser = Client()
        browser.force_login(self.alice)
        r = browser.get(self.amazon_starts())
        page = browser.get(r["Location"])
        self.assertContains(page, "already connected to another distributor account")
        self.assertNotContains(page, "Charlie")
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {"store": "new", "nickname": "x", "sites": ["US"], "usual_environment": "on"},
        )
        self.assertEqual(r["Location"], reverse("amazon:appstore_continue"))
        self.assertFalse(Store.objects.filter(nickname="x").exists())

    def test_new_store_fields_are_validated_with_errors_next_to_them(self) -> None:
        browser = Client()
        browser.force_login(self.alice)
        browser.get(self.amazon_starts())
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {"region": "EU", "store": "new", "nickname": "", "sites": ["DE"]},
        )
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, 'id="id_nickname_errors"', status_code=400)
        self.assertContains(r, 'id="id_usual_environment_errors"', status_code=400)
        self.assertFalse(AuthorizationAttempt.objects.exists())

    def test_a_viewer_cannot_connect_from_the_appstore(self) -> None:
        browser = Client()
        browser.force_login(self.vera)
        browser.get(self.amazon_starts())
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {"store": "new", "nickname": "V", "sites": ["US"], "usual_environment": "on"},
        )
        self.assertEqual(r.status_code, 403)

    def test_a_used_amazon_state_is_refused_by_the_sandbox(self) -> None:
        browser = Client()
        browser.force_login(self.alice)
        browser.get(self.amazon_starts())
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {"region": "NA", "store": str(self.store.code), "usual_environment": "on"},
        )
        self.assertEqual(browser.get(sandbox_path(r["Location"])).status_code, 302)
        self.assertEqual(browser.get(sandbox_path(r["Location"])).status_code, 400)


class AppstoreRegionTests(AppstoreTestCase):
    """Item: a North America seller was offered its EU and FE stores and all 23 sites, with no way to cancel."""

    def setUp(self) -> None:
        super().setUp()
        self.eu_store = make_store(self.tenant, nickname="Berlin store", region="EU")
        self.fe_store = make_store(self.tenant, nickname="Tokyo store", region="FE")
        self.browser = Client()
        self.browser.force_login(self.alice)

    def enter(self) -> None:
        self.browser.get(self.amazon_starts())

    def test_an_entry_that_names_no_region_asks_for_it_before_offering_stores_or_sites(self) -> None:
        self.enter()
        page = self.browser.get(reverse("amazon:appstore_continue"))
        self.assertContains(page, 'data-testid="appstore-region-choice"')
        for name in ("Main US store", "Berlin store", "Tokyo store", "United States (US)", "Germany (DE)"):
            self.assertNotContains(page, name)
        self.assertContains(page, 'data-testid="appstore-cancel"')

    def test_after_choosing_north_america_only_its_stores_and_sites_are_offered(self) -> None:
        self.enter()
        page = self.browser.get(reverse("amazon:appstore_continue"), {"region": "NA"})
        self.assertContains(page, "Main US store")
        self.assertNotContains(page, "Berlin store")
        self.assertNotContains(page, "Tokyo store")
        self.assertContains(page, "United States (US)")
        self.assertNotContains(page, "Germany (DE)")
        self.assertNotContains(page, "Japan (JP)")
        self.assertContains(page, f"{reverse('amazon:appstore_continue')}?region=EU")

    def test_a_seller_already_connected_in_north_america_is_offered_only_north_american_stores(self) -> None:
        Store.objects.filter(pk=self.store.pk).update(selling_partner_id=self.seller.selling_partner_id)
        self.enter()
        page = self.browser.get(reverse("amazon:appstore_continue"))
        self.assertContains(page, "Main US store")
        self.assertNotContains(page, "Berlin store")
        self.assertNotContains(page, "Tokyo store")
        self.assertNotContains(page, "Germany (DE)")

    def test_a_store_or_site_of_another_region_cannot_be_posted(self) -> None:
        self.enter()
        r = self.browser.post(
            reverse("amazon:appstore_confirm"),
            {"region": "NA", "store": str(self.eu_store.code), "usual_environment": "on"},
        )
        self.assertEqual(r.status_code, 400)
        r = self.browser.post(
            reverse("amazon:appstore_confirm"),
            {"region": "NA", "store": "new", "nickname": "Mixed", "sites": ["DE"], "usual_environment": "on"},
        )
        self.assertContains(r, 'id="id_sites_errors"', status_code=400)
        self.assertFalse(AuthorizationAttempt.objects.exists())

    def test_a_seller_central_callback_host_fixes_the_region_and_offers_no_change(self) -> None:
        from django.conf import settings

        app_id = settings.AMAZON_SPAPI_APPS["orders"]["app_id"]
        uri = f"{SANDBOX_BASE}/sellercentral/sellercentral.amazon.co.jp/apps/authorize/confirm/{app_id}"
        self.browser.get(
            self.login_uri(amazon_callback_uri=uri, amazon_state="s", selling_partner_id="A1JPSELLER")
        )
        page = self.browser.get(reverse("amazon:appstore_continue"), {"region": "NA"})
        self.assertContains(page, "Tokyo store")
        self.assertNotContains(page, "Main US store")
        self.assertNotContains(page, f'href="{reverse("amazon:appstore_continue")}?region=')
        self.assertNotContains(page, 'name="region"')

    def test_cancel_forgets_amazons_request_and_connects_nothing(self) -> None:
        self.enter()
        r = self.browser.post(reverse("amazon:appstore_cancel"), follow=True)
        self.assertRedirects(r, reverse("stores:list"))
        self.assertContains(r, "Nothing was connected: Amazon received no authorization.")
        self.assertEqual(self.browser.get(reverse("amazon:appstore_continue")).status_code, 400)
        self.assertFalse(AuthorizationAttempt.objects.exists())
        self.assertEqual(self.browser.get(reverse("amazon:appstore_cancel")).status_code, 405)
