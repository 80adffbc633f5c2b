"""What every page and the admin show around the content: a favicon, the navigation's current section, the
admin's section names, its store sites and its audit events in words."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.urls import reverse

from accounts.models import User
from authorizations.models import AuditEvent
from tests.base import BaseTestCase


class FrameTests(BaseTestCase):
    def test_every_page_names_a_favicon_that_exists(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("stores:list")).content.decode()
        link = re.search(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">', page)
        assert link is not None, "no favicon link"
        self.assertIsNotNone(finders.find(link.group(1)))
        self.client.logout()
        self.assertIn(link.group(0), self.client.get(reverse("account_login")).content.decode())

    def test_the_orders_and_stock_pages_highlight_platform_authorization(self) -> None:
        self.login(self.alice)
        for name in ("sync:orders", "sync:inventory"):
            with self.subTest(page=name):
                r = self.client.get(reverse(name, args=[self.store.code]))
                self.assertContains(
                    r,
                    f'<a href="{reverse("stores:list")}" class="active">Platform authorization</a>',
                    html=True,
                )


class AdminLabelTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(User.objects.create_superuser(email="root@example.org", password="x"))

    def test_the_admin_has_one_accounts_section(self) -> None:
        index = self.client.get(reverse("admin:index")).content.decode()
        sections = re.findall(r"<caption>\s*<a [^>]*>([^<]+)</a>", index)
        self.assertEqual(len(sections), len(set(sections)), sections)
        self.assertIn("People and distributor accounts", sections)

    def test_a_stores_sites_are_labelled_and_of_its_region_only(self) -> None:
        page = self.client.get(reverse("admin:stores_store_change", args=[self.store.pk]))
        self.assertContains(page, '<label class="required">Sites:</label>', html=True)
        self.assertContains(page, 'name="sites" value="US"')
        self.assertNotContains(page, 'name="sites" value="DE"')
        self.assertNotContains(page, 'name="sites" value="JP"')

    def test_audit_events_read_in_words(self) -> None:
        AuditEvent.objects.create(
            store=self.store,
            user=self.alice,
            action="authorization.started",
            capability="orders",
            outcome="pending",
        )
        page = self.client.get(reverse("admin:authorizations_auditevent_changelist"))
        self.assertContains(page, '<td class="field-what">Authorization started</td>', html=True)
        self.assertContains(page, '<td class="field-result">waiting for Amazon</td>', html=True)
        self.assertNotContains(page, ">authorization.started<")
