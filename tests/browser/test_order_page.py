"""The order page in real Chromium at phone width, in English and Chinese: an owner reads the order and sends a
package's tracking with the form; the package is listed as waiting to go to Amazon. Screenshots go to
test-output/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from shipping.models import Package
from tests.api.order_helpers import amazon_order, store_orders
from tests.base import make_store, make_user
from tests.browser.conftest import shot
from tests.browser.test_phone_and_dates import PHONE, switch_language
from tests.browser.test_phone_tables import check_tables_on_a_phone, log_in

pytestmark = pytest.mark.browser
OWNER = "owner.with.a.long.address@southern-cross-distribution.example.org"


def test_an_owner_sends_tracking_from_the_order_page_on_a_phone_in_english_and_chinese(
    page: Page, portal: str
) -> None:
    owner = make_user(OWNER, "Southern Cross")
    store = make_store(owner.memberships.get().tenant, "Harbour Bridge Homewares")
    bought = timezone.now() - timedelta(days=1)
    store_orders(store, [amazon_order(f"114-000000{n}-0000001", purchased=bought) for n in (1, 2)])
    page.set_viewport_size(PHONE)
    log_in(page, portal, OWNER)
    for n, (language, send, pending) in enumerate(
        (
            ("en", "Send to Amazon", "Waiting to be sent to Amazon"),
            ("zh-hans", "发送给亚马逊", "等待发送给亚马逊"),
        ),
        start=1,
    ):
        order_id = f"114-000000{n}-0000001"
        heading = order_id
        page.goto(f"{portal}/stores/{store.code}/orders/{order_id}/")
        if language != "en":
            switch_language(page, language, heading)
        expect(page.locator("h1")).to_contain_text(heading)
        shot(page, f"order-{language}-375")
        page.select_option("select[name=carrier_code]", "UPS")
        page.fill("input[name=tracking_number]", f"1Z999AA1012345678{n}")
        page.fill("input[name=shipping_method]", "Ground")
        page.fill("input[name=ship_date]", (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.fill(f"input[name='qty_{order_id}-1']", "2")
        page.locator("form button[type=submit]").filter(has_text=send).click()
        expect(page.locator("body")).to_contain_text(f"1Z999AA1012345678{n}")
        expect(page.locator("body")).to_contain_text(pending)
        assert Package.objects.filter(
            order__amazon_order_id=order_id, tracking_number__endswith=str(n)
        ).exists()
        check_tables_on_a_phone(page, f"order page ({language})")
        # No part of the page is wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, f"order-sent-{language}-375")
