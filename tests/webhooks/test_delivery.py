"""Webhook events and their delivery to a real receiver on loopback, verified with the Standard Webhooks library."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from amazon import orders as amazon_orders
from authorizations import lifecycle, store_actions
from authorizations.models import Authorization, AuthStatus
from sync import order_store, schedules
from tests.base import make_user
from tests.webhooks.helpers import Receiver, WebhookTestCase
from webhooks import delivery, tasks
from webhooks.models import Delivery, Endpoint, Event

REAL_GETADDRINFO = socket.getaddrinfo


@contextmanager
def resolving(names: dict[str, str]) -> Iterator[None]:
    """DNS as a rebinding attacker would serve it: `names` resolve to the given addresses, others as usual."""

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return REAL_GETADDRINFO(names[host], port, *args, **kwargs)
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    with mock.patch("socket.getaddrinfo", side_effect=fake):
        yield


def amazon_order(order_id: str, status: str = "Unshipped", minutes: int = 0) -> amazon_orders.Order:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return amazon_orders.Order(
        order_id=order_id,
        marketplace_id="ATVPDKIKX0DER",
        created=datetime(2026, 3, 1, 11, 0, tzinfo=UTC),
        last_updated=at,
        status=status,
        total=Decimal("12.50"),
        currency="USD",
        items=(),
        raw={},
    )


class AuthorizationEventTests(WebhookTestCase):
    def test_a_real_receiver_verifies_every_delivery_with_the_standard_webhooks_library(self) -> None:
        _endpoint, secret = self.add_endpoint()
        with self.delivering():
            self.authorize("orders")
            self.authorize("listings")
        bodies = self.receiver.verified(secret)
        self.assertEqual([b["type"] for b in bodies], ["store.authorization_changed"] * 2)
        self.assertEqual([b["data"]["status"] for b in bodies], ["partial", "authorized"])
        data = bodies[1]["data"]
        self.assertEqual(data["code"], str(self.store.code))
        self.assertEqual(
            {c["capability"]: c["status"] for c in data["capabilities"]}["listings"], "authorized"
        )
        ids = [r.headers["webhook-id"] for r in self.receiver.received]
        self.assertEqual(len(set(ids)), 2)
        self.assertTrue(all(i.startswith("msg_") for i in ids))

    def test_the_body_carries_the_store_as_the_api_shows_it_and_never_a_token_or_secret(self) -> None:
        _endpoint, secret = self.add_endpoint()
        auth = Authorization.objects.get(store=self.store, capability="orders")
        auth.set_refresh_token("Atzr|refresh-token-that-must-stay-home")
        auth.save()
        with self.delivering():
            self.authorize("orders")
        [received] = self.receiver.received
        self.assertNotIn(b"refresh-token-that-must-stay-home", received.body)
        self.assertNotIn(secret.encode(), received.body)
        self.assertNotIn(secret, json.dumps(received.headers))
        body = json.loads(received.body)
        self.assertEqual(set(body), {"type", "timestamp", "data"})
        self.assertEqual(body["data"]["status_label"], "Partially authorized")
        api = self.client_for_api()
        self.assertEqual(body["data"]["capabilities"], api["capabilities"])

    def client_for_api(self) -> dict[str, Any]:
        from tests.api.helpers import make_key

        _key, secret = make_key(self.tenant, self.alice)
        r = self.client.get(f"/api/v1/stores/{self.store.code}/", HTTP_AUTHORIZATION=f"Bearer {secret}")
        self.assertEqual(r.status_code, 200)
        document: dict[str, Any] = r.json()
        return document

    def test_a_save_that_changes_no_status_sends_no_event_and_each_change_sends_one(self) -> None:
        self.add_endpoint()
        self.authorize("orders")
        self.assertEqual(Event.objects.count(), 1)
        self.authorize("orders")  # saved again, same status
        with transaction.atomic():
            from authorizations import transitions

            auth = transitions.locked(Authorization.objects.get(store=self.store, capability="orders").pk)
            transitions.change(auth, fields={"last_checked_at": timezone.now()})
        self.assertEqual(Event.objects.count(), 1)
        self.set_status("ads", AuthStatus.PENDING)  # a capability changed, the combined status did not
        self.assertEqual(Event.objects.count(), 2)

    def test_every_way_a_status_changes_sends_the_event(self) -> None:
        self.add_endpoint()
        self.authorize("orders")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        auth.set_refresh_token("token")
        auth.save()
        lifecycle.disable(None, auth)
        lifecycle.enable(None, auth)
        lifecycle.mark_needs_reauthorization(auth, "revoked")
        lifecycle.revoke(None, auth)
        self.authorize("listings")
        store_actions.archive_store(mock.Mock(user=self.alice, META={}), self.store)
        store_actions.restore_store(mock.Mock(user=self.alice, META={}), self.store)
        statuses = [e.data["status"] for e in Event.objects.order_by("created_at", "id")]
        self.assertEqual(
            statuses,
            ["partial", "not_authorized", "partial", "attention", "not_authorized", "partial", "not_authorized",
             "not_authorized"],
        )  # fmt: skip

    def test_a_combined_status_change_alone_sends_the_event(self) -> None:
        self.add_endpoint()
        self.authorize("orders")
        self.authorize("listings")
        Authorization.objects.filter(store=self.store, capability="orders").update(
            expires_at=timezone.now() + timedelta(days=10)
        )
        lifecycle.expire_lapsed()
        last = Event.objects.order_by("-created_at", "-id").first()
        assert last is not None
        self.assertEqual(last.data["status"], "attention")
        self.assertEqual(Event.objects.count(), 3)

    def test_an_event_is_written_in_the_transaction_of_the_change_and_rolls_back_with_it(self) -> None:
        self.add_endpoint()
        try:
            with transaction.atomic():
                self.authorize("orders")
                self.assertEqual(Event.objects.count(), 1)
                raise RuntimeError("the change fails after the status was saved")
        except RuntimeError:
            pass
        self.assertEqual(Event.objects.count(), 0)
        self.assertEqual(Delivery.objects.count(), 0)

    def test_a_tenant_without_a_subscribed_endpoint_costs_one_query_and_gets_no_event(self) -> None:
        self.add_endpoint(events=["order.created"])
        Endpoint.objects.create(tenant=self.other_tenant, url="https://x.example.com/", events=["store.authorization_changed"], secret_encrypted="x")  # fmt: skip
        from webhooks import events

        with self.assertNumQueries(1):
            events.authorization_changed(self.store)
        self.authorize("orders")
        self.assertEqual(Event.objects.count(), 0)


class OrderEventTests(WebhookTestCase):
    def store_orders(self, *orders: amazon_orders.Order) -> None:
        with transaction.atomic():
            order_store.upsert(self.store, list(orders))

    def test_new_changed_and_cancelled_orders_reach_the_receiver_as_their_event_types(self) -> None:
        _endpoint, secret = self.add_endpoint()
        with self.delivering():
            self.store_orders(amazon_order("111-1"), amazon_order("111-2"))
            self.store_orders(amazon_order("111-1", "Shipped", 5), amazon_order("111-2", "Canceled", 5))
            self.store_orders(amazon_order("111-1", "Shipped", 5))  # not newer: not written, no event
        bodies = self.receiver.verified(secret)
        seen = sorted((b["type"], b["data"]["amazon_order_id"], b["data"]["status"]) for b in bodies)
        self.assertEqual(
            seen,
            [
                ("order.cancelled", "111-2", "Canceled"),
                ("order.created", "111-1", "Unshipped"),
                ("order.created", "111-2", "Unshipped"),
                ("order.updated", "111-1", "Shipped"),
            ],
        )
        self.assertEqual(bodies[0]["data"]["store"], str(self.store.code))

    def test_a_page_costs_one_query_more_when_no_endpoint_listens_to_orders(self) -> None:
        self.add_endpoint(events=["store.authorization_changed"])
        with CaptureQueriesContext(connection) as one:
            self.store_orders(amazon_order("222-0"))
        with CaptureQueriesContext(connection) as thirty:
            self.store_orders(*[amazon_order(f"222-{i}") for i in range(1, 31)])
        self.assertEqual(len(one), len(thirty))  # no query per order
        endpoint_queries = [q["sql"] for q in thirty.captured_queries if "webhooks_" in q["sql"]]
        self.assertEqual(len(endpoint_queries), 1)
        self.assertIn("webhooks_endpoint", endpoint_queries[0])
        self.assertEqual(Event.objects.count(), 0)

    def test_only_the_subscribed_order_event_types_are_built(self) -> None:
        self.add_endpoint(events=["order.cancelled"])
        self.store_orders(amazon_order("333-1"))
        self.store_orders(amazon_order("333-1", "Canceled", 1))
        self.assertEqual(list(Event.objects.values_list("type", flat=True)), ["order.cancelled"])


class RetryTests(WebhookTestCase):
    @override_settings(WEBHOOKS_RETRY_SCHEDULE=[1, 1, 1, 1])
    def test_a_receiver_that_fails_three_times_then_succeeds_gets_the_event_with_the_same_id(self) -> None:
        endpoint, secret = self.add_endpoint()
        self.receiver.plan = [500, 503, 500]
        start = timezone.now()
        with self.delivering():
            self.authorize("orders")
        for second in range(1, 20):
            with time_machine.travel(start + timedelta(seconds=2 * second), tick=False), self.delivering():
                tasks.sweep()
        self.assertEqual(len(self.receiver.received), 4)
        self.assertEqual(len({r.headers["webhook-id"] for r in self.receiver.received}), 1)
        self.assertEqual(len(self.receiver.verified(secret)), 4)
        d = Delivery.objects.get()
        self.assertEqual((d.status, d.attempts, d.last_response_code), ("succeeded", 4, 200))
        self.assertEqual([a.response_code for a in d.attempt_log.order_by("at")], [500, 503, 500, 200])
        endpoint.refresh_from_db()
        self.assertIsNone(endpoint.failing_since)

    def test_the_default_schedule_retries_for_more_than_a_day_with_growing_pauses(self) -> None:
        from django.conf import settings

        pauses = settings.WEBHOOKS_RETRY_SCHEDULE
        self.assertGreaterEqual(sum(pauses), 24 * 3600)
        self.assertEqual(pauses, sorted(pauses))
        at = timezone.now()
        first = delivery.next_attempt(1, at)
        assert first is not None
        self.assertLessEqual(first - at, timedelta(seconds=pauses[0] * 1.1))
        self.assertIsNone(delivery.next_attempt(len(pauses) + 1, at))

    @override_settings(WEBHOOKS_RETRY_SCHEDULE=[1])
    def test_a_delivery_is_given_up_after_the_last_retry_and_says_why_in_words(self) -> None:
        self.add_endpoint()
        self.receiver.plan = [500, 502]
        start = timezone.now()
        with self.delivering():
            self.authorize("orders")
        with time_machine.travel(start + timedelta(seconds=5), tick=False), self.delivering():
            tasks.sweep()
        d = Delivery.objects.get()
        self.assertEqual((d.status, d.attempts, d.next_attempt_at), ("failed", 2, None))
        self.login(self.alice)
        page = self.client.get(reverse("webhooks:endpoint", args=[d.endpoint.code]))
        self.assertContains(page, "The endpoint answered HTTP 502 (only 2xx counts as received).")
        self.assertContains(page, "Given up")

    def test_the_sweeper_is_scheduled_every_minute_and_sends_a_first_attempt_whose_task_was_lost(
        self,
    ) -> None:
        planned = {p.name: p for p in schedules.PLANNED}
        self.assertEqual(planned["webhook-deliveries"].func, "webhooks.tasks.sweep")
        self.assertEqual(planned["webhook-deliveries"].minutes, 1)
        _endpoint, secret = self.add_endpoint()
        with mock.patch("webhooks.events.async_task"), self.captureOnCommitCallbacks(execute=True):
            self.authorize("orders")  # the first attempt's task is enqueued, and lost
        self.assertEqual(self.receiver.received, [])
        with self.delivering():
            self.assertEqual(tasks.sweep(), 1)
        self.assertEqual(len(self.receiver.verified(secret)), 1)

    def test_a_delivery_being_sent_is_not_claimed_twice(self) -> None:
        self.add_endpoint()
        with mock.patch("webhooks.events.async_task"), self.captureOnCommitCallbacks(execute=True):
            self.authorize("orders")
        d = Delivery.objects.get()
        now = timezone.now()
        self.assertIsNotNone(delivery.claim(d.pk, now))
        self.assertIsNone(delivery.claim(d.pk, now))
        self.assertEqual(delivery.sweep(now), [])

    @override_settings(WEBHOOKS_TIMEOUT_SECONDS=0.3)
    def test_a_receiver_that_does_not_answer_in_time_is_a_failure_in_words(self) -> None:
        self.add_endpoint()
        self.receiver.delay = 1.0
        with self.delivering():
            self.authorize("orders")
        d = Delivery.objects.get()
        self.assertEqual((d.status, d.last_error), ("pending", "timeout"))
        self.login(self.alice)
        page = self.client.get(reverse("webhooks:endpoint", args=[d.endpoint.code]))
        self.assertContains(page, "The endpoint did not answer within 0.3 seconds.")


class RotationTests(WebhookTestCase):
    def test_during_the_overlap_receivers_with_the_old_and_the_new_secret_both_verify(self) -> None:
        endpoint, old = self.add_endpoint()
        new = endpoint_rotate(endpoint)
        with self.delivering():
            self.authorize("orders")
        self.assertEqual(len(self.receiver.verified(old)), 1)
        self.assertEqual(len(self.receiver.verified(new)), 1)
        self.assertEqual(len(self.receiver.received[0].headers["webhook-signature"].split(" ")), 2)

    def test_after_the_overlap_only_the_new_secret_signs(self) -> None:
        endpoint, old = self.add_endpoint()
        new = endpoint_rotate(endpoint)
        later = timezone.now() + timedelta(hours=25)
        with time_machine.travel(later, tick=False), self.delivering():
            self.authorize("orders")
        received = self.receiver.received[0]
        self.assertEqual(len(received.headers["webhook-signature"].split(" ")), 1)
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        with time_machine.travel(later, tick=False):
            Webhook(new).verify(received.body, received.headers)
            with self.assertRaises(WebhookVerificationError):
                Webhook(old).verify(received.body, received.headers)


def endpoint_rotate(endpoint: Endpoint) -> str:
    from webhooks import endpoints

    return endpoints.rotate(None, endpoint, None)


class DisableAfterDaysTests(WebhookTestCase):
    @override_settings(WEBHOOKS_RETRY_SCHEDULE=[3600] * 200, WEBHOOKS_DISABLE_AFTER_DAYS=5)
    def test_an_endpoint_failing_for_days_is_disabled_and_its_owners_and_admins_mailed(self) -> None:
        admin = make_user("adele@example.org")
        Membership.objects.create(tenant=self.tenant, user=admin, role=Membership.Role.ADMIN)
        endpoint, _secret = self.add_endpoint()
        self.receiver.plan = [500] * 1000
        start = timezone.now()
        with self.delivering():
            self.authorize("orders")
        for hour in range(1, 5 * 24 + 3):
            with (
                time_machine.travel(start + timedelta(hours=hour, minutes=10), tick=False),
                self.delivering(),
            ):
                tasks.sweep()
            endpoint.refresh_from_db()
            if not endpoint.enabled:
                break
        self.assertFalse(endpoint.enabled)
        self.assertEqual(endpoint.disabled_reason, "failing")
        assert endpoint.failing_since is not None and endpoint.disabled_at is not None
        self.assertGreaterEqual(endpoint.disabled_at - endpoint.failing_since, timedelta(days=5))
        self.assertLess(endpoint.disabled_at - endpoint.failing_since, timedelta(days=5, hours=2))
        [sent] = mail.outbox
        self.assertEqual(sorted(sent.to), ["adele@example.org", "alice@example.org"])
        self.assertIn(endpoint.url, sent.body)
        self.assertIn(f"/team/webhooks/{endpoint.code}/", sent.body)
        count = len(self.receiver.received)
        with time_machine.travel(start + timedelta(days=7), tick=False), self.delivering():
            tasks.sweep()
        self.assertEqual(len(self.receiver.received), count)  # a disabled endpoint receives nothing
        self.login(self.alice)
        page = self.client.get(reverse("webhooks:endpoint", args=[endpoint.code]))
        self.assertContains(page, "its deliveries failed for days without one success")
        self.receiver.plan = []
        with self.delivering():
            r = self.client.post(reverse("webhooks:enable", args=[endpoint.code]))
        self.assertEqual(r.status_code, 302)
        self.assertEqual(Delivery.objects.get().status, "succeeded")


class DeliverySsrfTests(WebhookTestCase):
    def test_a_name_that_resolves_to_a_private_address_at_delivery_time_is_refused_in_words(self) -> None:
        # The form accepted the name (it resolved to loopback then, allowed here); at delivery it rebinds.
        endpoint, _secret = self.add_endpoint(url=self.receiver.url.replace("127.0.0.1", "hooks.rebind.test"))
        with resolving({"hooks.rebind.test": "10.0.0.7"}), self.delivering():
            self.authorize("orders")
        self.assertEqual(self.receiver.received, [])
        d = Delivery.objects.get()
        self.assertEqual(
            (d.status, d.last_error, d.last_error_detail), ("pending", "refused_address", "10.0.0.7")
        )
        self.login(self.alice)
        page = self.client.get(reverse("webhooks:endpoint", args=[endpoint.code]))
        self.assertContains(
            page, "resolves to 10.0.0.7, a private, loopback, link-local or cloud metadata address"
        )

    def test_the_address_that_was_checked_is_the_one_connected_to(self) -> None:
        _endpoint, secret = self.add_endpoint(url=self.receiver.url.replace("127.0.0.1", "hooks.pinned.test"))
        calls: list[str] = []

        def once_then_private(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host == "hooks.pinned.test":
                calls.append(host)
                # First answer loopback (checked), any later answer a private address: never asked again.
                return REAL_GETADDRINFO("127.0.0.1" if len(calls) == 1 else "10.0.0.8", port, *args, **kwargs)
            return REAL_GETADDRINFO(host, port, *args, **kwargs)

        with mock.patch("socket.getaddrinfo", side_effect=once_then_private), self.delivering():
            self.authorize("orders")
        self.assertEqual(len(self.receiver.verified(secret)), 1)
        self.assertEqual(calls, ["hooks.pinned.test"])
        self.assertEqual(self.receiver.received[0].headers["Host"], f"hooks.pinned.test:{self.port()}")

    def port(self) -> int:
        assert self.receiver.server is not None
        return int(self.receiver.server.server_address[1])

    @override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
    def test_without_the_demo_setting_loopback_and_http_are_refused_at_delivery(self) -> None:
        self.add_endpoint()
        with self.delivering():
            self.authorize("orders")
        self.assertEqual(self.receiver.received, [])
        self.assertEqual(Delivery.objects.get().last_error, "not_https")
        other = Receiver().start()
        self.addCleanup(other.stop)
        Endpoint.objects.update(url=other.url.replace("http://", "https://"))
        Delivery.objects.update(next_attempt_at=timezone.now())
        with self.delivering():
            tasks.sweep()
        d = Delivery.objects.get()
        self.assertEqual((d.last_error, d.last_error_detail), ("refused_address", "127.0.0.1"))
