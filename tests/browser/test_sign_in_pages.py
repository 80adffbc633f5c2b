"""The sign-in and sign-up pages look like the rest of the portal, and English text is drawn with Latin fonts
(its ’ and “ ” narrow) while Chinese pages keep Chinese fonts (their “ ” full width)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_phone_and_dates import PHONE, switch_language

pytestmark = pytest.mark.browser
BRAND = "rgb(15, 110, 140)"  # --brand in app.css: the colour of every primary button of the portal
# How much wider a word gets with a quote mark in it, in ems of the text around it.
QUOTE_WIDTH = """q => { const main = document.querySelector('main');
  const probe = t => { const s = document.createElement('span'); s.textContent = t; s.style.whiteSpace = 'pre';
    main.appendChild(s); const w = s.getBoundingClientRect().width; s.remove(); return w; };
  return (probe('ab' + q + 'cd') - probe('abcd')) / parseFloat(getComputedStyle(main).fontSize); }"""


def looks_like_the_portal(page: Page, button: str) -> None:
    form = page.locator("main .card.auth-box form")
    expect(form).to_be_visible()
    for field in form.locator("input[type=email], input[type=password]").all():
        expect(field.locator("xpath=..")).to_have_class("field")
    submit = form.get_by_role("button", name=button)
    expect(submit).to_have_class("btn")
    expect(submit).to_have_css("background-color", BRAND)


def test_login_and_sign_up_are_drawn_like_every_other_page(page: Page, portal: str) -> None:
    for path, button, name in (
        ("/accounts/login/", "Sign In", "login"),
        ("/accounts/signup/", "Sign Up", "signup"),
    ):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{portal}{path}")
        looks_like_the_portal(page, button)
        shot(page, f"auth-{name}-en-1280")
        page.set_viewport_size(PHONE)
        shot(page, f"auth-{name}-en-375")
    switch_language(page, "zh-hans")
    looks_like_the_portal(page, "注册")
    shot(page, "auth-signup-zh-375")


def test_english_quotes_are_narrow_and_chinese_quotes_full_width(page: Page, portal: str) -> None:
    page.goto(f"{portal}/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Sign-up's password rules say "can’t": a Chinese font made that ’ as wide as a Chinese character.
    expect(page.locator("main")).to_contain_text("can’t")
    assert page.evaluate(QUOTE_WIDTH, "’") < 0.45
    assert page.evaluate(QUOTE_WIDTH, "“") < 0.6
    switch_language(page, "zh-hans")
    assert page.evaluate(QUOTE_WIDTH, "“") > 0.8
