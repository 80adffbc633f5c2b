from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from authorizations.models import AuditEvent, Authorization, AuthorizationAttempt


@admin.register(Authorization)
class AuthorizationAdmin(admin.ModelAdmin):
    list_display = [
        "store",
        "capability",
        "status",
        "authorized_at",
        "expires_at",
        "last_checked_at",
        "last_error",
    ]
    list_filter = ["capability", "status", "store__region"]
    search_fields = ["store__nickname", "selling_partner_id", "store__tenant__name"]
    list_select_related = ["store"]
    exclude = ["refresh_token_encrypted"]
    readonly_fields = [
        "store",
        "capability",
        "status",
        "selling_partner_id",
        "authorized_at",
        "expires_at",
        "status_changed_at",
        "last_checked_at",
        "last_error",
        "last_error_at",
        "granted_marketplaces",
        "ads_profiles",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuthorizationAttempt)
class AuthorizationAttemptAdmin(admin.ModelAdmin):
    list_display = ["store", "capability", "user", "started_at", "outcome", "reason", "selling_partner_id"]
    list_filter = ["capability", "outcome", "reason"]
    search_fields = ["store__nickname", "selling_partner_id", "user__email"]
    list_select_related = ["store", "user"]
    exclude = ["state", "quarantined_token_encrypted", "session_key_hash", "consent_url"]
    readonly_fields = [
        "store",
        "capability",
        "user",
        "source",
        "started_at",
        "expires_at",
        "used_at",
        "finished_at",
        "outcome",
        "reason",
        "detail",
        "selling_partner_id",
        "start_ip",
        "start_user_agent",
        "callback_ip",
        "callback_user_agent",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "store", "user", "capability", "action", "outcome", "ip"]
    list_filter = ["action", "outcome", "capability"]
    search_fields = ["store__nickname", "user__email", "tenant__name", "detail"]
    list_select_related = ["tenant", "store", "user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False
