"""Sending invitations through the team page and reading the link out of the email, as an invitee would."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import mail
from django.db.models import F
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation

LINK = re.compile(r"https?://[^\s]+/team/invitations/(?P<token>[A-Za-z0-9_-]+)/")


def invite(client: Client, email: str, role: str = "member") -> str:
    """Invite `email` as the client's user and return the token of the emailed link."""
    before = len(mail.outbox)
    r = client.post(reverse("accounts:member_invite"), {"email": email, "role": role})
    assert r.status_code == 302, r.status_code
    assert len(mail.outbox) == before + 1, "no invitation email was sent"
    return token_of(str(mail.outbox[-1].body))


def token_of(body: str) -> str:
    m = LINK.search(body)
    assert m is not None, body
    return m["token"]


def page(token: str) -> str:
    return reverse("accounts:invitation", args=[token])


def accept_url(token: str) -> str:
    return reverse("accounts:invitation_accept", args=[token])


def decline_url(token: str) -> str:
    return reverse("accounts:invitation_decline", args=[token])


def after_the_resend_pause() -> None:
    """Move every invitation's last email back past INVITATION_RESEND_MINUTES, as if the pause were over."""
    pause = timedelta(minutes=settings.INVITATION_RESEND_MINUTES + 1)
    Invitation.objects.update(sent_at=F("sent_at") - pause)


CONFIRM_LINK = re.compile(r"https?://testserver(?P<path>/accounts/confirm-email/[^\s]+)")


def confirm_email(client: Client, to: str) -> Any:
    """Open allauth's confirmation link from the last email to `to` and confirm (POST), as its owner would."""
    message = [m for m in mail.outbox if m.to == [to]][-1]
    m = CONFIRM_LINK.search(str(message.body))
    assert m is not None, message.body
    return client.post(m["path"])
