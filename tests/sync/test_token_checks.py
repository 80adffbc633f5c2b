"""The hourly token check: every capability shows a revoke or expiry at Amazon by itself within the hour, for one
LWA refresh at most per grant-hour, a job's own refresh counting (issue 22, item 2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import time_machine
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from authorizations import credentials
from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from sync import rechecks, schedules, tasks
from tests.base import make_store
from tests.sandbox_http import sandbox_path
from tests.sync.helpers import SyncTestCase


class TokenCheckTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.start = timezone.now()

    @contextmanager
    def later(self, minutes: float) -> Iterator[datetime]:
        """The whole portal's clock `minutes` after the test began (the token cache's expiry included)."""
        at = self.start + timedelta(minutes=minutes)
        with time_machine.travel(at, tick=False):
            yield at

    def run_dispatcher(self) -> int:
        """The every-minute schedule, and the chunk tasks it enqueues run as a worker would."""
        with mock.patch("sync.rechecks.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            count = tasks.dispatch_token_checks()
        for call in enqueue.call_args_list:
            self.assertEqual(call.args[0], "sync.tasks.check_grant_tokens")
            tasks.check_grant_tokens(*call.args[1:])
        return count

    def token_calls(self) -> int:
        return sum(1 for c in self.rsps.calls if "/auth/o2/token" in str(c.request.url))

    def auth(self, capability: str) -> Authorization:
        return Authorization.objects.select_related("store").get(store=self.store, capability=capability)

    def authorize_ads(self) -> None:
        attempt = self.begin("ads")
        url = sandbox_path(attempt.consent_url)
        self.amazon.get(url)
        r = self.amazon.post(url, {"seller": self.seller.selling_partner_id, "action": "allow"})
        self.callback(str(r["Location"]))

    def test_the_dispatcher_is_scheduled_every_minute(self) -> None:
        planned = {p.name: p for p in schedules.PLANNED}
        self.assertEqual(planned["grant-token-checks"].func, "sync.tasks.dispatch_token_checks")
        self.assertEqual(planned["grant-token-checks"].minutes, 1)

    def test_a_revoke_of_an_idle_listing_grant_shows_by_itself_within_the_hour_with_the_reason(self) -> None:
        self.authorize("listings")
        sandbox_api.revoke(self.seller, settings.AMAZON_SPAPI_APPS["listings"]["app_id"])
        with self.later(30):
            self.assertEqual(self.run_dispatcher(), 0)  # checked at the authorization: not due yet
        self.assertEqual(self.auth("listings").status, AuthStatus.AUTHORIZED)
        with self.later(60) as at:
            self.assertEqual(self.run_dispatcher(), 1)
            auth = self.auth("listings")
            self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
            self.assertEqual(auth.last_error, "revoked")
            self.assertEqual(auth.last_checked_at, at)
            page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Listing/inventory needs re-authorization")
        self.assertContains(page, "Amazon says the authorization was revoked or has expired.")

    def test_a_revoke_of_advertising_shows_within_the_hour(self) -> None:
        self.authorize_ads()
        sandbox_api.revoke(self.seller, settings.AMAZON_ADS_APP["client_id"])
        with self.later(60):
            self.run_dispatcher()
        self.assertEqual(self.auth("ads").status, AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertEqual(self.auth("ads").last_error, "revoked")

    def test_an_expiry_at_amazon_of_order_loading_shows_within_the_hour_without_a_sync(self) -> None:
        self.authorize("orders")
        sandbox_api.expire(self.seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
        with self.later(60):
            self.run_dispatcher()
        self.assertEqual(self.auth("orders").status, AuthStatus.NEEDS_REAUTHORIZATION)

    def test_a_working_grant_costs_one_refresh_an_hour_and_its_last_check_moves(self) -> None:
        self.authorize("listings")
        for hour in (1, 2, 3):
            before = self.token_calls()
            with self.later(60 * hour) as at:
                self.run_dispatcher()
                self.assertEqual(self.run_dispatcher(), 0)  # a second minute finds nothing due
            self.assertEqual(self.token_calls() - before, 1)
            auth = self.auth("listings")
            self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
            self.assertEqual(auth.last_checked_at, at)

    def test_a_token_a_job_refreshed_counts_as_the_check_with_no_extra_lwa_call(self) -> None:
        self.authorize("listings")
        with self.later(58) as refreshed:
            auth = self.auth("listings")
            credentials.access_token_for(auth.store, "listings", auth.get_refresh_token())  # a job's refresh
        before = self.token_calls()
        with self.later(60):
            self.assertEqual(self.run_dispatcher(), 1)
        self.assertEqual(self.token_calls(), before)
        self.assertEqual(self.auth("listings").last_checked_at, refreshed)

    def test_the_check_fills_the_token_cache_so_the_next_job_makes_no_lwa_call(self) -> None:
        self.authorize("listings")
        with self.later(60):
            self.run_dispatcher()
            before = self.token_calls()
            auth = self.auth("listings")
            credentials.access_token_for(auth.store, "listings", auth.get_refresh_token())
        self.assertEqual(self.token_calls(), before)

    def test_an_lwa_outage_keeps_the_status_shows_the_error_and_waits_before_trying_again(self) -> None:
        self.authorize("listings")
        sandbox_api.set_fault("token", "http500")
        with self.later(60):
            self.run_dispatcher()
        auth = self.auth("listings")
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        self.assertEqual(auth.last_error, "amazon_error")
        with self.later(65):
            self.assertEqual(self.run_dispatcher(), 0)
        sandbox_api.clear_faults()
        with self.later(71):
            self.assertEqual(self.run_dispatcher(), 1)
        self.assertEqual(self.auth("listings").last_error, "")

    def test_order_loading_last_checked_moves_when_the_sync_finds_a_revoke(self) -> None:
        self.authorize("orders")
        sandbox_api.revoke(self.seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
        with self.later(56) as at:  # the access token of the authorization has lapsed: the sync refreshes
            self.make_due()
            tasks.sync_orders(self.store.pk)
            auth = self.auth("orders")
        self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertEqual(auth.last_checked_at, at)

    def test_order_loading_last_checked_moves_when_the_sync_refreshes_and_succeeds(self) -> None:
        self.authorize("orders")
        cache.clear()
        with self.later(30) as at:
            self.make_due()
            tasks.sync_orders(self.store.pk)
        self.assertEqual(self.auth("orders").status, AuthStatus.AUTHORIZED)
        self.assertEqual(self.auth("orders").last_checked_at, at)
        with self.later(80):  # 50 minutes after the sync's refresh: not due
            self.assertEqual(self.run_dispatcher(), 0)

    def test_many_due_grants_go_out_in_chunks_and_a_first_wave_spreads_over_the_hour(self) -> None:
        stores = [make_store(self.tenant, nickname=f"Store {n}") for n in range(7)]
        Authorization.objects.filter(store__in=stores, capability="listings").update(
            status=AuthStatus.AUTHORIZED
        )
        for a in Authorization.objects.filter(store__in=stores, capability="listings"):
            a.set_refresh_token(f"Atzr|grant-{a.pk}")
            a.save(update_fields=["refresh_token_encrypted"])
        with (
            mock.patch.object(rechecks, "TOKEN_CHECK_CHUNK", 2),
            mock.patch.object(rechecks, "TOKEN_CHECK_SHARE", 0.5),
            mock.patch("sync.rechecks.async_task") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.assertEqual(
                tasks.dispatch_token_checks(), 4
            )  # half of the 7 grants (rounded up) this minute
        chunks: list[Any] = [c.args[1] for c in enqueue.call_args_list]
        self.assertEqual([len(c) for c in chunks], [2, 2])
