"""In real Chromium: an earlier initial order-pull date after authorization loads the gap (and says so), and the
store page speaks SaleYee's Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sandbox import api as sandbox_api
from tests.browser.conftest import shot
from tests.browser.test_authorization_story import authorize_in_popup
from tests.browser.test_foundation import add_store, sign_up
from tests.browser.test_phone_and_dates import switch_language

pytestmark = pytest.mark.browser
US = "ATVPDKIKX0DER"


def test_an_earlier_initial_date_after_authorizing_loads_the_gap_and_the_page_says_so_in_chinese(
    page: Page, portal: str
) -> None:
    sandbox_api.create_seller("Edit Date Seller", "NA", [US])
    sign_up(page, portal, "editdate@example.org", "Edit Date Co")
    add_store(page, "Edit date store", "North America", ["United States (US)"])
    authorize_in_popup(page, "Authorize order loading", "Edit Date Seller", "edit-date")
    page.get_by_role("link", name="Go to the store page").click()
    store_url = page.url
    page.get_by_role("link", name="Edit").first.click()
    earlier = (timezone.localdate() - timedelta(days=20)).isoformat()
    page.fill("input[name=initial_order_date]", earlier)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert", has_text="will be loaded")).to_be_visible()
    shot(page, "edit-date-1-message")

    page.goto(store_url)
    switch_language(page, "zh-hans")
    expect(page.get_by_test_id("combined-label")).to_have_text("载单功能已授权，刊登/库存同步功能未授权")
    expect(page.locator("[data-capability=orders]")).to_contain_text("载单功能")
    expect(page.locator("[data-capability=listings]")).to_contain_text("刊登/库存同步功能")
    expect(page.get_by_role("button", name="获取授权").first).to_be_visible()
    shot(page, "edit-date-2-chinese-store-page")
    page.goto(f"{portal}/stores/")
    expect(page.get_by_role("heading", name="平台授权")).to_be_visible()
    expect(page.get_by_role("link", name="添加 Amazon 账号").first).to_be_visible()
    switch_language(page, "en")
