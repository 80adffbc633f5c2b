"""Finding the stores an ORDER_CHANGE notification names must stay a lookup by seller: the reader does it for every
message, and at platform scale (1,000,000 stores, 3,000,000 authorizations) reading the authorizations that name no
seller, or all of them, cost ~0.2 s per message (found by bench/run fleet)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from authorizations.models import Authorization, AuthStatus, Capability
from stores.models import Store
from sync import order_changes
from tests.base import make_store
from tests.sync.helpers import US, SyncTestCase

OTHERS = 1500


def _plan(sql: str) -> str:
    """The plan the database picks, sequential scans priced out on PostgreSQL (so that it shows which index, if
    any, can serve the query; it still scans when none can)."""
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SET LOCAL enable_seqscan = off")  # the test runs in a transaction
            c.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in c.fetchall())
        c.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in c.fetchall())


class NotifiedStoresTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.seller = self.authorize_orders().selling_partner_id
        # A second store whose authorization names no seller: found through its store's seller id.
        self.other = make_store(self.tenant, nickname="Through the store", sites=["US"])
        Store.objects.filter(pk=self.other.pk).update(selling_partner_id=self.seller)
        Authorization.objects.filter(store=self.other, capability="orders").update(
            status=AuthStatus.AUTHORIZED
        )
        # As on a platform: many stores authorized for other sellers, many not authorized (naming no seller).
        stores = Store.objects.bulk_create(
            Store(
                tenant=self.tenant,
                nickname=f"Other {i}",
                region="NA",
                sites=["US"],
                selling_partner_id=f"AO{i:08d}",
            )
            for i in range(OTHERS)
        )
        Authorization.objects.bulk_create(
            Authorization(
                store=s,
                capability=Capability.ORDERS,
                status=AuthStatus.AUTHORIZED if i % 2 else AuthStatus.NOT_AUTHORIZED,
                selling_partner_id=s.selling_partner_id if i % 2 else "",
            )
            for i, s in enumerate(stores)
        )
        with connection.cursor() as c:
            c.execute("ANALYZE")  # the planner knows a seller id is selective and the empty one is not

    def test_the_stores_of_a_notified_seller_are_found_both_ways(self) -> None:
        self.assertCountEqual(order_changes.stores_for(self.seller, US), [self.store.pk, self.other.pk])
        self.assertEqual(
            order_changes.stores_for("AO00000001", US), [Store.objects.get(nickname="Other 1").pk]
        )
        self.assertEqual(order_changes.stores_for("AO00000002", US), [])  # not authorized

    def test_they_are_looked_up_by_the_seller_never_among_authorizations_that_name_none(self) -> None:
        with CaptureQueriesContext(connection) as ctx:
            order_changes.stores_for(self.seller, US)
        table = Authorization._meta.db_table
        reads = [q["sql"] for q in ctx.captured_queries if table in q["sql"]]
        self.assertEqual(len(reads), 2)
        for sql in reads:
            plan = _plan(sql)
            self.assertNotIn("auth_capability_status", plan)
            self.assertNotRegex(plan, rf"(Seq Scan on|SCAN) {table}\b", plan)
            if 'store_id" IN (' in sql:
                # Reached from the stores' seller id: an index on the store, not the empty id's range.
                # (SQLite names the (store, capability) unique index sqlite_autoindex_…: "(store_id=? AND …".)
                self.assertRegex(
                    plan, r"unique_store_capability|authorizations_authorization_store_id|\(store_id=\?"
                )
                self.assertNotIn("auth_seller_capability", plan)
            else:
                self.assertIn("auth_seller_capability", plan)
