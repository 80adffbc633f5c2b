"""One base for every failure of a call to Amazon; each API family raises its own subclass."""

from __future__ import annotations


class AmazonError(Exception):
    """A call to Amazon failed. `kind` is what the portal acts on.

    kinds: invalid_grant, invalid_client, invalid_request (LWA); unauthorized (401/403), throttled (429),
    not_found (404), invalid (400 and other 4xx), server_error (5xx or an unexpected status); network (no answer or a
    timeout) and bad_response (not the documented JSON) for every family.
    """

    def __init__(self, kind: str, message: str = "", status: int | None = None, code: str = "") -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message
        self.status = status
        self.code = code
