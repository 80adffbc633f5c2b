"""What every SP-API family shares: the request with `x-amz-access-token`, Amazon's error list, the rate-limit header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from amazon import http
from amazon.errors import AmazonError


class SpApiError(AmazonError):
    """An SP-API call failed. Each API family raises its own subclass.

    kind: unauthorized (403: revoked, wrong region, expired access token), throttled (429), not_found,
    invalid (400), server_error (5xx), network, bad_response.
    """


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    rate_limit: float | None


def call(
    error: type[SpApiError],
    method: str,
    url: str,
    access_token: str,
    *,
    params: Any = None,
    json: Any = None,
    allow_empty: bool = False,
    replay_safe: bool = False,
) -> Answer:
    """`replay_safe`: sending the request twice does no harm (http.request tries it once more after a dropped
    connection)."""
    headers = {"x-amz-access-token": access_token, "Accept": "application/json"}
    try:
        r = http.request(method, url, params=params, json=json, headers=headers, replay_safe=replay_safe)
    except http.TransportError as e:
        raise error("network", "timeout" if e.timeout else str(e)) from e
    doc = http.json_or_none(r)
    if 200 <= r.status_code < 300:
        if doc is None and not (allow_empty and not r.content):
            raise error("bad_response", "response is not JSON", r.status_code)
        return Answer(r.status_code, doc, rate_limit(r))
    code, message = _first_error(doc)
    kind = {400: "invalid", 401: "unauthorized", 403: "unauthorized", 404: "not_found", 429: "throttled"}.get(
        r.status_code, "server_error" if r.status_code >= 500 else "invalid"
    )
    raise error(kind, message or f"HTTP {r.status_code}", r.status_code, code)


def rate_limit(r: requests.Response) -> float | None:
    value = r.headers.get("x-amzn-RateLimit-Limit")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _first_error(doc: Any) -> tuple[str, str]:
    if isinstance(doc, dict) and isinstance(doc.get("errors"), list) and doc["errors"]:
        e = doc["errors"][0]
        if isinstance(e, dict):
            return str(e.get("code", ""))[:60], str(e.get("message", ""))[:300]
    return "", ""
