"""What a distributor and staff see, in real Chromium: every page fits a phone (375 px) in English and Chinese,
dates are written one way per language and on the store's own calendar, order loading says when it is behind,
hours are shown on the last day, and a successful authorization says what happens next."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from authorizations import app_secrets
from authorizations.models import ApplicationCredential, Authorization
from sandbox import api as sandbox_api
from stores.models import Store
from sync import tasks
from sync.models import OrderChangeSubscription, OrderSync, SkuMapping
from tests.browser.conftest import shot
from tests.browser.test_authorization_story import authorize_in_popup
from tests.browser.test_foundation import sign_up

pytestmark = pytest.mark.browser
AU = "A39IBJ37TRP1C6"
SYDNEY = ZoneInfo("Australia/Sydney")
PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
# Blocks whose content must neither stick out nor be cut (tables included: on a phone their rows are cards).
OVERFLOWING = """() => [...document.querySelectorAll('header .bar, main h1, main p, main dd, main .card, main .alert, main table.list td')]
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 80))"""


def switch_language(page: Page, code: str, heading: str | None = None) -> None:
    """The header's language select, as a person uses it (it submits by itself and comes back to the page)."""
    with page.expect_navigation():
        page.select_option("select[name=language]", code)
    expect(page.locator("html")).to_have_attribute("lang", code)
    if heading:
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()


def assert_fits_a_phone(page: Page, what: str) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width}px wide at {PHONE['width']}px"
    cut = page.evaluate(OVERFLOWING)
    assert not cut, f"{what}: content wider than its box: {cut}"


def add_au_store(page: Page, nickname: str, first_day: str) -> Store:
    page.get_by_role("link", name="Add Amazon account").first.click()
    page.fill("input[name=nickname]", nickname)
    page.get_by_label("Far East").check()
    page.get_by_label("Australia (AU)").check()
    page.fill("input[name=initial_order_date]", first_day)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="The Amazon account was created")).to_be_visible()
    return Store.objects.get(nickname=nickname)


def au_store_with_orders(page: Page, portal: str, email: str, nickname: str) -> Store:
    """Sign up, add an Australian store, authorize order loading at the sandbox and load its past orders."""
    sandbox_api.create_seller("Harbour Bridge Homewares Pty Ltd", "FE", [AU])
    sign_up(page, portal, email, "Southern Cross Distribution")
    first_day = (timezone.now().astimezone(SYDNEY) - timedelta(days=20)).date()
    store = add_au_store(page, nickname, first_day.isoformat())
    page.get_by_role("link", name="Back to the store list").click()
    authorize_in_popup(page, "Authorize order loading", "Harbour Bridge Homewares Pty Ltd", "ui-authorize")
    return store


def test_after_authorizing_dates_staleness_and_expiry_read_right(
    page: Page, portal: str, browser: Browser
) -> None:
    store = au_store_with_orders(page, portal, "dates@example.org", "Sydney homewares")
    first_day = store.initial_order_date
    assert first_day is not None
    # What happens next, on the page that says the authorization succeeded.
    # Every time carries its zone (docs/architecture.md, "Times"): a day is labelled with the store's zone at noon.
    zone = datetime.combine(first_day, time(12), SYDNEY).tzname()
    expect(page.get_by_test_id("next-orders")).to_have_text(
        f"Past orders from {first_day:%Y-%m-%d} {zone} are being loaded now; new orders appear within about 15 "
        "minutes."
    )
    page.get_by_role("link", name="Go to the store page").click()
    # The store's own calendar: midnight in Sydney is the day before in UTC, and the page says the Sydney day.
    panel = page.get_by_test_id("order-loading")
    expect(panel).to_contain_text(f"Waiting to start from {first_day:%Y-%m-%d}")
    expect(page.get_by_test_id("store-time-zone")).to_contain_text("Australia/Sydney")
    expect(
        page.locator("dl.facts dd").get_by_text(f"{first_day:%Y-%m-%d} {zone}", exact=True).first
    ).to_be_visible()
    switch_language(page, "zh-hans")
    expect(panel).to_contain_text(f"{first_day.year}年{first_day.month}月{first_day.day}日")
    expect(page.locator("main")).not_to_contain_text(f"{first_day:%Y-%m-%d}")
    switch_language(page, "en")

    # Orders load; the list says up to date with the store's date and time, a space between them.
    assert tasks.sync_orders(store.pk) == "done"
    sync = OrderSync.objects.get(store=store)
    assert sync.last_success_at is not None
    page.goto(f"{portal}/stores/")
    progress = page.get_by_test_id("order-progress").first
    expect(progress).to_contain_text(f"Up to date · {sync.last_success_at.astimezone(SYDNEY):%Y-%m-%d %H:%M}")
    # Three hours without a successful sync while authorized: behind, on the list and on the store page.
    OrderSync.objects.filter(pk=sync.pk).update(last_success_at=sync.last_success_at - timedelta(hours=3))
    page.reload()
    expect(progress).to_contain_text("Behind: last loaded 3 hours ago")
    expect(progress).not_to_contain_text("Up to date")
    page.get_by_role("link", name="Sydney homewares").click()
    expect(page.get_by_test_id("order-behind")).to_have_text("Behind: last loaded 3 hours ago")
    # Less than a day left: hours, not "0 days".
    auth = Authorization.objects.get(store=store, capability="orders")
    Authorization.objects.filter(pk=auth.pk).update(
        expires_at=sync.last_success_at + timedelta(hours=20, minutes=30)
    )
    page.reload()
    expect(page.get_by_test_id("renew-orders")).to_have_text("Renew: 20 hours left")
    shot(page, "ui-dates-store-behind-expiring")

    # Staff: the application secret line says hours as well.
    User.objects.create_user("staff-dates@example.org", "a-long-browser-passphrase-1", is_staff=True)
    row = app_secrets.credential(ApplicationCredential.Kind.ORDERS)
    ApplicationCredential.objects.filter(pk=row.pk).update(
        secret_expires_at=sync.last_success_at + timedelta(hours=20, minutes=30)
    )
    staff = browser.new_context(locale="en-US", viewport=DESKTOP).new_page()
    staff.goto(f"{portal}/accounts/login/?next=/staff/")
    staff.fill("input[name=login]", "staff-dates@example.org")
    staff.fill("input[name=password]", "a-long-browser-passphrase-1")
    staff.locator("form button[type=submit]").click()
    expect(staff.get_by_test_id("application-secrets")).to_contain_text("expires in 20 hours")
    staff.context.close()


