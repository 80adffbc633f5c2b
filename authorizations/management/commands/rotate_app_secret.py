"""Rotate an application's LWA client secret by hand (applications that cannot rotate by API, or an emergency).

manage.py rotate_app_secret orders            # reads the new secret from stdin (not from argv: shell history)
manage.py rotate_app_secret orders --request  # ask Amazon to rotate (rotateApplicationClientSecret)
"""

from __future__ import annotations

import getpass
import sys
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from authorizations import app_secrets
from authorizations.models import ApplicationCredential


class Command(BaseCommand):
    help = "Store a new LWA client secret for an application (the old one stays valid for --overlap-days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ApplicationCredential.Kind.values)
        parser.add_argument("--request", action="store_true", help="Ask Amazon to rotate instead.")
        parser.add_argument("--expires-days", type=int, default=180, help="Lifetime of the new secret.")
        parser.add_argument(
            "--overlap-days", type=int, default=7, help="How long the old secret stays valid."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if options["request"]:
            try:
                app_secrets.request_rotation(kind)
            except Exception as e:  # noqa: BLE001 - the operator reads the reason
                raise CommandError(f"Amazon did not rotate the secret: {e}") from e
            self.stdout.write("Rotation requested; the new secret arrives through the notification queue.")
            return
        secret = sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass("New secret: ")
        if not secret or len(secret) > 500 or any(ord(c) < 33 for c in secret):
            raise CommandError("Paste the new client secret (one line, no spaces).")
        now = timezone.now()
        app_secrets.store_new_secret(
            kind,
            secret,
            now + timedelta(days=options["expires_days"]),
            now + timedelta(days=options["overlap_days"]),
            "rotated by hand (manage.py rotate_app_secret)",
        )
        self.stdout.write(
            f"The {kind} application now uses the new secret; the old one works for "
            f"{options['overlap_days']} more days."
        )
