"""Absolute links to the portal's own pages: in emails, and as the OAuth redirect URI registered at Amazon."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """`path` (from `reverse`) as an absolute URL, never a bare path.

    PUBLIC_BASE_URL when set: production must set it, because Amazon compares the redirect URI whole and a mail
    must not carry whatever Host a request came with. Without it (development), the request's own origin, so the
    test client and the demo link back to where they run; without a request either (a job, a command),
    EMAIL_LINK_BASE_URL, the demo's address.
    """
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.EMAIL_LINK_BASE_URL.rstrip("/") + path
