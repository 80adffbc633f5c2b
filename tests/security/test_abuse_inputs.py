"""Hostile input that used to crash or mislead: NUL bytes, bidi controls, huge CSVs, a malformed cookie value.

The NUL cases matter on PostgreSQL (text cannot hold U+0000 there; SQLite stores it): run this file against both.
"""

from __future__ import annotations

import json
import re

from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Tenant, User
from authorizations import holding
from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus
from stores.models import Store
from sync.models import PlatformStock, SkuMapping
from tests.authorizations.helpers import FlowTestCase
from tests.base import PASSWORD, BaseTestCase

# RFC 6265 section 4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (no quote, comma,
# semicolon, space or backslash), and a cookie-value may be wrapped in one pair of double quotes only.
COOKIE_OCTETS = re.compile(r"^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$")

# The controls that reorder how text is shown (Unicode bidi embeddings, overrides, isolates and marks).
BIDI_CONTROLS = ["\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069"]
BIDI_CONTROLS += ["\u200e", "\u200f", "\u061c"]


class NulInTheSessionCookieTests(BaseTestCase):
    def test_a_nul_in_the_session_cookie_leaves_every_page_working_as_for_an_anonymous_visitor(self) -> None:
        for value in ("abc\x00def", "\x00" * 32, "a" * 31 + "\x00"):
            for path in ("/", reverse("account_login"), reverse("account_signup"), reverse("stores:list")):
                with self.subTest(value=value, path=path):
                    r = Client().get(path, headers={"cookie": f"sessionid={value}"})
                    self.assertIn(r.status_code, (200, 302), r.content[:300])
                    if r.status_code == 302:
                        self.assertTrue(r["Location"].startswith(reverse("account_login")), r["Location"])

    def test_a_nul_in_the_session_cookie_still_lets_the_visitor_log_in(self) -> None:
        browser = Client()
        browser.cookies["sessionid"] = "a" * 31 + "\x00"  # the length of a real key
        r = browser.post(reverse("account_login"), {"login": "alice@example.org", "password": PASSWORD})
        self.assertEqual(r.status_code, 302, r.content[:300])
        self.assertEqual(browser.get(reverse("stores:list")).status_code, 200)

    def test_a_session_cookie_that_is_not_a_session_key_is_dropped_and_cleared(self) -> None:
        r = Client().get(reverse("account_login"), headers={"cookie": "sessionid=" + "b" * 31 + "\x00"})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.cookies["sessionid"].value, "")  # the browser is told to forget it


class NulInUploadedCsvTests(BaseTestCase):
    def upload(self, name: str, content: bytes) -> object:
        url = reverse(name, args=[self.store.code])
        return self.client.post(url, {"file": SimpleUploadedFile("f.csv", content, "text/csv")}, follow=True)

    def test_a_nul_inside_a_mapping_csv_is_a_clear_message_and_saves_nothing(self) -> None:
        self.login(self.alice)
        for content in (
            b"platform_sku,seller_sku,site\nP-1,AMZ\x00-1,US\nP-2,AMZ-2,US\n",
            b"platform_sku,seller_sku,site\x00\nP-1,AMZ-1,US\n",
        ):
            with self.subTest(content=content):
                r = self.upload("sync:mapping_upload", content)
                self.assertEqual(r.status_code, 200)  # type: ignore[attr-defined]
                self.assertContains(r, "NUL character")  # type: ignore[arg-type]
        self.assertFalse(SkuMapping.objects.exists())

    def test_a_nul_inside_a_stock_csv_is_a_clear_message_and_saves_nothing(self) -> None:
        self.login(self.alice)
        r = self.upload("sync:stock_upload", b"platform_sku,quantity\nP\x00-1,5\nP-2,6\n")
        self.assertEqual(r.status_code, 200)  # type: ignore[attr-defined]
        self.assertContains(r, "NUL character")  # type: ignore[arg-type]
        self.assertFalse(PlatformStock.objects.exists())


