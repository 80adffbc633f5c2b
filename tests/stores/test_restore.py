from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from authorizations import store_actions
from authorizations.models import AuditEvent, Authorization, AuthStatus
from stores.models import CombinedStatus, Store
from tests.base import BaseTestCase, make_store


class StoreRestoreTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        # An authorized store, with a verified seller, then archived: its capabilities are disabled, tokens kept.
        orders = self.store.authorizations.get(capability="orders")
        orders.set_refresh_token("Atzr|archived-token")
        orders.status = AuthStatus.AUTHORIZED
        orders.authorized_at = timezone.now()
        orders.save()
        Store.objects.filter(pk=self.store.pk).update(
            selling_partner_id="A1SELLER", selling_partner_verified=True
        )
        self.store.refresh_from_db()
        store_actions.archive_store(None, self.store)  # type: ignore[arg-type]

    def restore(self) -> object:
        return self.client.post(reverse("stores:restore", args=[self.store.code]))

    def test_the_archived_stores_are_reachable_from_the_store_list(self) -> None:
        self.login(self.alice)
        r = self.client.get(reverse("stores:list"))
        self.assertContains(r, f'href="{reverse("stores:list")}?status=archived"')
        self.assertContains(self.client.get(reverse("stores:list"), {"status": "archived"}), "Main US store")

    def test_an_owner_restores_an_archived_store_with_its_history_and_nothing_authorized(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, reverse("stores:restore_confirm", args=[self.store.code]))
        self.assertContains(
            self.client.get(reverse("stores:restore_confirm", args=[self.store.code])),
            "Restore “Main US store”?",
        )
        r = self.restore()
        self.assertRedirects(r, reverse("stores:detail", args=[self.store.code]))
        self.store.refresh_from_db()
        self.assertIsNone(self.store.archived_at)
        self.assertEqual(self.store.selling_partner_id, "")
        self.assertEqual(self.store.authorization_status, CombinedStatus.NOT_AUTHORIZED)
        for a in Authorization.objects.filter(store=self.store):
            self.assertEqual(a.status, AuthStatus.NOT_AUTHORIZED)
            self.assertFalse(a.has_token)
        actions = list(AuditEvent.objects.filter(store=self.store).values_list("action", flat=True))
        self.assertIn("store.created", actions)
        self.assertIn("store.archived", actions)
        self.assertIn("store.restored", actions)
        self.assertContains(self.client.get(reverse("stores:list")), "Main US store")
        self.assertContains(
            self.client.get(reverse("stores:detail", args=[self.store.code])), "Store restored"
        )

    def test_a_nickname_taken_meanwhile_is_refused_with_a_clear_message(self) -> None:
        make_store(self.tenant, nickname="main us STORE")
        self.login(self.alice)
        r = self.client.post(reverse("stores:restore", args=[self.store.code]), follow=True)
        self.assertContains(r, "Another active store is already called “Main US store”.")
        self.store.refresh_from_db()
        self.assertIsNotNone(self.store.archived_at)
        self.assertFalse(AuditEvent.objects.filter(store=self.store, action="store.restored").exists())

    def test_a_store_of_the_same_seller_connected_meanwhile_does_not_block_the_restore(self) -> None:
        other = make_store(self.tenant, nickname="New US store")
        Store.objects.filter(pk=other.pk).update(selling_partner_id="A1SELLER", selling_partner_verified=True)
        self.login(self.alice)
        self.restore()
        self.store.refresh_from_db()
        self.assertIsNone(self.store.archived_at)

    def test_a_viewer_and_a_member_get_403_and_the_store_stays_archived(self) -> None:
        for user in (self.vera, self.bob):
            self.login(user)
            self.assertEqual(
                self.client.get(reverse("stores:restore_confirm", args=[self.store.code])).status_code, 403
            )
            self.assertEqual(self.restore().status_code, 403)  # type: ignore[attr-defined]
            self.assertNotContains(
                self.client.get(reverse("stores:detail", args=[self.store.code])), 'data-testid="restore"'
            )
        self.store.refresh_from_db()
        self.assertIsNotNone(self.store.archived_at)

    def test_an_outsider_gets_404(self) -> None:
        self.client.force_login(self.charlie)
        self.assertEqual(self.restore().status_code, 404)  # type: ignore[attr-defined]
        self.assertEqual(
            self.client.get(reverse("stores:restore_confirm", args=[self.store.code])).status_code, 404
        )

    def test_restoring_needs_a_post(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.get(reverse("stores:restore", args=[self.store.code])).status_code, 405)
