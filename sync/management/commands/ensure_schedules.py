from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sync import schedules


class Command(BaseCommand):
    help = "Create or update the portal's django-q2 schedules (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        names = schedules.ensure()
        self.stdout.write("Schedules: " + ", ".join(names))
