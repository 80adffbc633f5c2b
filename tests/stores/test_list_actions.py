"""What the store list and the demo show a person: one label, an action per row, staff's home, mail notes."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from authorizations.models import Authorization, AuthStatus
from tests.base import BaseTestCase


class StoreListTests(BaseTestCase):
    def test_each_row_offers_the_next_authorization_to_editors(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("stores:list"))
        self.assertContains(page, reverse("authorizations:start", args=[self.store.code, "orders"]))
        Authorization.objects.filter(store=self.store, capability="orders").update(
            status=AuthStatus.AUTHORIZED
        )
        page = self.client.get(reverse("stores:list"))
        self.assertContains(page, reverse("authorizations:start", args=[self.store.code, "listings"]))

    def test_viewers_get_no_authorize_action(self) -> None:
        self.login(self.vera)
        self.assertNotContains(self.client.get(reverse("stores:list")), 'data-testid="row-authorize"')

    def test_the_label_is_not_repeated_beside_the_badge(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("stores:list")).content.decode()
        rows = page[page.index("<tbody>") : page.index("</tbody>")]
        self.assertEqual(rows.count(">Not authorized<"), 1)
        self.assertNotIn('class="label-line"', rows)
        Authorization.objects.filter(store=self.store, capability="orders").update(
            status=AuthStatus.AUTHORIZED
        )
        self.store.authorization_status = "partial"
        self.store.save()
        rows = self.client.get(reverse("stores:list")).content.decode()
        self.assertIn("Order loading authorized, listing/inventory not authorized", rows)


class DemoTests(BaseTestCase):
    def test_staff_without_a_distributor_account_land_on_the_staff_page(self) -> None:
        staff = User.objects.create_user("staff@example.org", "x", is_staff=True)
        self.client.force_login(staff)
        self.assertRedirects(self.client.get(reverse("home")), reverse("staff:staff_stores"))
        self.assertRedirects(self.client.get(reverse("stores:list")), reverse("staff:staff_stores"))

    def test_pages_that_send_mail_say_where_it_goes_in_the_demo(self) -> None:
        with self.settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
            page = Client().get(reverse("account_signup"))
        self.assertContains(page, 'data-testid="console-mail"')
        self.assertNotEqual(settings.EMAIL_BACKEND, "")

    def test_the_appstore_entry_says_why_the_login_page_appears(self) -> None:
        app_id = settings.AMAZON_SPAPI_APPS["orders"]["app_id"]
        query = urlencode(
            {
                "amazon_callback_uri": f"https://sellercentral.amazon.com/apps/authorize/confirm/{app_id}",
                "amazon_state": "s",
                "selling_partner_id": "A1B2C3",
            }
        )
        with self.settings(AMAZON_USE_SANDBOX=False):
            page = Client().get(reverse("amazon:appstore_login", args=["orders"]) + "?" + query, follow=True)
        self.assertContains(page, "Amazon sent you here to connect the seller account A1B2C3")


class ChineseFormTests(BaseTestCase):
    def test_the_add_form_names_the_sites_in_the_readers_language(self) -> None:
        self.login(self.alice)
        self.client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
        page = self.client.get(reverse("stores:add"))
        self.assertContains(page, "英国 (UK)")
        self.assertContains(page, "添加 Amazon 账号")
