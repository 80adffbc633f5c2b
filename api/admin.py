"""Platform keys (and any tenant's keys) in Django admin: superusers create them; the secret is shown once."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from api.keys import create_key, revoke_key
from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("prefix", "name", "tenant", "scope", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scope", "revoked_at")
    search_fields = ("prefix", "name")
    # The secret's hash is never shown or editable: a new secret means a new key.
    fields = (
        "tenant",
        "name",
        "scope",
        "stores",
        "expires_at",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    autocomplete_fields = ()
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        secret = create_key(request, obj, request.user)  # type: ignore[arg-type]
        messages.warning(request, _("The key, shown only now: %(key)s") % {"key": secret})

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for key in queryset:
            revoke_key(request, key, request.user)  # type: ignore[arg-type]
