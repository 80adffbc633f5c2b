"""Advertising authorization and the Appstore entry in real Chromium, against a live server and the sandbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sandbox import api as sandbox_api
from tests.browser.conftest import shot
from tests.browser.test_foundation import add_store, sign_up

pytestmark = pytest.mark.browser
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


def test_advertising_alone_is_authorized_and_shows_the_profiles(page: Page, portal: str) -> None:
    sandbox_api.create_seller("Ads Seller Inc", "NA", [US])
    sign_up(page, portal, "ads@example.org", "Ads Co")
    add_store(page, "Ads store", "North America", ["United States (US)", "Canada (CA)"])
    page.get_by_role("link", name="Go to the store page").click()
    page.get_by_role("link", name="Authorize advertising alone").click()
    page.get_by_label("This computer and network are my usual environment").check()
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Go to Amazon").click()
    amazon = popup_info.value
    amazon.wait_for_load_state()
    expect(amazon.get_by_role("heading", name="Login with Amazon (simulated)")).to_be_visible()
    amazon.get_by_label("Ads Seller Inc").check()
    shot(amazon, "ads-1-login-with-amazon")
    amazon.get_by_role("button", name="Allow").click()
    expect(amazon.get_by_test_id("status-ads")).to_have_text("Authorized")
    amazon.close()
    expect(page.get_by_role("heading", name="Authorization succeeded")).to_be_visible(timeout=15000)
    page.get_by_role("link", name="Go to the store page").click()
    expect(page.get_by_test_id("combined-label")).to_have_text("Not authorized · advertising authorized")
    expect(page.get_by_test_id("ads-profiles")).to_contain_text("US")
    expect(page.get_by_test_id("ads-missing")).to_contain_text("CA")
    shot(page, "ads-2-store-with-profiles")


def test_entry_from_the_appstore_creates_and_authorizes_a_store(page: Page, portal: str) -> None:
    seller = sandbox_api.create_seller("Appstore Seller", "NA", [US, CA])
    sign_up(page, portal, "appstore@example.org", "Appstore Co")
    page.goto(f"{portal}/sandbox/")
    page.get_by_role("button", name="Authorize Platform Order Loader from the Appstore").first.click()
    expect(page.get_by_role("heading", name="Connect your Amazon account")).to_be_visible()
    expect(page.locator("main")).to_contain_text(seller.selling_partner_id)
    # Amazon's link names no region: the seller says which Seller Central they came from, then sees its sites only.
    page.get_by_label("North America").check()
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_test_id("appstore-region")).to_contain_text("North America")
    expect(page.get_by_label("Germany (DE)")).to_have_count(0)
    page.get_by_label("Create a new store").check()
    page.fill("input[name=nickname]", "Appstore US")
    page.get_by_label("United States (US)").check()
    page.get_by_label("This computer and network are my usual environment").check()
    shot(page, "appstore-1-choose-store")
    page.get_by_role("button", name="Continue to Amazon").click()
    expect(page.get_by_test_id("combined-label")).to_have_text(
        "Order loading authorized, listing/inventory not authorized"
    )
    expect(page.get_by_role("heading", name="Appstore US")).to_be_visible()
    shot(page, "appstore-2-authorized")
