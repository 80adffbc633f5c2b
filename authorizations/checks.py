from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def amazon_credentials(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    if settings.DEBUG:
        return errors
    for capability, app in settings.AMAZON_SPAPI_APPS.items():
        for key in ("app_id", "client_id", "client_secret"):
            if not app.get(key):
                errors.append(
                    Error(
                        f"The {capability} SP-API application has no {key}.",
                        hint=f"Set SPAPI_{capability.upper()}_{key.upper()} in the environment.",
                        id="authorizations.E001",
                    )
                )
    for key in ("client_id", "client_secret"):
        if not settings.AMAZON_ADS_APP.get(key):
            errors.append(
                Error(
                    f"The advertising (Login with Amazon) client has no {key}.",
                    hint=f"Set ADS_{key.upper()} in the environment.",
                    id="authorizations.E002",
                )
            )
    return errors


@register()
def sandbox_in_production(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not settings.DEBUG and settings.SANDBOX_ENABLED and not settings.SANDBOX_ALLOWED_IN_PRODUCTION:
        return [
            Error(
                "The Amazon sandbox is enabled while DEBUG is off.",
                hint="Set SANDBOX_ENABLED=false in production, or SANDBOX_ALLOWED_IN_PRODUCTION=true for a demo host.",
                id="authorizations.E003",
            )
        ]
    return []


@register()
def public_base_url(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Amazon compares the redirect_uri exactly with a registered https URI: production must not guess it."""
    if settings.DEBUG or str(settings.PUBLIC_BASE_URL).startswith("https://"):
        return []
    return [
        Error(
            "PUBLIC_BASE_URL is not an https URL while DEBUG is off.",
            hint="Set PUBLIC_BASE_URL to the portal's public https URL; register <it>/amazon/callback/ and "
            "<it>/amazon/ads/callback/ at Amazon.",
            id="authorizations.E004",
        )
    ]
