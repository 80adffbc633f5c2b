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


def test_the_batch_rows_update_with_the_progress_and_a_failure_names_and_links_its_store(
    page: Page, portal: str
) -> None:
    from authorizations.models import Authorization, AuthStatus

    owner = User.objects.create_user(email="owner@example.org", password=PASSWORD)
    tenant = Tenant.create_for_owner(owner, "Browser Distribution")
    seattle = make_store(tenant, "Seattle shop")
    make_store(tenant, "Berlin shop", region="EU")
    # Order loading held a grant that Amazon no longer knows: its re-check fails with invalid_grant.
    auth = Authorization.objects.get(store=seattle, capability="orders")
    auth.status = AuthStatus.AUTHORIZED
    auth.set_refresh_token("Atzr|a-grant-amazon-does-not-know")
    auth.save()
    User.objects.create_user(email="staff@example.org", password=PASSWORD, is_staff=True)

    page.goto(f"{portal}/accounts/login/")
    page.fill("input[name=login]", "staff@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.goto(f"{portal}/staff/stores/")
    page.get_by_label("Seattle shop").check()
    page.get_by_label("Berlin shop").check()
    page.get_by_test_id("recheck-button").click()
    expect(page.get_by_test_id("batch-pending")).to_have_text("2")
    rows = page.get_by_test_id("batch-items")
    expect(rows.get_by_test_id("batch-result")).to_have_text(["Pending", "Pending"])

    page.evaluate("window.__sameDocument = true")
    for item in RecheckBatch.objects.get().items.all():
        tasks.recheck_store(item.store_id, item.pk)
    expect(page.get_by_test_id("batch-state")).to_have_text("Finished.", timeout=10000)
    # The rows changed with the counts, in the same document: none says Pending any more.
    seattle_row = rows.locator("tr", has_text="Seattle shop")
    expect(seattle_row.get_by_test_id("batch-result")).to_have_text("Failed")
    expect(seattle_row).to_contain_text("Amazon says the authorization was revoked or has expired.")
    expect(seattle_row).to_contain_text("Order loading: Needs re-authorization")
    expect(rows.locator("tr", has_text="Berlin shop").get_by_test_id("batch-result")).to_have_text(
        "Nothing authorized"
    )
    failures = page.get_by_test_id("batch-failures")
    expect(failures).to_contain_text("Seattle shop (Browser Distribution): Order loading: Amazon says")
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "staff-03-batch-rows-updated")

    # Store names are links to the store (for staff: the staff list narrowed to it).
    failures.get_by_role("link", name="Seattle shop").click()
    expect(page.get_by_test_id("staff-stores")).to_contain_text("Seattle shop")
    expect(page.get_by_test_id("staff-stores")).not_to_contain_text("Berlin shop")
