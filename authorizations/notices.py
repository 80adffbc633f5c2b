"""Emails about authorizations: one way to render them (plain text, single-line subject) and send them."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from authorizations.models import ApplicationCredential, AuthorizationAttempt

log = logging.getLogger(__name__)


def absolute(request: HttpRequest | None, path: str) -> str:
    """A link for an email: the public URL when set, else the request's, else the demo's address."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.EMAIL_LINK_BASE_URL.rstrip("/") + path


def send(template: str, ctx: dict[str, Any], recipients: list[str]) -> None:
    """Render `<template>_subject.txt` and `<template>_body.txt` and send them.

    The templates switch autoescaping off: a plain-text mail must show O'Brien & "Co", not HTML entities. The
    subject is folded to one line, so a store nickname with CR/LF can never raise BadHeaderError (or inject a
    header) and stop a job that mails many owners.
    """
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).split())
        body = render_to_string(f"{template}_body.txt", ctx)
    send_mail(subject, body, None, recipients)


def attempt_declined(attempt: AuthorizationAttempt, request: HttpRequest | None) -> None:
    """Tell the person who started the attempt that the browser holding the grant declined it."""
    starter = attempt.user
    if starter is None or not starter.email:
        return
    store = attempt.store
    link = absolute(
        request,
        reverse("authorizations:attempt", args=[store.code, attempt.capability, attempt.code]),
    )
    ctx = {"attempt": attempt, "store": store, "tenant": store.tenant, "link": link}
    send("authorizations/email/declined", ctx, [starter.email])
    log.info("declined grant of attempt %s reported to its starter", attempt.code)


def secret_expiring(credential: ApplicationCredential, threshold: int) -> None:
    """Tell platform staff that an application's client secret expires soon and no rotation has succeeded."""
    staff = list(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))
    ctx = {
        "credential": credential,
        "threshold": threshold,
        "expires_at": credential.secret_expires_at,
        "link": absolute(None, reverse("staff:staff_stores")),
    }
    send("authorizations/email/secret_expiring", ctx, staff)
    log.info("secret expiry warning (%d days) for the %s application sent to staff", threshold, credential.kind)
