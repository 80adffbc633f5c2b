from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TestCase
from django_q.models import Schedule

from sync import schedules


class ScheduleTests(TestCase):
    def test_ensure_schedules_creates_every_schedule_once_however_often_it_runs(self) -> None:
        call_command("ensure_schedules", stdout=StringIO())
        call_command("ensure_schedules", stdout=StringIO())
        names = sorted(Schedule.objects.values_list("name", flat=True))
        self.assertEqual(names, sorted(p.name for p in schedules.PLANNED))
        self.assertIn("order-sync-dispatch", names)
        self.assertIn("inventory-push", names)
        self.assertIn("recheck-authorizations", names)

    def test_the_order_dispatch_runs_every_minute_and_the_recheck_daily(self) -> None:
        schedules.ensure()
        self.assertEqual(Schedule.objects.get(name="order-sync-dispatch").minutes, 1)
        self.assertEqual(Schedule.objects.get(name="recheck-authorizations").schedule_type, Schedule.DAILY)
        inv = Schedule.objects.get(name="inventory-push")
        self.assertEqual((inv.schedule_type, inv.minutes), (Schedule.MINUTES, 15))

    def test_schedule_functions_exist(self) -> None:
        from importlib import import_module

        for p in schedules.PLANNED:
            module, name = p.func.rsplit(".", 1)
            self.assertTrue(callable(getattr(import_module(module), name)), p.func)

    def test_a_changed_schedule_is_updated_in_place(self) -> None:
        schedules.ensure()
        Schedule.objects.filter(name="order-sync-dispatch").update(minutes=99)
        schedules.ensure()
        self.assertEqual(Schedule.objects.filter(name="order-sync-dispatch").count(), 1)
        self.assertEqual(Schedule.objects.get(name="order-sync-dispatch").minutes, 1)
