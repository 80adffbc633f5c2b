"""Django admin of stores: proper widgets, read-only where the portal forbids change, archive instead of delete."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from stores.models import Store
from tests.base import BaseTestCase


class StoreAdminTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.root = User.objects.create_superuser(email="root@example.org", password="x")
        self.client.force_login(self.root)
        self.url = reverse("admin:stores_store_change", args=[self.store.pk])

    def test_sites_are_checkboxes_and_the_region_is_read_only(self) -> None:
        page = self.client.get(self.url)
        self.assertContains(page, 'type="checkbox" name="sites" value="US"')
        self.assertNotContains(page, 'name="region"')
        self.assertNotContains(page, '["US", "CA"]')

    def test_a_site_of_another_region_is_a_field_error(self) -> None:
        data = {
            "nickname": "Main US store",
            "sites": ["US", "DE"],
            "initial_order_date": "",
            "timezone": "America/Los_Angeles",
            "created_by": "",
            "authorizations-TOTAL_FORMS": "3",
            "authorizations-INITIAL_FORMS": "3",
            "authorizations-MIN_NUM_FORMS": "0",
            "authorizations-MAX_NUM_FORMS": "1000",
        }
        for i, a in enumerate(self.store.authorizations.order_by("pk")):
            data[f"authorizations-{i}-id"] = str(a.pk)
            data[f"authorizations-{i}-store"] = str(self.store.pk)
        r = self.client.post(self.url, data)
        self.assertContains(r, "not in the store")
        self.store.refresh_from_db()
        self.assertEqual(self.store.sites, ["US", "CA"])

    def test_stores_cannot_be_deleted_only_archived(self) -> None:
        self.assertEqual(
            self.client.get(reverse("admin:stores_store_delete", args=[self.store.pk])).status_code, 403
        )
        changelist = reverse("admin:stores_store_changelist")
        self.assertNotContains(self.client.get(changelist), "delete_selected")
        r = self.client.post(
            changelist, {"action": "archive_stores", "_selected_action": [str(self.store.pk)]}
        )
        self.assertEqual(r.status_code, 302)
        self.store.refresh_from_db()
        self.assertIsNotNone(self.store.archived_at)
        self.assertTrue(Store.objects.filter(pk=self.store.pk).exists())
