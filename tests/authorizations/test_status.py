from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import override

from authorizations import status
from authorizations.models import Authorization, AuthStatus, Capability
from authorizations.status import label as status_label
from stores.models import CombinedStatus
from tests.base import BaseTestCase


class CombinedStatusTests(BaseTestCase):
    def set(self, capability: str, value: str, expires_in_days: int | None = None) -> None:
        a = Authorization.objects.get(store=self.store, capability=capability)
        a.status = value
        if value == AuthStatus.AUTHORIZED:
            a.authorized_at = timezone.now()
            a.expires_at = timezone.now() + timedelta(
                days=expires_in_days if expires_in_days is not None else 365
            )
            if capability == Capability.ADS:
                # A seller profile of the store's US site: advertising can be used.
                a.ads_profiles = [
                    {"marketplace_id": "ATVPDKIKX0DER", "account_type": "seller", "country_code": "US"}
                ]
        a.save()

    def combined(self) -> tuple[str, str]:
        value = status.recompute_in_transaction(self.store)
        self.store.refresh_from_db()
        with override("en"):
            return value, status_label(self.store)

    def test_a_new_store_is_not_authorized(self) -> None:
        self.assertEqual(self.combined(), (CombinedStatus.NOT_AUTHORIZED, "Not authorized"))

    def test_orders_alone_is_partial_with_the_seed_label(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.AUTHORIZED)
        self.assertEqual(
            self.combined(),
            (CombinedStatus.PARTIAL, "Order loading authorized, listing/inventory not authorized"),
        )

    def test_listings_alone_is_partial(self) -> None:
        self.set(Capability.LISTINGS, AuthStatus.AUTHORIZED)
        self.assertEqual(
            self.combined(),
            (CombinedStatus.PARTIAL, "Order loading not authorized, listing/inventory authorized"),
        )

    def test_both_is_authorized(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.AUTHORIZED)
        self.set(Capability.LISTINGS, AuthStatus.AUTHORIZED)
        self.assertEqual(self.combined(), (CombinedStatus.AUTHORIZED, "Authorized"))

    def test_advertising_is_named_beside_the_label(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.AUTHORIZED)
        self.set(Capability.LISTINGS, AuthStatus.AUTHORIZED)
        self.set(Capability.ADS, AuthStatus.AUTHORIZED)
        self.assertEqual(self.combined(), (CombinedStatus.AUTHORIZED, "Authorized · advertising authorized"))

    def test_advertising_alone_does_not_make_the_store_authorized(self) -> None:
        self.set(Capability.ADS, AuthStatus.AUTHORIZED)
        self.assertEqual(
            self.combined(), (CombinedStatus.NOT_AUTHORIZED, "Not authorized · advertising authorized")
        )

    def test_needs_reauthorization_wins_over_everything(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.NEEDS_REAUTHORIZATION)
        self.set(Capability.LISTINGS, AuthStatus.AUTHORIZED)
        self.assertEqual(self.combined(), (CombinedStatus.ATTENTION, "Order loading needs re-authorization"))

    def test_advertising_needing_reauthorization_is_attention_too(self) -> None:
        self.set(Capability.ADS, AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertEqual(self.combined(), (CombinedStatus.ATTENTION, "Advertising needs re-authorization"))

    def test_expiry_within_30_days_is_attention(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.AUTHORIZED, expires_in_days=12)
        self.set(Capability.LISTINGS, AuthStatus.AUTHORIZED)
        value, label = self.combined()
        self.assertEqual(value, CombinedStatus.ATTENTION)
        self.assertIn("Order loading expires in 1", label)

    def test_a_pending_attempt_with_nothing_authorized_is_authorizing(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.PENDING)
        self.assertEqual(self.combined(), (CombinedStatus.PENDING, "Authorizing"))

    def test_pending_beside_an_authorized_capability_stays_partial(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.AUTHORIZED)
        self.set(Capability.LISTINGS, AuthStatus.PENDING)
        value, label = self.combined()
        self.assertEqual(value, CombinedStatus.PARTIAL)
        self.assertEqual(label, "Order loading authorized, listing/inventory being authorized")

    def test_the_label_is_translated(self) -> None:
        self.set(Capability.ORDERS, AuthStatus.AUTHORIZED)
        status.recompute_in_transaction(self.store)
        self.store.refresh_from_db()
        with override("zh-hans"):
            label = status_label(self.store)
        self.assertEqual(label, "载单功能已授权，刊登/库存同步功能未授权")
