from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from stores.models import Store
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def sign_up(page: Page, portal: str, email: str, company: str) -> None:
    page.goto(f"{portal}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", "a-long-browser-passphrase-1")
    page.fill("input[name=password2]", "a-long-browser-passphrase-1")
    page.fill("input[name=company]", company)
    page.click("form button[type=submit]")
    # Sign-up logs in once the address is confirmed: open the emailed link (the live server shares the outbox).
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    link = re.search(
        r"https?://\S+/accounts/confirm-email/\S+", [m for m in mail.outbox if m.to == [email]][-1].body
    )
    assert link is not None
    page.goto(link[0])
    page.click("main form button[type=submit]")
    expect(page.get_by_role("heading", name="Platform authorization")).to_be_visible()


def add_store(page: Page, nickname: str, region_label: str, sites: list[str]) -> None:
    page.get_by_role("link", name="Add Amazon account").first.click()
    page.fill("input[name=nickname]", nickname)
    page.get_by_label(region_label).check()
    for site in sites:
        page.get_by_label(site).check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="The Amazon account was created")).to_be_visible()


def test_a_new_user_signs_up_adds_a_store_and_sees_it_in_the_list(page: Page, portal: str) -> None:
    sign_up(page, portal, "browser@example.org", "Browser Trading")
    shot(page, "foundation-01-empty-list")
    page.get_by_role("link", name="Add Amazon account").first.click()
    # Only the chosen region's sites are offered.
    page.get_by_label("Europe").check()
    expect(page.get_by_label("Germany (DE)")).to_be_visible()
    expect(page.get_by_label("United States (US)")).to_be_hidden()
    page.get_by_label("North America").check()
    page.fill("input[name=nickname]", "<b>Browser</b> store")
    page.get_by_label("United States (US)").check()
    page.get_by_label("Canada (CA)").check()
    shot(page, "foundation-02-add-form")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="The Amazon account was created")).to_be_visible()
    expect(page.get_by_role("link", name="Authorize order loading")).to_be_visible()
    expect(page.get_by_role("link", name="Authorize listing/inventory sync")).to_be_visible()
    shot(page, "foundation-03-created")
    page.get_by_role("link", name="Back to the store list").click()
    row = page.locator("table.list tbody tr").first
    expect(row).to_contain_text("<b>Browser</b> store")
    expect(row).to_contain_text("North America")
    expect(row).to_contain_text("US, CA")
    expect(row).to_contain_text("Not authorized")
    shot(page, "foundation-04-list")
    assert Store.objects.get().nickname == "<b>Browser</b> store"


def test_the_form_shows_errors_next_to_fields_in_the_browser(page: Page, portal: str) -> None:
    sign_up(page, portal, "errors@example.org", "Errors Co")
    page.get_by_role("link", name="Add Amazon account").first.click()
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#id_nickname_errors")).to_be_visible()
    expect(page.locator("#id_region_errors")).to_be_visible()


def test_the_language_switches_to_simplified_chinese(page: Page, portal: str) -> None:
    sign_up(page, portal, "lang@example.org", "Lang Co")
    page.select_option("select[name=language]", "zh-hans")
    expect(page.get_by_role("heading", name="平台授权")).to_be_visible()
    shot(page, "foundation-05-chinese")
