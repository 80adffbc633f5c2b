"""The Chinese pages speak as SaleYee and Amazon's Seller Central do: 续订授权, 禁用授权, 分销商账号, 卖家后台,
full-width colons, a space between Chinese and Latin words, each status said once, and no English left over."""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from authorizations.models import AuditEvent, Authorization, AuthStatus
from tests.authorizations.helpers import FlowTestCase

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
OLD_WORDS = ("续期", "停用", "分销商账户", "账户", "卖家中心")
CJK = "\u4e00-\u9fff"
# A Chinese character or a placeholder followed by an ASCII colon ("角色说明:"), where Chinese writes "：".
ASCII_COLON = re.compile(f"[{CJK}]:|%\\([a-z_]+\\)[sd]:")
# Chinese glued to a Latin word or a number ("0 个SKU映射"); the portal's Chinese puts a space between them.
GLUED_LATIN = re.compile(f"[{CJK}][A-Za-z0-9]|[A-Za-z0-9][{CJK}]")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\\n")


def translations() -> list[str]:
    """Every msgstr of the Chinese catalogue (continuation lines joined)."""
    found: list[str] = []
    current: list[str] | None = None
    for line in PO.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgstr"):
            current = [line.split(" ", 1)[1].strip('"')]
            found.append("")
        elif line.startswith('"') and current is not None:
            current.append(line.strip('"'))
        else:
            current = None
        if current is not None:
            found[-1] = "".join(current)
    return [t for t in found if t and "Content-Type" not in t and "Plural-Forms" not in t]


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html).replace("&quot;", '"').replace("&#x27;", "'")


class CatalogueWordTests(FlowTestCase):
    def test_no_translation_keeps_an_old_word(self) -> None:
        for old in OLD_WORDS:
            with self.subTest(old=old):
                self.assertEqual([t for t in translations() if old in t], [])

    def test_no_translation_puts_an_ascii_colon_after_chinese(self) -> None:
        self.assertEqual([t for t in translations() if ASCII_COLON.search(t)], [])

    def test_chinese_and_latin_words_are_spaced(self) -> None:
        glued = [t for t in translations() if GLUED_LATIN.search(PLACEHOLDER.sub("", t))]
        self.assertEqual(glued, [])


class ChinesePageTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.authorize("orders")
        # A request leaves its language active in this thread (LocaleMiddleware): later tests expect English.
        self.addCleanup(translation.deactivate)
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    def page(self, url: str) -> str:
        r = self.client.get(url)
        self.assertEqual(r.status_code, 200, url)
        return visible_text(r.content.decode())

    def test_key_pages_use_seller_centrals_words_and_full_width_colons(self) -> None:
        code = self.store.code
        pages = {
            "list": reverse("stores:list"),
            "store": reverse("stores:detail", args=[code]),
            "team": reverse("accounts:members"),
            "inventory": reverse("sync:inventory", args=[code]),
            "start": reverse("authorizations:start", args=[code, "listings"]),
            "disable": reverse("authorizations:lifecycle_confirm", args=[code, "orders", "disable"]),
        }
        texts = {name: self.page(url) for name, url in pages.items()}
        for name, text in texts.items():
            with self.subTest(page=name):
                for old in OLD_WORDS:
                    self.assertNotIn(old, text)
                self.assertEqual(ASCII_COLON.findall(text), [])
        self.assertIn("续订授权", texts["store"])
        self.assertIn("禁用授权", texts["store"])
        self.assertIn("0 个 SKU 映射", texts["store"])
        self.assertIn("美国 (US)、加拿大 (CA)", texts["store"])
        self.assertIn("下一步：", texts["store"])
        self.assertIn("载单功能：已授权", texts["list"])
        self.assertIn("角色说明：", texts["team"])
        self.assertIn("卖家后台", texts["start"])
        self.assertIn("确定要禁用载单功能授权吗？", texts["disable"])

    def test_a_failed_recheck_names_its_capability_with_a_full_width_colon(self) -> None:
        # Amazon's answer itself is not the point here: the check reports an error, the message names the capability.
        with mock.patch("authorizations.views.live_check", return_value="amazon_error"):
            r = self.client.post(
                reverse("authorizations:recheck", args=[self.store.code, "orders"]), follow=True
            )
        alert = re.search(r'<p class="alert warning" role="status">([^<]*)</p>', r.content.decode())
        assert alert is not None
        self.assertTrue(alert.group(1).startswith("载单功能："), alert.group(1))

    def test_the_history_gives_the_detail_its_own_line(self) -> None:
        html = self.client.get(reverse("stores:detail", args=[self.store.code])).content.decode()
        self.assertInHTML(
            f'<div class="small muted" data-testid="history-detail">Amazon 卖家 {self.seller.selling_partner_id}</div>',
            html,
        )

    def test_the_history_says_the_region_sites_and_changes_in_words(self) -> None:
        AuditEvent.objects.create(
            store=self.store, user=self.alice, action="store.updated", detail="nickname,sites"
        )
        text = self.page(reverse("stores:detail", args=[self.store.code]))
        self.assertIn("店铺已创建 北美 · US、CA", text)
        self.assertIn("已更改：账号名称、授权站点", text)
        self.assertNotIn("NA US,CA", text)

    def test_an_authorized_store_says_authorized_once(self) -> None:
        self.authorize("listings")
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, "authorized")
        html = self.client.get(reverse("stores:detail", args=[self.store.code])).content.decode()
        heading = re.search(r'<p class="sub">(.*?)</p>', html, re.S)
        assert heading is not None
        self.assertEqual(visible_text(heading.group(1)).strip(), "已授权")

    def test_the_list_offers_re_authorize_where_the_card_does(self) -> None:
        Authorization.objects.filter(store=self.store, capability="orders").update(
            status=AuthStatus.NEEDS_REAUTHORIZATION
        )
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        row = re.search(
            r'data-testid="row-authorize"[^>]*>([^<]*)<',
            self.client.get(reverse("stores:list")).content.decode(),
        )
        assert row is not None
        self.assertEqual(row.group(1), "Re-authorize order loading")
        card = self.page(reverse("stores:detail", args=[self.store.code]))
        self.assertIn("Re-authorize", card)
        self.assertNotIn("Authorize order loading", card)


class ChineseSignUpTests(FlowTestCase):
    def test_a_short_password_is_refused_in_chinese(self) -> None:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        self.addCleanup(translation.deactivate)
        r = client.post(
            reverse("account_signup"),
            {
                "email": "new@example.org",
                "company": "New Trading",
                "password1": "shrt7x",
                "password2": "shrt7x",
            },
        )
        self.assertContains(r, "密码太短，至少需要 8 个字符。")
        self.assertNotContains(r, "This password is too short")


class StaffBatchWordsTests(FlowTestCase):
    def test_a_recheck_of_all_stores_is_described_in_chinese(self) -> None:
        staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)
        self.login(staff)
        self.addCleanup(translation.deactivate)
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        r = self.client.post(
            reverse("staff:staff_recheck"), {"all_matching": "1", "region": "NA"}, follow=True
        )
        text = visible_text(r.content.decode())
        self.assertIn("符合筛选条件的全部店铺：北美", text)
        self.assertNotIn("all matching", text)
        self.assertNotIn("region=", text)
