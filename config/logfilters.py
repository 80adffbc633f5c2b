"""Log hygiene: no OAuth state, authorization code, token or client secret ever reaches a log line."""

from __future__ import annotations

import logging
import re

# Query or form parameters whose values are secrets or single-use credentials. runserver's request lines
# (django.server) and any message quoting a URL would otherwise carry them.
SECRET_PARAMS = re.compile(
    r"(?P<key>(?<![A-Za-z0-9_])(?:state|amazon_state|spapi_oauth_code|code|mws_auth_token|refresh_token|"
    r"access_token|client_secret|token|id_token|password))=(?P<value>[^&\s\"'<>]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(lambda m: f"{m['key']}=[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as is rather than dropped
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
