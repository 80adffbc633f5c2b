"""The "API access" page in real Chromium: an owner creates a key at phone width in English and Chinese, sees its
secret once, and the keys table reads as cards; the API's docs page renders the OpenAPI document from our own
script (the page's CSP allows nothing else). Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from api.models import ApiKey, hash_key
from tests.base import make_store, make_user
from tests.browser.conftest import shot
from tests.browser.test_phone_and_dates import PHONE, switch_language
from tests.browser.test_phone_tables import check_tables_on_a_phone, log_in

pytestmark = pytest.mark.browser
OWNER = "owner.with.a.long.address@southern-cross-distribution.example.org"


def test_an_owner_creates_a_key_on_a_phone_in_english_and_chinese(page: Page, portal: str) -> None:
    owner = make_user(OWNER, "Southern Cross")
    make_store(owner.memberships.get().tenant, "Harbour Bridge Homewares")
    page.set_viewport_size(PHONE)
    log_in(page, portal, OWNER)
    for language, heading, create, name in (
        ("en", "API access", "Create key", "Platform back office"),
        ("zh-hans", "API 访问", "创建密钥", "平台后台"),
    ):
        page.goto(f"{portal}/team/api-keys/")
        if language != "en":
            switch_language(page, language, heading)
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        page.locator("input[name=name]").fill(name)
        page.get_by_role("button", name=create).click()
        secret = page.locator("[data-testid=api-key-secret]").inner_text().strip()
        key = ApiKey.objects.get(name=name)
        assert key.secret_hash == hash_key(secret)
        shot(page, f"api-key-created-{language}-375")
        page.goto(f"{portal}/team/api-keys/")
        expect(page.locator("[data-testid=api-keys]")).to_contain_text(key.prefix)
        assert secret not in page.content()
        check_tables_on_a_phone(page, f"API access ({language})")
        shot(page, f"api-keys-{language}-375")


def test_the_docs_page_lists_the_api_operations_from_our_own_script(page: Page, portal: str) -> None:
    page.goto(f"{portal}/api/v1/docs/")
    expect(page.get_by_role("heading", name="GET /api/v1/stores/", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="GET /api/v1/stores/{code}/")).to_be_visible()
    expect(page.locator("#paths")).to_contain_text("capability_status")
    # Formats and a write's body are shown, and the header's example is text, not a swallowed tag.
    expect(page.locator("#paths")).to_contain_text("string (date-time)")
    expect(page.locator("#paths")).to_contain_text("capability: orders, listings, ads")
    expect(page.locator("body")).to_contain_text("Authorization: Bearer pk_live_…")
    shot(page, "api-docs-1280")
