"""The base of every exception that says why in a short code."""

from __future__ import annotations


class ReasonError(Exception):
    """Something was refused or failed, and `reason` says why as a code its caller maps to words or an outcome
    (authorizations/reasons.py for Amazon's refusals, an Invitation status, ...).

    `detail` is free text for logs and staff (never shown to a seller as is, never a secret); `str()` is the reason.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
