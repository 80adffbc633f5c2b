"""Route the portal's outbound HTTP to the sandbox inside the test process.

The portal talks to the sandbox through its normal HTTP wrapper (`requests`); `responses` intercepts every call to
the sandbox base URL and hands it to Django's test client, so tests exercise the real sandbox views without a server.
Any other host is refused, so a test can never reach the internet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import responses
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation

SANDBOX_BASE = "http://sandbox.test/sandbox"


def _dispatch(request: Any) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()}
    headers.pop("HTTP_CONTENT_TYPE", None)
    headers.pop("HTTP_CONTENT_LENGTH", None)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    client = Client(HTTP_HOST="sandbox.test")
    # The sandbox's request runs in the caller's thread, and its LocaleMiddleware activates the sandbox request's
    # language there: keep the caller's (a real Amazon is another process and leaves it alone).
    with translation.override(translation.get_language()):
        r = client.generic(
            request.method,
            path,
            data=body,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            **headers,
        )
    out_headers = {k: v for k, v in r.items() if k.lower() not in ("content-length",)}
    return r.status_code, out_headers, r.content


@contextmanager
def sandbox_http() -> Iterator[responses.RequestsMock]:
    from django.conf import settings

    hosts = [*settings.ALLOWED_HOSTS, "sandbox.test"]
    with (
        override_settings(SANDBOX_BASE_URL=SANDBOX_BASE, AMAZON_USE_SANDBOX=True, ALLOWED_HOSTS=hosts),
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
    ):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            rsps.add_callback(method, re.compile(re.escape(SANDBOX_BASE) + r".*"), callback=_dispatch)
        yield rsps


def sandbox_path(url: str) -> str:
    """The path + query of a sandbox URL, for following a browser redirect with the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
