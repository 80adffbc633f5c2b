"""Re-encrypt every stored token with the newest key of TOKEN_ENCRYPTION_KEYS.

Rotation: put a new key first in TOKEN_ENCRYPTION_KEYS (keep the old ones after it), deploy, run this command,
then remove the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authorizations import crypto
from authorizations.models import ApplicationCredential, Authorization, AuthorizationAttempt


class Command(BaseCommand):
    help = "Re-encrypt stored refresh tokens with the newest key in TOKEN_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {"authorizations": 0, "attempts": 0, "secrets": 0}
        try:
            for model, field, key in (
                (Authorization, "refresh_token_encrypted", "authorizations"),
                (AuthorizationAttempt, "quarantined_token_encrypted", "attempts"),
                (AuthorizationAttempt, "consent_url_encrypted", "attempts"),
                (ApplicationCredential, "secret_encrypted", "secrets"),
                (ApplicationCredential, "previous_secret_encrypted", "secrets"),
            ):
                for pk in model.objects.exclude(**{field: ""}).values_list("pk", flat=True).iterator():
                    with transaction.atomic():
                        row = model.objects.select_for_update().get(pk=pk)
                        value = getattr(row, field)
                        if value:
                            setattr(row, field, crypto.rotate(value))
                            row.save(update_fields=[field])
                            counts[key] += 1
        except crypto.InvalidToken as e:
            raise CommandError(
                "A stored token cannot be decrypted with any configured key; keep the old keys listed."
            ) from e
        self.stdout.write(
            f"Re-encrypted {counts['authorizations']} authorization token(s), {counts['attempts']} attempt value(s) "
            f"and {counts['secrets']} application secret(s)."
        )
