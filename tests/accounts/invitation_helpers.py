"""Sending invitations through the team page and reading the link out of the email, as an invitee would."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

LINK = re.compile(r"https?://[^\s]+/team/invitations/(?P<token>[A-Za-z0-9_-]+)/")


def invite(client: Client, email: str, role: str = "member") -> str:
    """Invite `email` as the client's user and return the token of the emailed link."""
    before = len(mail.outbox)
    r = client.post(reverse("accounts:member_invite"), {"email": email, "role": role})
    assert r.status_code == 302, r.status_code
    assert len(mail.outbox) == before + 1, "no invitation email was sent"
    return token_of(mail.outbox[-1].body)


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
