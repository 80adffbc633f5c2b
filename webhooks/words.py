"""What went wrong with a delivery, in words. Attempts store a short code and a detail; pages word them in the
reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _

TIMEOUT = "timeout"
CONNECTION = "connection"
DNS = "dns"
TLS = "tls"
REFUSED_ADDRESS = "refused_address"
NOT_HTTPS = "not_https"
HTTP_STATUS = "http_status"
REDIRECT = "redirect"


def error_words(code: str, detail: str = "") -> str:
    if code == TIMEOUT:
        return _("The endpoint did not answer within %(seconds)s seconds.") % {"seconds": detail}
    if code == CONNECTION:
        return _("Could not connect to the endpoint.")
    if code == DNS:
        return _("The endpoint's host name could not be resolved.")
    if code == TLS:
        return _("The endpoint's TLS certificate or handshake failed.")
    if code == REFUSED_ADDRESS:
        return _(
            "Not sent: the endpoint's host resolves to %(address)s, a private, loopback, link-local or cloud "
            "metadata address (protection against server-side request forgery)."
        ) % {"address": detail}
    if code == NOT_HTTPS:
        return _("Not sent: the endpoint's URL must start with https://.")
    if code == REDIRECT:
        return _(
            "The endpoint answered with a redirect (HTTP %(code)s); webhooks do not follow redirects."
        ) % {"code": detail}
    if code == HTTP_STATUS:
        return _("The endpoint answered HTTP %(code)s (only 2xx counts as received).") % {"code": detail}
    return ""