class LargeCsvTests(BaseTestCase):
    """The documented limit is 20,000 rows. Counting queries, not seconds: one query per row took ~50 s."""

    ROWS = 20_000
    # Dozens of rows per statement at least (SQLite's variable limit makes its batches smaller than PostgreSQL's);
    # one query or more per row before.
    MAX_QUERIES = ROWS // 50

    def upload(self, name: str, content: bytes) -> object:
        url = reverse(name, args=[self.store.code])
        return self.client.post(url, {"file": SimpleUploadedFile("f.csv", content, "text/csv")})

    def test_a_mapping_csv_of_the_largest_allowed_size_is_saved_in_a_few_queries(self) -> None:
        self.login(self.alice)
        # A tenth of the rows already exist: half of those keep their platform SKU, half change it.
        for i in range(0, self.ROWS, 10):
            platform = f"P-{i}" if i % 20 == 0 else f"OLD-{i}"
            SkuMapping.objects.create(
                store=self.store,
                platform_sku=platform,
                seller_sku=f"AMZ-{i}",
                marketplace_id="ATVPDKIKX0DER",
                pushed_quantity=7,
            )
        lines = ["platform_sku,seller_sku,site"] + [f"P-{i},AMZ-{i},US" for i in range(self.ROWS)]
        with CaptureQueriesContext(connection) as queries:
            r = self.upload("sync:mapping_upload", "\n".join(lines).encode())
        self.assertEqual(r.status_code, 302)  # type: ignore[attr-defined]
        self.assertLess(len(queries), self.MAX_QUERIES)
        self.assertEqual(SkuMapping.objects.filter(store=self.store).count(), self.ROWS)
        changed = SkuMapping.objects.get(seller_sku="AMZ-10")
        self.assertEqual(
            (changed.platform_sku, changed.pushed_quantity), ("P-10", None)
        )  # must be pushed again
        kept = SkuMapping.objects.get(seller_sku="AMZ-20")
        self.assertEqual((kept.platform_sku, kept.pushed_quantity), ("P-20", 7))
        self.assertEqual(SkuMapping.objects.get(seller_sku="AMZ-19999").platform_sku, "P-19999")

    def test_a_stock_csv_of_the_largest_allowed_size_is_saved_in_a_few_queries(self) -> None:
        self.login(self.alice)
        PlatformStock.objects.create(tenant=self.tenant, platform_sku="P-3", quantity=1)
        lines = ["platform_sku,quantity"] + [f"P-{i},{i % 50}" for i in range(self.ROWS)]
        with CaptureQueriesContext(connection) as queries:
            r = self.upload("sync:stock_upload", "\n".join(lines).encode())
        self.assertEqual(r.status_code, 302)  # type: ignore[attr-defined]
        self.assertLess(len(queries), self.MAX_QUERIES)
        self.assertEqual(PlatformStock.objects.filter(tenant=self.tenant).count(), self.ROWS)
        self.assertEqual(PlatformStock.objects.get(platform_sku="P-3").quantity, 3)


class BidiControlTests(BaseTestCase):
    def test_a_store_nickname_with_a_bidi_control_is_a_field_error(self) -> None:
        self.login(self.alice)
        for ch in BIDI_CONTROLS:
            with self.subTest(ch=hex(ord(ch))):
                r = self.client.post(
                    reverse("stores:add"), {"nickname": f"\u202eevil{ch}", "region": "NA", "sites": ["US"]}
                )
                self.assertContains(r, "direction")
        self.assertFalse(Store.objects.filter(nickname__contains="evil").exists())

    def test_renaming_a_store_to_a_nickname_with_a_bidi_control_is_refused(self) -> None:
        self.login(self.alice)
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]), {"nickname": "\u202elive", "sites": ["US"]}
        )
        self.assertContains(r, "direction")
        self.store.refresh_from_db()
        self.assertEqual(self.store.nickname, "Main US store")

    def test_a_distributor_account_name_with_a_bidi_control_is_refused_at_creation_and_sign_up(self) -> None:
        self.login(self.alice)
        r = self.client.post(reverse("accounts:create_tenant"), {"name": "Evil\u202e Co"})
        self.assertContains(r, "direction")
        r = Client().post(
            reverse("account_signup"),
            {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD, "company": "\u2067Co"},
        )
        self.assertContains(r, "direction")
        self.assertFalse(Tenant.objects.filter(name__contains="Co\u202e").exists())
        self.assertFalse(User.objects.filter(email="new@example.org").exists())

    def test_names_in_other_scripts_are_still_welcome(self) -> None:
        self.login(self.alice)
        for name in ("深圳贸易", "متجر القاهرة", "חנות תל אביב"):
            r = self.client.post(reverse("stores:add"), {"nickname": name, "region": "NA", "sites": ["US"]})
            self.assertEqual(r.status_code, 302, name)
        self.assertEqual(Store.objects.filter(tenant=self.tenant).count(), 4)


class HeldGrantCookieTests(FlowTestCase):
    def hold(self) -> tuple[AuthorizationAttempt, Client]:
        attempt = self.begin()
        holder = Client()
        self.callback(self.amazon_answer(attempt), client=holder)
        return attempt, holder

    def test_the_held_grant_cookie_value_is_a_valid_rfc_6265_cookie_value(self) -> None:
        attempt, holder = self.hold()
        second = self.begin("listings")
        r = self.callback(self.amazon_answer(second), client=holder)
        morsel = r.cookies[holding.COOKIE]
        self.assertRegex(morsel.coded_value, COOKIE_OCTETS)
        self.assertEqual(morsel.coded_value, morsel.value)  # sent as is, not quoted with escapes
        # Both grants are still held by that browser.
        held = {a.code for a in holding.waiting(_request_with(holder))}
        self.assertEqual(held, {attempt.code, second.code})

    def test_a_cookie_of_the_earlier_format_still_finishes_its_grant(self) -> None:
        attempt, holder = self.hold()
        secret = holding.held(_request_with(holder))[str(attempt.code)]
        old = signing.get_cookie_signer(salt=holding.COOKIE + holding.SALT).sign(
            json.dumps({str(attempt.code): secret})
        )
        browser = Client()
        browser.force_login(self.alice)
        browser.cookies[holding.COOKIE] = old
        r = browser.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(r.status_code, 302)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.AUTHORIZED
        )


def _request_with(client: Client) -> HttpRequest:

    request = RequestFactory().get("/")
    request.COOKIES = {k: m.value for k, m in client.cookies.items()}
    return request
