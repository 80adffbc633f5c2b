from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Tenant, User
from sync import tasks
from sync.models import RecheckBatch
from tests.base import make_store
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser
PASSWORD = "a-long-staff-passphrase-1"


def test_staff_rechecks_selected_stores_and_watch_the_progress_without_a_reload(
    page: Page, portal: str
) -> None:
    owner = User.objects.create_user(email="owner@example.org", password=PASSWORD)
    tenant = Tenant.create_for_owner(owner, "Browser Distribution")
    make_store(tenant, "Seattle shop")
    make_store(tenant, "Berlin shop", region="EU")
    User.objects.create_user(email="staff@example.org", password=PASSWORD, is_staff=True)

    page.goto(f"{portal}/accounts/login/")
    page.fill("input[name=login]", "staff@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.goto(f"{portal}/staff/stores/")
    expect(page.get_by_role("heading", name="All stores")).to_be_visible()
    page.get_by_label("Region").select_option("EU")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("staff-stores")).to_contain_text("Berlin shop")
    expect(page.get_by_test_id("staff-stores")).not_to_contain_text("Seattle shop")
    page.get_by_label("Berlin shop").check()
    page.get_by_test_id("recheck-button").click()
    expect(page.get_by_test_id("batch-pending")).to_have_text("1")
    shot(page, "staff-01-batch-running")

    # The page must update by itself: mark this document, run the queued task, and see the marker survive.
    page.evaluate("window.__sameDocument = true")
    batch = RecheckBatch.objects.get()
    item = batch.items.get()
    tasks.recheck_store(item.store_id, item.pk)
    expect(page.get_by_test_id("batch-state")).to_have_text("Finished.", timeout=10000)
    expect(page.get_by_test_id("batch-pending")).to_have_text("0")
    # The Berlin shop has nothing authorized: counted as nothing to check, not as "works".
    expect(page.get_by_test_id("batch-done")).to_have_text("0")
    expect(page.get_by_test_id("batch-nothing")).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "staff-02-batch-finished")
