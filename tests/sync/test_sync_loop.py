"""`manage.py sync_loop`: one pass dispatches due syncs and long-polls the queue; it stops when told."""

from __future__ import annotations

from unittest import mock

from django.test import SimpleTestCase, override_settings

from sync import order_changes


class SyncLoopTests(SimpleTestCase):
    @override_settings(AMAZON_NOTIFICATIONS_QUEUE_URL="http://127.0.0.1:9/queue/x")
    def test_a_pass_long_polls_the_queue_then_dispatches_due_syncs_until_stopped(self) -> None:
        stop = [False]
        calls: list[str] = []

        def dispatch() -> int:
            calls.append("dispatch")
            stop[0] = True
            return 0

        with (
            mock.patch(
                "sync.order_changes.read",
                side_effect=lambda wait_seconds: calls.append(f"read {wait_seconds}"),
            ),
            mock.patch("sync.dispatch.dispatch_due", side_effect=dispatch),
        ):
            order_changes.loop(stop)
        self.assertEqual(calls, ["read 1", "dispatch"])

    @override_settings(AMAZON_NOTIFICATIONS_QUEUE_URL="")
    def test_without_a_queue_it_only_dispatches_once_a_second(self) -> None:
        stop = [False]
        passes: list[int] = []

        def dispatch() -> int:
            passes.append(1)
            if len(passes) == 2:
                stop[0] = True
            return 0

        with (
            mock.patch("sync.order_changes.read") as read,
            mock.patch("sync.dispatch.dispatch_due", side_effect=dispatch),
            mock.patch("sync.order_changes.time.sleep") as sleep,
        ):
            order_changes.loop(stop)
        read.assert_not_called()
        self.assertEqual(len(passes), 2)
        self.assertTrue(sleep.called)

    @override_settings(AMAZON_NOTIFICATIONS_QUEUE_URL="http://127.0.0.1:9/queue/x")
    def test_a_failed_pass_is_logged_and_the_loop_goes_on(self) -> None:
        stop = [False]
        seen: list[int] = []

        def read(wait_seconds: int) -> int:
            seen.append(1)
            if len(seen) == 1:
                raise RuntimeError("queue away")
            stop[0] = True
            return 0

        with (
            mock.patch("sync.order_changes.read", side_effect=read),
            mock.patch("sync.dispatch.dispatch_due", return_value=0),
            mock.patch("sync.order_changes.time.sleep"),
            self.assertLogs("sync.order_changes", "ERROR"),
        ):
            order_changes.loop(stop)
        self.assertEqual(len(seen), 2)
