"""Send APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY for an SP-API application, as Amazon does ahead of the deadline."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import api
from sandbox.applications import MAX_DAYS_LEFT, NotificationError


class Command(BaseCommand):
    help = (
        "Send the secret-expiry notification of an SP-API application to SANDBOX_NOTIFICATIONS_QUEUE_URL "
        "(--days-left first moves the current secret's expiry to that many days from now)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("application", help="Application id or LWA client id")
        parser.add_argument(
            "--days-left",
            type=int,
            default=None,
            help=f"0 to {MAX_DAYS_LEFT}; without it the stored expiry is announced.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            message = api.announce_secret_expiry(options["application"], options["days_left"])
        except (LookupError, ValueError, NotificationError) as exc:
            raise CommandError(str(exc)) from exc
        expiry = message["payload"]["applicationOAuthClientSecretExpiry"]
        self.stdout.write(
            f"Sent {message['notificationType']} for {expiry['clientId']}: the secret expires "
            f"{expiry['clientSecretExpiryTime']}."
        )
