"""`Authorization: Bearer <key>`: the key's prefix finds its row, the hash of the whole key must match."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.keys import note_use_after_revoke
from api.models import PREFIX_LENGTH, PREFIX_START, ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


class KeyUser:
    """The caller of an API request: a key, not a person (request.user for DRF's permission checks)."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[KeyUser, ApiKey] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != b"bearer":
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as: Authorization: Bearer <key>."))
        try:
            presented = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("This API key is not valid.")) from None
        key = None
        if presented.startswith(PREFIX_START) and len(presented) > PREFIX_LENGTH:
            key = ApiKey.objects.filter(prefix=presented[:PREFIX_LENGTH]).select_related("tenant").first()
        if key is None or not key.matches(presented):
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        if key.revoked_at is not None:
            note_use_after_revoke(request._request, key)
            raise exceptions.AuthenticationFailed(_("This API key was revoked."), code="key_revoked")
        if key.is_expired():
            raise exceptions.AuthenticationFailed(_("This API key has expired."), code="key_expired")
        key.note_use()
        return KeyUser(key), key

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate header makes DRF answer 401 (not 403) to a call without a usable key.
        return 'Bearer realm="api"'


class HasApiKey(BasePermission):
    """A key is required; a read key may only read."""

    message = "This API key may only read."

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        if request.method in SAFE_METHODS or key.can_write:
            return True
        self.message = _("This API key may only read.")
        return False


class ApiKeyThrottle(SimpleRateThrottle):
    """Per-key rate in the shared cache (settings.API_KEY_RATE); a call over it gets 429 with Retry-After."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


class ApiKeySchema(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call,misc]
    """The key as drf-spectacular writes it into the OpenAPI document (a bearer token)."""

    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"}
