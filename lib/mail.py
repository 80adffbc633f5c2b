"""Plain-text mail from two templates, `<template>_subject.txt` and `<template>_body.txt`, in the portal's language.

The templates switch autoescaping off (`{% autoescape off %}`): a plain-text mail must show O'Brien & "Co", not HTML
entities. The subject is folded to one line, so a name with CR/LF can never raise BadHeaderError (or inject a
header) and stop a job that mails many people.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger(__name__)


def one_line(value: str) -> str:
    """`value` with every run of whitespace (line breaks included) as one space: a safe mail subject."""
    return " ".join(value.split())


def render(template: str, ctx: Mapping[str, Any]) -> tuple[str, str]:
    """(subject on one line, body) of the two templates, rendered in LANGUAGE_CODE."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = one_line(render_to_string(f"{template}_subject.txt", dict(ctx)))
        body = render_to_string(f"{template}_body.txt", dict(ctx))
    return subject, body


def send(template: str, ctx: Mapping[str, Any], recipients: Iterable[str], *, notice: bool = False) -> None:
    """Send one mail to every distinct, non-empty address of `recipients` (nothing when there is none).

    A `notice` (telling others what someone did) that cannot be sent is logged, never an error for the person
    acting; any other mail raises, so the caller can say that it was not sent.
    """
    to = list(dict.fromkeys(r for r in recipients if r))
    if not to:
        return
    subject, body = render(template, ctx)
    if not notice:
        mail.send_mail(subject, body, None, to)
        return
    try:
        mail.send_mail(subject, body, None, to)
    except Exception:
        log.exception("could not send the %s email to %d recipient(s)", template, len(to))


def send_to_admins(template: str, ctx: Mapping[str, Any], fallback: Iterable[str]) -> None:
    """Mail the site's ADMINS when the setting names any (Django's `mail_admins`, with EMAIL_SUBJECT_PREFIX), else
    the `fallback` addresses."""
    if settings.ADMINS:
        subject, body = render(template, ctx)
        mail.mail_admins(subject, body)
    else:
        send(template, ctx, fallback)
