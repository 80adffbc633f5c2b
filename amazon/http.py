"""The one outbound HTTP wrapper: every call to Amazon goes through `request`, always with a timeout.

Bodies are never logged (they carry codes and tokens); only the method, host and path and the outcome.
"""

from __future__ import annotations

import http.client
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings

log = logging.getLogger(__name__)

_session = requests.Session()
_session.headers["User-Agent"] = "distributor-portal/1.0 (Language=Python)"


class TransportError(Exception):
    """The request never got an HTTP answer (timeout, refused connection, DNS, TLS)."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


def _where(url: str) -> str:
    p = urlsplit(url)
    return f"{p.netloc}{p.path}"


def request(
    method: str,
    url: str,
    *,
    timeout: float | tuple[float, float] | None = None,
    replay_safe: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """Send one request. `replay_safe` says that sending the request twice can do no harm whatever its method (a
    token request: an authorization code is single-use, a refresh or client-credentials grant only mints another
    access token), so it is tried once more after any connection error that is not a timeout."""
    if timeout is None:
        timeout = (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)
    started = time.monotonic()
    try:
        try:
            r = _session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        except requests.exceptions.ConnectionError as e:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
            if isinstance(e, requests.exceptions.ConnectTimeout) or not (
                idempotent or replay_safe or _refused_before_sending(e) or _closed_without_answer(e)
            ):
                # A peer that did not accept within the connect timeout will not 0.2 s later: the user would
                # only wait twice as long for the same "Amazon did not answer in time".
                raise
            # The connection was refused before any byte of the request left (a restarting peer, a full
            # backlog): nothing reached Amazon, so one more try is safe even for a POST such as a code exchange.
            # Or the peer closed a kept-alive connection without a byte of answer: what a server does when it
            # times out an idle connection just as the request goes out (RFC 9112 §9.3.1 lets a client retry then;
            # browsers and urllib3 do). Should the request have been applied, a second code exchange is refused
            # (invalid_grant: the first answer was lost anyway), and our other calls set state, so once is safe.
            # An idempotent method (RFC 9110 §9.2.2: GET, PUT, DELETE…) is tried once more after any connection
            # error, as urllib3's own retries would; so is a request whose caller knows a replay is harmless
            # (RFC 9112 §9.3.1: "some means to know that the request semantics are actually idempotent"): the
            # load run lost a code exchange to a reset kept-alive connection, the same race as a close without
            # answer that ends in an RST instead of a FIN.
            # A warning: a peer that resets or drops connections is worth seeing even when the retry saves the call.
            log.warning("http %s %s: %s, trying once more", method, _where(url), _cause(e))
            time.sleep(0.2)
            r = _session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout as e:
        log.warning("http %s %s timed out after %.1fs", method, _where(url), time.monotonic() - started)
        raise TransportError("timeout", timeout=True) from e
    except requests.RequestException as e:
        log.warning("http %s %s failed: %s", method, _where(url), _cause(e))
        raise TransportError(type(e).__name__) from e
    log.info(
        "http %s %s -> %s in %.0fms", method, _where(url), r.status_code, (time.monotonic() - started) * 1000
    )
    return r


def _chain(e: BaseException) -> list[BaseException]:
    """`e` and every exception under it (causes, contexts, urllib3's reasons, args), breadth first: outermost first."""
    todo: list[object] = [e]
    seen: set[int] = set()
    out: list[BaseException] = []
    while todo:
        item = todo.pop(0)
        if id(item) in seen or not isinstance(item, BaseException):
            continue
        seen.add(id(item))
        out.append(item)
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return out


def _cause(e: BaseException) -> str:
    """The wrapper's type and the innermost OS or protocol error under it, e.g. "ConnectionError
    (ConnectionResetError)": requests' own type alone does not say whether the peer refused, reset or closed."""
    inner = [item for item in _chain(e) if isinstance(item, OSError | http.client.HTTPException)]
    inner = [item for item in inner if not isinstance(item, requests.RequestException)]
    name = type(e).__name__
    return f"{name} ({type(inner[-1]).__name__})" if inner else name


def _closed_without_answer(e: requests.exceptions.ConnectionError) -> bool:
    """The server closed the connection before sending any byte of a response (http.client.RemoteDisconnected)."""
    return any(isinstance(item, http.client.RemoteDisconnected) for item in _chain(e))


def _refused_before_sending(e: requests.exceptions.ConnectionError) -> bool:
    """A refused TCP connect (not a timeout, not a dropped answer after the request was sent)."""
    if isinstance(e, requests.exceptions.ConnectTimeout):
        return False
    return any(
        isinstance(item, ConnectionRefusedError | urllib3.exceptions.NewConnectionError) for item in _chain(e)
    )


def json_or_none(r: requests.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None
