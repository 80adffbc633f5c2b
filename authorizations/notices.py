"""Emails about authorizations: a held grant declined (to the attempt's starter), an application secret expiring
(to staff). Expiry reminders to owners are reminders.py, platform alarms alarms.py; all are rendered and sent by
lib/mail.py (plain text, one-line subject)."""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.urls import reverse

from accounts.models import User
from authorizations.models import ApplicationCredential, AuthorizationAttempt
from lib import mail
from lib.links import absolute_url

log = logging.getLogger(__name__)


def attempt_declined(attempt: AuthorizationAttempt, request: HttpRequest | None) -> None:
    """Tell the person who started the attempt that the browser holding the grant declined it."""
    starter = attempt.user
    if starter is None or not starter.email:
        return
    store = attempt.store
    link = absolute_url(
        reverse("authorizations:attempt", args=[store.code, attempt.capability, attempt.code]), request
    )
    ctx = {"attempt": attempt, "store": store, "tenant": store.tenant, "link": link}
    mail.send("authorizations/email/declined", ctx, [starter.email])
    log.info("declined grant of attempt %s reported to its starter", attempt.code)


def secret_expiring(credential: ApplicationCredential, threshold: int) -> None:
    """Tell platform staff that an application's client secret expires soon and no rotation has succeeded."""
    staff = list(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))
    ctx = {
        "credential": credential,
        "threshold": threshold,
        "expires_at": credential.secret_expires_at,
        "link": absolute_url(reverse("staff:staff_stores")),
    }
    mail.send("authorizations/email/secret_expiring", ctx, staff)
    log.info(
        "secret expiry warning (%d days) for the %s application sent to staff", threshold, credential.kind
    )
