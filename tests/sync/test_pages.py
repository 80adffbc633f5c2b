from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sync import tasks
from sync.models import OrderSync
from tests.base import make_store
from tests.sync.helpers import SyncTestCase


class OrdersPageTests(SyncTestCase):
    def url(self) -> str:
        return reverse("sync:orders", args=[self.store.code])

    def test_viewers_see_the_loaded_orders_page_by_page(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        self.login(self.vera)
        r = self.client.get(self.url())
        self.assertEqual(r.status_code, 200)
        page = r.context["page"]
        self.assertEqual(page.paginator.count, OrderSync.objects.get(store=self.store).orders_loaded)
        self.assertEqual(len(page.object_list), 50)
        self.assertContains(r, page.object_list[0].amazon_order_id)
        self.assertEqual(self.client.get(self.url(), {"page": 2}).status_code, 200)

    def test_outsiders_get_404(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url()).status_code, 404)

    def test_anonymous_users_are_sent_to_log_in(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 302)


class ProgressTests(SyncTestCase):
    def test_the_store_page_shows_order_loading_progress_and_the_orders_link(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        s = OrderSync.objects.get(store=self.store)
        self.login(self.vera)
        r = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(r, 'data-testid="order-loading"')
        self.assertContains(r, f'<dd data-testid="orders-loaded">{s.orders_loaded}</dd>', html=False)
        self.assertContains(r, reverse("sync:orders", args=[self.store.code]))
        self.assertContains(r, "Loaded since")

    def test_the_store_page_shows_the_last_sync_error(self) -> None:
        self.authorize_orders()
        from sandbox import api as sandbox_api

        sandbox_api.set_fault("orders", "http500")
        tasks.sync_orders(self.store.pk)
        self.login(self.alice)
        r = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(r, 'data-testid="sync-error"')
        self.assertContains(r, "server error")

    def test_the_store_list_shows_progress_at_a_constant_query_count(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        self.login(self.alice)

        def queries() -> int:
            with CaptureQueriesContext(connection) as ctx:
                r = self.client.get(reverse("stores:list"))
                self.assertContains(r, 'data-testid="order-progress"')
            return len(ctx.captured_queries)

        few = queries()
        for n in range(10):
            store = make_store(self.tenant, f"Shop {n}")
            OrderSync.objects.create(store=store, backfill_from=timezone.now(), orders_loaded=n)
        self.assertEqual(queries(), few)
        self.assertContains(self.client.get(reverse("stores:list")), "Up to date")