def test_every_page_fits_a_phone_in_english_and_chinese(
    page: Page, portal: str, browser: Browser, settings: Any
) -> None:
    store = au_store_with_orders(
        page,
        portal,
        "a.rather.long.address.for.a.phone@southern-cross-distribution.example.org",
        "Sydney homewares",
    )
    assert tasks.sync_orders(store.pk) == "done"
    # The store page's "New orders" line in its longest wording: the ORDER_CHANGE subscription was refused.
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = "http://127.0.0.1:9/000000000000/portal-notifications"
    seller = Authorization.objects.get(store=store, capability="orders").selling_partner_id
    OrderChangeSubscription.objects.create(
        selling_partner_id=seller, region="FE", status=OrderChangeSubscription.Status.FAILED, detail="refused"
    )
    SkuMapping.objects.create(
        store=store,
        platform_sku="PLATFORM-SKU-WITH-A-LONG-CODE-0001",
        seller_sku="AU-SELLER-SKU-0001",
        marketplace_id=AU,
    )
    code = store.code
    # A waiting page: listing/inventory authorization started, Amazon's tab closed without answering.
    page.goto(f"{portal}/stores/{code}/")
    page.get_by_role("link", name="Authorize listing/inventory sync").first.click()
    page.get_by_label("This computer and network are my usual environment").check()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Go to Amazon Seller Central").click()
    popup.value.close()
    expect(page.get_by_role("heading", name="Waiting for Amazon")).to_be_visible()
    waiting = page.url

    pages = {
        "list": f"{portal}/stores/",
        "store": f"{portal}/stores/{code}/",
        "team": f"{portal}/team/members/",
        "orders": f"{portal}/stores/{code}/orders/",
        "inventory": f"{portal}/stores/{code}/inventory/",
        "waiting": waiting,
    }
    for language, heading in (("en", "Platform authorization"), ("zh-hans", "平台授权")):
        page.set_viewport_size(DESKTOP)
        page.goto(pages["list"])
        if language != "en":
            switch_language(page, language, heading)
        suffix = "en" if language == "en" else "zh"
        for name in ("list", "store"):
            page.goto(pages[name])
            shot(page, f"ui-{name}-{suffix}-desktop")
        page.set_viewport_size(PHONE)
        for name, url in pages.items():
            page.goto(url)
            assert_fits_a_phone(page, f"{name} ({language})")
            shot(page, f"ui-{name}-{suffix}-phone")
        # The long value of the report, whole on a phone: the primary site's time zone.
        page.goto(pages["store"])
        expect(page.locator("dl.facts dd", has_text="Australia/Sydney")).to_be_visible()
        expect(page.get_by_test_id("order-notices")).to_contain_text(
            "could not be set up" if language == "en" else "未能开启 Amazon 订单通知"
        )

    # Logged out: login and sign-up, in both languages.
    anonymous = browser.new_context(locale="en-US", viewport=PHONE).new_page()
    for language in ("en", "zh-hans"):
        for name, path in (("login", "/accounts/login/"), ("signup", "/accounts/signup/")):
            anonymous.goto(f"{portal}{path}")
            if language != "en" and name == "login":
                switch_language(anonymous, language)
            assert_fits_a_phone(anonymous, f"{name} ({language})")
            shot(anonymous, f"ui-{name}-{'en' if language == 'en' else 'zh'}-phone")
    anonymous.context.close()
