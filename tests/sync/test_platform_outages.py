"""Outages that are ours or Amazon's, not a seller's: one alarm for staff, no store changed or flooded."""

from __future__ import annotations

from authorizations import app_secrets, crypto
from authorizations.models import ApplicationCredential, Authorization, AuthStatus, PlatformAlarm
from sandbox import api as sandbox_api
from stores.models import Store
from sync import order_sync
from sync.models import OrderSync
from tests.base import make_store
from tests.sync.helpers import US, SyncTestCase


class PlatformOutageTests(SyncTestCase):
    def test_refused_application_credentials_leave_the_store_page_quiet(self) -> None:
        self.authorize_orders()
        row = app_secrets.credential(ApplicationCredential.Kind.ORDERS)
        row.secret_encrypted = crypto.encrypt("wrong")
        row.save()
        self.make_due()
        self.assertEqual(order_sync.run(self.store.pk), "platform_outage")
        state = self.state()
        self.assertEqual(state.last_error, "")
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.AUTHORIZED
        )
        self.assertEqual(PlatformAlarm.objects.get(resolved_at__isnull=True).kind, "invalid_client")

    def test_many_stores_failing_at_the_sp_api_open_one_outage_alarm(self) -> None:
        stores: list[Store] = [self.store]
        self.authorize_orders()
        for i in range(4):
            seller = sandbox_api.create_seller(f"Outage seller {i}", "NA", [US])
            store = make_store(self.tenant, nickname=f"Outage store {i}", sites=["US"])
            self.authorize("orders", seller_id=seller.selling_partner_id, store=store)
            stores.append(store)
        sandbox_api.set_fault("orders", "http500")
        OrderSync.objects.update(next_run_at=self.state().next_run_at)
        for store in stores:
            OrderSync.objects.filter(store=store).update(claimed_until=None)
            order_sync.run(store.pk)
        alarm = PlatformAlarm.objects.get(kind="amazon_outage")
        self.assertEqual(alarm.subject, "sp-api orders")
        self.assertIsNone(alarm.resolved_at)
        self.assertTrue(
            all(a.status == AuthStatus.AUTHORIZED for a in Authorization.objects.filter(capability="orders"))
        )
