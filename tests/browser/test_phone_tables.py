"""Every table on a phone (375 px) in real Chromium: rows read as cards, each value next to its column's name,
nothing scrolls sideways, fifty orders make a page of reasonable height, and the team's role select shows the role.
Screenshots of each page in English and Chinese at 1280 and 375 px go to test-output/screenshots/."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import Invitation, Membership, User
from authorizations.models import AuditEvent, Authorization
from stores.models import Store
from sync.models import Order, OrderItem, RecheckBatch, RecheckItem, SkuMapping
from tests.base import PASSWORD, make_store, make_user
from tests.browser.conftest import shot
from tests.browser.test_phone_and_dates import DESKTOP, PHONE, switch_language

pytestmark = pytest.mark.browser
US = "ATVPDKIKX0DER"
ORDERS = 50
# Fifty orders on a phone: the page's header, filter and pager plus at most 150 px an order (a card of four short
# lines). Squeezed into a table, the same page was 10,211 px tall.
MAX_ORDER_CARD = 150
MAX_ORDERS_PAGE = 1500 + ORDERS * MAX_ORDER_CARD

# Every frame that could scroll sideways, and every non-empty cell that is not wholly on the screen.
SIDEWAYS = """() => [...document.querySelectorAll('.table-wrap, table.list, main')]
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)"""
CELLS_OFF_SCREEN = """() => [...document.querySelectorAll('table.list tbody td')]
  .filter(td => td.textContent.trim() || td.querySelector('input, select, button'))
  .filter(td => { const r = td.getBoundingClientRect(); return r.width < 1 || r.height < 1 || r.left < 0
                  || r.right > document.documentElement.clientWidth + 1; })
  .map(td => (td.dataset.label || '?') + ': ' + td.textContent.trim().slice(0, 40))"""
# A phone reader needs each value's column name: every non-empty cell under a named column shows that name.
UNLABELLED = """() => [...document.querySelectorAll('table.list tbody td')]
  .filter(td => td.textContent.trim())
  .filter(td => { const th = td.closest('table').tHead.rows[0].cells[td.cellIndex];
                  return th && th.textContent.trim() && td.dataset.label !== th.textContent.trim(); })
  .map(td => td.textContent.trim().slice(0, 40))"""
ROW_HEIGHTS = """sel => [...document.querySelectorAll(sel + ' tbody tr')].map(tr => tr.getBoundingClientRect().height)"""
# The role select is wide enough for the chosen role's name (measured in the select's own font) and its arrow.
ROLE_SHOWN = """() => [...document.querySelectorAll('select[name=role]')].filter(s => s.closest('table')).map(s => {
  const probe = document.createElement('span');
  probe.style.font = getComputedStyle(s).font; probe.style.whiteSpace = 'nowrap';
  probe.textContent = s.options[s.selectedIndex].text; document.body.appendChild(probe);
  const need = probe.getBoundingClientRect().width + 24; probe.remove();
  return {role: s.options[s.selectedIndex].text, width: s.getBoundingClientRect().width, need: need};
})"""


def log_in(page: Page, portal: str, email: str) -> None:
    page.goto(f"{portal}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "/accounts/login/" not in page.url, page.url


def a_busy_store() -> Store:
    """A distributor with a team, a pending invitation, a store with history, SKU mappings and fifty orders."""
    owner = make_user("owner.with.a.long.address@southern-cross-distribution.example.org", "Southern Cross")
    tenant = owner.memberships.get().tenant
    for email, role in (("member@example.org", Membership.Role.MEMBER), ("viewer@example.org", "viewer")):
        Membership.objects.create(tenant=tenant, user=make_user(email), role=role)
    Invitation.objects.create(
        tenant=tenant,
        email="invited.person@example.org",
        invited_by=owner,
        token_hash=hashlib.sha256(b"phone-tables").hexdigest(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    store = make_store(tenant, "Harbour Bridge Homewares")
    Store.objects.filter(pk=store.pk).update(selling_partner_id="A3SELLERPHONE01")
    now = timezone.now()
    events = (
        ("authorization.started", "orders", "pending", ""),
        ("authorization.succeeded", "orders", "authorized", "seller A3SELLERPHONE01"),
        ("authorization.started", "listings", "pending", ""),
        (
            "authorization.declined",
            "listings",
            "declined",
            "declined in the browser that received the callback",
        ),
        ("store.updated", "", "", "nickname,sites,initial_order_date"),
    )
    for n, (action, capability, outcome, detail) in enumerate(events):
        event = AuditEvent.objects.create(
            store=store, user=owner, action=action, capability=capability, outcome=outcome, detail=detail
        )
        AuditEvent.objects.filter(pk=event.pk).update(
            created_at=now - timedelta(minutes=10 - n), ip="203.0.113.7"
        )
    statuses = ("SHIPPED", "UNSHIPPED", "PARTIALLY_SHIPPED", "PENDING_AVAILABILITY", "CANCELLED")
    for n in range(ORDERS):
        at = now - timedelta(hours=n)
        order = Order.objects.create(
            store=store,
            amazon_order_id=f"113-{n:07d}-{n * 7:07d}",
            marketplace_id=US,
            purchase_date=at,
            purchase_date_local=at.isoformat(timespec="seconds"),
            purchase_day_local=at.date(),
            status=statuses[n % len(statuses)],
            total_amount=Decimal("1234.5") + n,
            currency="USD",
            last_updated=at,
        )
        OrderItem.objects.create(order=order, order_item_id=f"{n}-1", sku=f"HB-KETTLE-{n:03d}", quantity=2)
    for n in range(3):
        SkuMapping.objects.create(
            store=store,
            platform_sku=f"PLATFORM-SKU-WITH-A-LONG-CODE-{n:04d}",
            seller_sku=f"US-SELLER-SKU-{n:04d}",
            marketplace_id=US,
        )
    Authorization.objects.filter(store=store, capability="orders").update(status="authorized")
    return store


def check_tables_on_a_phone(page: Page, what: str) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width}px wide at {PHONE['width']}px"
    assert page.evaluate(SIDEWAYS) == [], f"{what} scrolls sideways"
    assert page.evaluate(CELLS_OFF_SCREEN) == [], f"{what}: cells not on the screen"
    assert page.evaluate(UNLABELLED) == [], f"{what}: values without their column's name"


def test_every_table_reads_as_cards_on_a_phone_in_english_and_chinese(
    page: Page, portal: str, browser: Browser, settings: Any
) -> None:
    store = a_busy_store()
    staff = User.objects.create_user("staff.phone@example.org", PASSWORD, is_staff=True)
    batch = RecheckBatch.objects.create(created_by=staff, description="All stores", total=1)
    RecheckItem.objects.create(batch=batch, store=store)
    code = store.code
    pages = {
        "list": "/stores/",
        "store": f"/stores/{code}/",
        "team": "/team/members/",
        "orders": f"/stores/{code}/orders/",
        "inventory": f"/stores/{code}/inventory/",
    }
    staff_pages = {"staff": "/staff/stores/", "staff-batch": f"/staff/rechecks/{batch.code}/"}
    log_in(page, portal, "owner.with.a.long.address@southern-cross-distribution.example.org")
    staff_page = browser.new_context(locale="en-US", viewport=DESKTOP).new_page()
    log_in(staff_page, portal, "staff.phone@example.org")

    for language in ("en", "zh-hans"):
        suffix = "en" if language == "en" else "zh"
        for viewer, urls in ((page, pages), (staff_page, staff_pages)):
            viewer.set_viewport_size(DESKTOP)
            if language != "en":
                viewer.goto(f"{portal}{next(iter(urls.values()))}")
                switch_language(viewer, language)
            for name, path in urls.items():
                viewer.goto(f"{portal}{path}")
                shot(viewer, f"phone-tables-{name}-{suffix}-1280")
            viewer.set_viewport_size(PHONE)
            for name, path in urls.items():
                viewer.goto(f"{portal}{path}")
                check_tables_on_a_phone(viewer, f"{name} ({language})")
                shot(viewer, f"phone-tables-{name}-{suffix}-375")

        # Orders: fifty cards, each a few lines, the state on one line.
        page.goto(f"{portal}{pages['orders']}")
        expect(page.locator("[data-testid=orders-table] tbody tr")).to_have_count(ORDERS)
        heights = page.evaluate(ROW_HEIGHTS, "[data-testid=orders-table]")
        assert max(heights) <= MAX_ORDER_CARD, f"an order card is {max(heights)}px tall ({language})"
        total = page.evaluate("document.documentElement.scrollHeight")
        assert total <= MAX_ORDERS_PAGE, f"the orders page is {total}px tall for {ORDERS} orders ({language})"
        states = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=orders-table] td[data-status]')]"
            ".map(td => td.getBoundingClientRect().height)"
        )
        assert max(states) < 30, f"an order's state wraps: {max(states)}px ({language})"

        # History: every column of a row on the screen, not only the time and the email.
        page.goto(f"{portal}{pages['store']}")
        history = page.locator("table.list").last
        first = history.locator("tbody tr", has_text="A3SELLERPHONE01").first
        for cell in first.locator("td").all():
            if cell.inner_text().strip():
                cell.scroll_into_view_if_needed()
                expect(cell).to_be_in_viewport()
        expect(first.locator("td").nth(4)).to_contain_text("203.0.113.7")

        # Team: the role select shows the role it holds.
        page.goto(f"{portal}{pages['team']}")
        selects = page.evaluate(ROLE_SHOWN)
        assert len(selects) == 3
        for s in selects:
            assert s["width"] >= s["need"], (
                f"the role select is {s['width']}px for “{s['role']}” ({language})"
            )

        # Staff list: the distributor, region, sites and capabilities of each store, not only its name.
        staff_page.goto(f"{portal}{staff_pages['staff']}")
        row = staff_page.locator("[data-testid=staff-stores] tbody tr").first
        expect(row).to_contain_text("Southern Cross")
        sites = row.locator("td[data-label]", has_text="US, CA")
        sites.scroll_into_view_if_needed()
        expect(sites).to_be_in_viewport()
    staff_page.context.close()
