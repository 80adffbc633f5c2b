"""Account-linking attacks in real Chromium: forced membership, and a grant finished after a logout."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts.models import Membership, Tenant, User
from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from stores.models import Store
from tests.browser.conftest import shot
from tests.browser.test_foundation import add_store, sign_up

pytestmark = pytest.mark.browser
US = "ATVPDKIKX0DER"
PASSWORD = "a-long-browser-passphrase-1"


def log_in(page: Page, portal: str, email: str) -> None:
    page.goto(f"{portal}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()


def consent_link(page: Page) -> str:
    page.get_by_role("link", name="Authorize order loading").click()
    page.get_by_label("This computer and network are my usual environment").check()
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Go to Amazon Seller Central").click()
    popup_info.value.close()
    return page.locator("#consent-link").input_value()


def consent_at_amazon(page: Page, link: str, seller: str) -> None:
    page.goto(link)
    page.get_by_label(seller).check()
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Confirm").click()


def second_browser(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    return context, context.new_page()


def test_forced_membership_cannot_capture_the_victim_seller(
    page: Page, portal: str, browser: Browser
) -> None:
    sandbox_api.create_seller("Victim Seller", "NA", [US])
    victim = User.objects.create_user("victim@example.org", PASSWORD)
    Tenant.create_for_owner(victim, "Victim Co")
    # The attacker signs up and "adds" the victim: only an invitation is sent, nobody is added.
    sign_up(page, portal, "attacker@example.org", "Attacker Co")
    page.goto(f"{portal}/team/members/")
    page.fill("input[name=email]", "victim@example.org")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("An invitation was sent to victim@example.org")).to_be_visible()
    attacker_tenant = Tenant.objects.get(name="Attacker Co")
    assert not Membership.objects.filter(tenant=attacker_tenant, user=victim).exists()
    shot(page, "linking-1-invited-not-added")
    # Even had the victim accepted long ago, the grant would not attach in the victim's browser.
    Membership.objects.create(tenant=attacker_tenant, user=victim, role=Membership.Role.MEMBER)
    page.goto(f"{portal}/stores/")
    add_store(page, "Trap store", "North America", ["United States (US)"])
    link = consent_link(page)

    context, victim_page = second_browser(browser)
    log_in(victim_page, portal, "victim@example.org")
    consent_at_amazon(victim_page, link, "Victim Seller")
    question = victim_page.get_by_test_id("finish-question")
    expect(question).to_contain_text("Attacker Co")
    expect(question).to_contain_text("Trap store")
    shot(victim_page, "linking-2-victim-asked")
    victim_page.get_by_test_id("finish-decline").click()
    expect(victim_page.get_by_text("Nothing was connected")).to_be_visible()
    context.close()
    trap = Store.objects.get(nickname="Trap store")
    assert Authorization.objects.get(store=trap, capability="orders").status == AuthStatus.NOT_AUTHORIZED
    assert trap.selling_partner_id == ""
    # The attacker's waiting page learns that the grant was declined.
    expect(page.get_by_text("declined to connect")).to_be_visible(timeout=15000)
    shot(page, "linking-3-attacker-told")


def test_a_grant_held_in_another_browser_is_finished_after_logging_out_and_in(
    page: Page, portal: str, browser: Browser, settings: Any
) -> None:
    sandbox_api.create_seller("Phone Seller", "NA", [US])
    stranger = User.objects.create_user("stranger@example.org", PASSWORD)
    Tenant.create_for_owner(stranger, "Stranger Co")
    sign_up(page, portal, "owner@example.org", "Owner Co")
    add_store(page, "Phone store", "North America", ["United States (US)"])
    link = consent_link(page)

    context, phone = second_browser(browser)
    log_in(phone, portal, "stranger@example.org")  # logged in as someone who may not connect the store
    consent_at_amazon(phone, link, "Phone Seller")
    expect(phone.get_by_test_id("quarantine-heading")).to_be_visible()
    expect(phone.locator("body")).not_to_contain_text("Phone store")
    shot(phone, "linking-4-wrong-account")
    phone.get_by_role("button", name="Log out and log in again").click()
    phone.fill("input[name=login]", "owner@example.org")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("form button[type=submit]").click()
    expect(phone.get_by_test_id("finish-question")).to_contain_text("Phone store")
    shot(phone, "linking-5-confirm-after-relogin")
    phone.get_by_test_id("finish-connect").click()
    expect(phone.get_by_test_id("combined-label")).to_have_text(
        "Order loading authorized, listing/inventory not authorized"
    )
    context.close()
    store = Store.objects.get(nickname="Phone store")
    assert Authorization.objects.get(store=store, capability="orders").status == AuthStatus.AUTHORIZED
