"""Sending one webhook request, with the SSRF guard: every call has a timeout, never follows a redirect, and
connects only to an address it checked.

requests-hardened resolves the host once, refuses a private, loopback, link-local, multicast, reserved or
IPv4-mapped address of one (169.254.169.254, the cloud metadata address, is link-local), and connects to that very
address (the Host header and TLS SNI keep the name), so a second DNS answer cannot point the request elsewhere
(DNS rebinding). WEBHOOKS_ALLOW_LOOPBACK lets the demo and the tests use http:// and loopback addresses.
`check_url` applies the same rule on the endpoint form.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress, get_ip_address

from webhooks import words

USER_AGENT = "distributor-portal-webhooks/1.0"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_code: int | None = None
    error: str = ""
    detail: str = ""
    duration_ms: int = 0


@lru_cache(maxsize=2)
def _session(allow_loopback: bool) -> HTTPSession:
    # One session per process (and per setting): keep-alive connections to the same checked address are reused.
    return HTTPSession(
        Config(
            ip_filter_enable=True,
            ip_filter_allow_loopback_ips=allow_loopback,
            never_redirect=True,
            default_timeout=(settings.HTTP_CONNECT_TIMEOUT, settings.WEBHOOKS_TIMEOUT_SECONDS),
            user_agent_override=USER_AGENT,
        )
    )


def scheme_allowed(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return scheme == "https" or (scheme == "http" and settings.WEBHOOKS_ALLOW_LOOPBACK)


def check_url(url: str) -> tuple[str, str] | None:
    """None when `url` may receive webhooks now, else (error code, detail) as `words.error_words` takes them."""
    if not scheme_allowed(url):
        return words.NOT_HTTPS, ""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return words.DNS, ""
    if not parts.hostname:
        return words.DNS, ""
    try:
        get_ip_address(parts.hostname, port, allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)
    except InvalidIPAddress as e:
        return words.REFUSED_ADDRESS, str(e)[:100]
    except (OSError, UnicodeError, ValueError):
        return words.DNS, ""
    return None


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` once; the outcome in codes (never the response body, which is the receiver's business)."""
    if not scheme_allowed(url):
        return Outcome(False, error=words.NOT_HTTPS)
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        r = _session(settings.WEBHOOKS_ALLOW_LOOPBACK).post(
            url,
            data=body,
            headers=headers,
            timeout=(settings.HTTP_CONNECT_TIMEOUT, settings.WEBHOOKS_TIMEOUT_SECONDS),
            allow_redirects=False,
            # Only the status line and headers are read: a receiver's body is never downloaded, so an endpoint
            # that answers with gigabytes costs the worker nothing (the connection is closed unread).
            stream=True,
        )
        r.close()
    except InvalidIPAddress as e:
        return Outcome(False, error=words.REFUSED_ADDRESS, detail=str(e)[:100], duration_ms=took())
    except requests.Timeout:
        detail = f"{settings.WEBHOOKS_TIMEOUT_SECONDS:g}"
        return Outcome(False, error=words.TIMEOUT, detail=detail, duration_ms=took())
    except requests.exceptions.SSLError:
        return Outcome(False, error=words.TLS, duration_ms=took())
    except requests.ConnectionError as e:
        dns = isinstance(e.__cause__, socket.gaierror) or "resolve" in str(e)
        return Outcome(False, error=words.DNS if dns else words.CONNECTION, duration_ms=took())
    except (requests.RequestException, ValueError, UnicodeError):
        return Outcome(False, error=words.CONNECTION, duration_ms=took())
    code = r.status_code
    if 200 <= code < 300:
        return Outcome(True, response_code=code, duration_ms=took())
    error = words.REDIRECT if 300 <= code < 400 else words.HTTP_STATUS
    return Outcome(False, response_code=code, error=error, detail=str(code), duration_ms=took())
