"""The whole SP-API authorization story in real Chromium, against a live server and the sandbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sandbox import api as sandbox_api
from tests.browser.conftest import shot
from tests.browser.test_foundation import add_store, sign_up

pytestmark = pytest.mark.browser
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


def authorize_in_popup(page: Page, button: str, seller_name: str, shot_prefix: str) -> None:
    page.get_by_role("link", name=button).first.click()
    expect(page.get_by_text("my usual environment for this Amazon account")).to_be_visible()
    page.get_by_label("This computer and network are my usual environment").check()
    shot(page, f"{shot_prefix}-1-confirm")
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Go to Amazon Seller Central").click()
    amazon = popup_info.value
    amazon.wait_for_load_state()
    expect(page.get_by_role("heading", name="Waiting for Amazon")).to_be_visible()
    expect(page.get_by_role("button", name="Copy the Amazon link")).to_be_visible()
    shot(page, f"{shot_prefix}-2-waiting")
    expect(amazon.get_by_text("Amazon sandbox (simulated)").first).to_be_visible()
    amazon.get_by_label(seller_name).check()
    amazon.get_by_label("I understand").check()
    shot(amazon, f"{shot_prefix}-3-sandbox-consent")
    amazon.get_by_role("button", name="Confirm").click()
    expect(amazon.get_by_test_id("combined-status")).to_be_visible()
    amazon.close()
    # The waiting page notices the result by itself.
    expect(page.get_by_role("heading", name="Authorization succeeded")).to_be_visible(timeout=15000)
    shot(page, f"{shot_prefix}-4-succeeded")


def test_sign_up_authorize_both_capabilities_revoke_and_recheck(page: Page, portal: str) -> None:
    sandbox_api.create_seller("Story Seller LLC", "NA", [US, CA])
    sign_up(page, portal, "story@example.org", "Story Distribution")
    add_store(page, "Story US", "North America", ["United States (US)", "Canada (CA)"])

    authorize_in_popup(page, "Authorize order loading", "Story Seller LLC", "story-orders")
    page.get_by_role("link", name="Go to the store page").click()
    expect(page.get_by_test_id("combined-label")).to_have_text(
        "Order loading authorized, listing/inventory not authorized"
    )
    shot(page, "story-5-partial")

    page.get_by_role("link", name="Authorize listing/inventory sync").click()
    page.go_back()
    authorize_in_popup(page, "Authorize listing/inventory sync", "Story Seller LLC", "story-listings")
    page.get_by_role("link", name="Go to the store page").click()
    expect(page.get_by_test_id("combined-status")).to_have_text("Authorized")
    expect(page.get_by_test_id("combined-label")).to_have_text("Authorized")
    shot(page, "story-6-authorized")
    store_url = page.url

    sandbox = page.context.new_page()
    sandbox.goto(f"{portal}/sandbox/")
    row = sandbox.locator("tr", has_text="Platform Order Loader").first
    row.get_by_role("button", name="Revoke").click()
    expect(sandbox.locator("tr", has_text="Platform Order Loader").first).to_contain_text("revoked")
    shot(sandbox, "story-7-sandbox-revoked")
    sandbox.close()

    page.goto(store_url)
    page.locator("[data-capability=orders]").get_by_role("button", name="Re-check now").click()
    expect(page.get_by_test_id("status-orders")).to_have_text("Needs re-authorization")
    expect(page.get_by_test_id("combined-status")).to_have_text("Needs attention")
    expect(page.get_by_test_id("combined-label")).to_have_text("Order loading needs re-authorization")
    expect(page.get_by_test_id("error-orders")).to_contain_text("revoked or has expired")
    expect(page.locator("[data-capability=orders]").get_by_role("link", name="Re-authorize")).to_be_visible()
    shot(page, "story-8-needs-reauthorization")


def test_a_link_opened_in_another_browser_asks_for_login_then_attaches(
    page: Page, portal: str, browser
) -> None:  # type: ignore[no-untyped-def]
    sandbox_api.create_seller("Other Device Seller", "NA", [US])
    sign_up(page, portal, "device@example.org", "Device Co")
    add_store(page, "Device store", "North America", ["United States (US)"])
    page.get_by_role("link", name="Authorize order loading").click()
    page.get_by_label("This computer and network are my usual environment").check()
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Go to Amazon Seller Central").click()
    popup_info.value.close()
    link = page.locator("#consent-link").input_value()

    other = browser.new_context(locale="en-US")
    amazon = other.new_page()
    amazon.goto(link)
    amazon.get_by_label("Other Device Seller").check()
    amazon.get_by_label("I understand").check()
    amazon.get_by_role("button", name="Confirm").click()
    expect(amazon.get_by_test_id("quarantine-heading")).to_be_visible()
    expect(amazon.locator("body")).not_to_contain_text("Device store")
    shot(amazon, "device-1-login-to-finish")
    amazon.get_by_role("link", name="Log in to the portal").click()
    amazon.fill("input[name=login]", "device@example.org")
    amazon.fill("input[name=password]", "a-long-browser-passphrase-1")
    amazon.locator("form button[type=submit]").click()
    amazon.get_by_role("button", name="Connect").click()
    expect(amazon.get_by_test_id("combined-label")).to_have_text(
        "Order loading authorized, listing/inventory not authorized"
    )
    shot(amazon, "device-2-attached")
    other.close()
    expect(page.get_by_role("heading", name="Authorization succeeded")).to_be_visible(timeout=15000)
