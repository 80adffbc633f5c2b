"""One rule for times (docs/architecture.md, "Times"): every time a page shows carries its zone; a store's times are
in the store's marketplace zone, everything else in UTC. Each page is rendered over HTTP and every date or time in
its text is checked."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from authorizations import alarms
from authorizations.models import Authorization, AuthorizationAttempt
from sync.models import InventoryPush, OrderSync, RecheckBatch, SkuMapping
from tests.accounts.invitation_helpers import invite
from tests.authorizations.helpers import US, FlowTestCase
from tests.base import PASSWORD
from tests.sync.test_orders_page import add_order

# A date or time as the English formats write them (config/formats/en): 2026-12-07, 2026-12-07 14:05, 14:05.
MOMENT = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?(?![\d-])|(?<![\d:])\d{2}:\d{2}(?![\d:])")
ZONE = r"(?:[A-Z]{2,5}|UTC[+-]\d{2}:\d{2})"
LABELLED = re.compile(rf"^(?:\d{{4}}-\d{{2}}-\d{{2}}(?: \d{{2}}:\d{{2}})?|\d{{2}}:\d{{2}}) (?P<zone>{ZONE})$")
ZH_LABELLED = re.compile(rf"^\d{{4}}年\d{{1,2}}月\d{{1,2}}日(?: \d{{2}}:\d{{2}})? (?P<zone>{ZONE})$")
LOS_ANGELES = {"PST", "PDT"}


class Times(HTMLParser):
    """The text of a page's body, split into <time> elements and everything else (scripts left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[str] = []
        self.loose: list[str] = []
        self._in_time = 0
        self._skip = 0
        self._current = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "time":
            self._in_time += 1
            self._current = ""
        elif tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "time":
            self._in_time -= 1
            self.times.append(self._current.strip())
        elif tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_time:
            self._current += data
        else:
            self.loose.append(data)


class LabelledTimesTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.assertEqual(self.store.timezone, "America/Los_Angeles")
        self.authorize("orders")
        now = timezone.now()
        self.auth = Authorization.objects.get(store=self.store, capability="orders")
        Authorization.objects.filter(pk=self.auth.pk).update(
            last_checked_at=now, last_error="unauthorized", last_error_at=now - timedelta(hours=1)
        )
        self.store.initial_order_date = (now - timedelta(days=5)).date()
        self.store.save(update_fields=["initial_order_date"])
        OrderSync.objects.update_or_create(
            store=self.store,
            defaults={
                "backfill_from": now - timedelta(days=5),
                "backfill_done_until": now - timedelta(days=1),
                "last_success_at": now - timedelta(minutes=20),
                "next_run_at": now + timedelta(minutes=10),
            },
        )
        add_order(self.store, "111-0000001-0000001", now - timedelta(hours=3))
        SkuMapping.objects.create(
            store=self.store,
            platform_sku="P-1",
            seller_sku="S-1",
            marketplace_id=US,
            pushed_quantity=4,
            pushed_at=now - timedelta(minutes=30),
            checked_at=now - timedelta(minutes=25),
        )
        InventoryPush.objects.create(store=self.store, started_at=now - timedelta(minutes=30), status="done")

    def assert_every_time_labelled(
        self, url: str, zones: set[str], client: Client | None = None, zh: bool = False
    ) -> int:
        r = (client or self.client).get(url)
        self.assertEqual(r.status_code, 200, url)
        page = Times()
        page.feed(r.content.decode())
        # Outside <time> (a message written by a view), a time must still be followed by its zone.
        loose = [
            m.group()
            for text in page.loose
            for m in MOMENT.finditer(text)
            if not re.match(rf" {ZONE}(?![\w+-])", text[m.end() :])
        ]
        self.assertEqual(loose, [], f"{url}: times without a zone")
        pattern = ZH_LABELLED if zh else LABELLED
        for text in page.times:
            m = pattern.match(text)
            self.assertIsNotNone(m, f"{url}: {text!r} is not a labelled time")
            assert m is not None
            self.assertIn(m["zone"], zones, f"{url}: {text!r} in the wrong zone")
        return len(page.times)

    def test_the_store_pages_show_every_time_in_the_stores_zone_with_its_label(self) -> None:
        self.login(self.alice)
        code = self.store.code
        attempt = AuthorizationAttempt.objects.filter(store=self.store).latest("started_at")
        for url, least in (
            (reverse("stores:list"), 2),
            (reverse("stores:detail", args=[code]), 8),
            (reverse("authorizations:attempt", args=[code, "orders", attempt.code]), 2),
            (reverse("sync:orders", args=[code]), 1),
            (reverse("sync:inventory", args=[code]), 2),
        ):
            with self.subTest(url=url):
                # The orders page also gives each order's UTC moment below its site time.
                zones = (
                    LOS_ANGELES | {"UTC"} if "orders" in url and "authorizations" not in url else LOS_ANGELES
                )
                self.assertGreaterEqual(self.assert_every_time_labelled(url, zones), least)

    def test_the_message_after_changing_the_initial_date_labels_its_days(self) -> None:
        self.login(self.alice)
        earlier = timezone.localdate() - timedelta(days=9)
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]),
            {"nickname": self.store.nickname, "sites": self.store.sites, "initial_order_date": earlier},
        )
        self.assertEqual(r.status_code, 302)
        notes = [str(m) for m in r.wsgi_request._messages]  # type: ignore[attr-defined]
        self.assertTrue(any(MOMENT.search(n) for n in notes), notes)
        for note in notes:
            for m in MOMENT.finditer(note):
                self.assertRegex(note[m.end() :], r"^ (PST|PDT)\b", note)

    def test_the_store_page_in_chinese_labels_its_times_too(self) -> None:
        self.login(self.alice)
        self.client.cookies["django_language"] = "zh-hans"
        self.assertGreaterEqual(
            self.assert_every_time_labelled(
                reverse("stores:detail", args=[self.store.code]), LOS_ANGELES, zh=True
            ),
            8,
        )

    def test_the_connect_question_in_another_browser_shows_the_start_in_the_stores_zone(self) -> None:
        attempt = self.begin("listings")
        fresh = Client()
        self.callback(self.amazon_answer(attempt), client=fresh)
        finish = reverse("amazon:finish", args=[attempt.code])
        fresh.post(
            reverse("account_login") + f"?next={finish}", {"login": "bob@example.org", "password": PASSWORD}
        )
        self.assertEqual(self.assert_every_time_labelled(finish, LOS_ANGELES, client=fresh), 1)

    def test_team_invitation_and_staff_pages_show_utc_with_its_label(self) -> None:
        self.login(self.alice)
        token = invite(self.client, "newcomer@example.org")
        self.assertGreaterEqual(self.assert_every_time_labelled(reverse("accounts:members"), {"UTC"}), 2)
        newcomer = Client()
        self.assertGreaterEqual(
            self.assert_every_time_labelled(
                reverse("accounts:invitation", args=[token]), {"UTC"}, client=newcomer
            ),
            1,
        )
        staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)
        self.client.force_login(staff)
        batch = RecheckBatch.objects.create(total=0, created_by=staff)
        alarms.raise_alarm("invalid_client", "orders")
        # A staff list row is about one store: its last checks are in that store's zone; batches and alarms in UTC.
        self.assertGreaterEqual(
            self.assert_every_time_labelled(reverse("staff:staff_stores"), {"UTC"} | LOS_ANGELES), 3
        )
        self.assertGreaterEqual(
            self.assert_every_time_labelled(reverse("staff:staff_batch", args=[batch.code]), {"UTC"}), 2
        )

    def test_the_admin_says_its_times_are_utc(self) -> None:
        admin = User.objects.create_superuser(email="root@example.org", password="x")
        self.client.force_login(admin)
        r = self.client.get(reverse("admin:stores_store_changelist"))
        self.assertContains(r, '<span data-testid="admin-time-zone">Times in UTC</span>', html=False)
