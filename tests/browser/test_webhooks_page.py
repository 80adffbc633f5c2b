"""The "Webhooks" pages in real Chromium at phone width, in English and Chinese: an owner adds an endpoint (its
secret shown once), sends a test event that a real receiver on loopback verifies, and reads the delivery log as
cards. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks.webhooks import Webhook

from authorizations import crypto
from tests.base import make_store, make_user
from tests.browser.conftest import shot
from tests.browser.test_phone_and_dates import PHONE, switch_language
from tests.browser.test_phone_tables import check_tables_on_a_phone, log_in
from tests.webhooks.helpers import Receiver
from webhooks import delivery, tasks
from webhooks.models import Endpoint

pytestmark = pytest.mark.browser
OWNER = "owner.with.a.long.address@southern-cross-distribution.example.org"


def test_an_owner_adds_an_endpoint_and_reads_its_delivery_log_on_a_phone_in_english_and_chinese(
    page: Page, portal: str
) -> None:
    owner = make_user(OWNER, "Southern Cross")
    make_store(owner.memberships.get().tenant, "Harbour Bridge Homewares")
    receiver = Receiver().start()
    try:
        page.set_viewport_size(PHONE)
        log_in(page, portal, OWNER)
        for language, heading, add, test_event, description in (
            ("en", "Webhooks", "Add endpoint", "Send a test event", "Platform order intake"),
            ("zh-hans", "Webhook", "添加端点", "发送测试事件", "平台订单接收"),
        ):
            page.goto(f"{portal}/team/webhooks/")
            if language != "en":
                switch_language(page, language, heading)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            page.locator("input[name=url]").fill(f"{receiver.url}/{language}/a-rather-long-path-for-a-phone")
            page.locator("input[name=events]").first.check()
            page.locator("input[name=description]").fill(description)
            page.get_by_role("button", name=add).click()
            secret = page.locator("[data-testid=webhook-secret]").inner_text().strip()
            endpoint = Endpoint.objects.get(description=description)
            assert crypto.decrypt(endpoint.secret_encrypted) == secret
            shot(page, f"webhook-created-{language}-375")
            page.goto(f"{portal}/team/webhooks/{endpoint.code}/")
            assert secret not in page.content()
            page.get_by_role("button", name=test_event).click()
            page.wait_for_load_state("load")
            # No cluster runs here: the queued first attempt is sent as a worker would send it.
            tasks.deliver(delivery.sweep())
            page.reload()
            expect(page.locator("[data-testid=webhook-deliveries]")).to_contain_text("webhook.test")
            last = receiver.received[-1]
            assert Webhook(secret).verify(last.body, last.headers)["type"] == "webhook.test"
            check_tables_on_a_phone(page, f"webhook endpoint ({language})")
            shot(page, f"webhook-endpoint-{language}-375")
            page.goto(f"{portal}/team/webhooks/")
            check_tables_on_a_phone(page, f"webhooks ({language})")
            shot(page, f"webhooks-{language}-375")
    finally:
        receiver.stop()
