from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authorizations import app_secrets
from authorizations.models import (
    ACTION_LABELS,
    ApplicationCredential,
    AuditEvent,
    Authorization,
    AuthorizationAttempt,
    PlatformAlarm,
)


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


class AuditActionFilter(admin.SimpleListFilter):
    """The actions by their names, not their stored codes."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, str(label)) for code, label in ACTION_LABELS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return queryset.filter(action=self.value()) if self.value() else queryset


class AuditOutcomeFilter(admin.SimpleListFilter):
    """The outcomes that occur, by the words the store page's history uses."""

    title = _("outcome")
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = AuditEvent.objects.exclude(outcome="").values_list("outcome", flat=True).distinct()
        return sorted(((c, AuditEvent(outcome=c).outcome_label) for c in codes), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return queryset.filter(outcome=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "store", "user", "capability", "what", "result", "ip"]
    list_filter = [AuditActionFilter, AuditOutcomeFilter, "capability"]
    search_fields = ["store__nickname", "user__email", "tenant__name", "detail"]
    list_select_related = ["tenant", "store", "user"]

    # The event in words, as the store page's history says it (the stored codes are only the filters' values).
    @admin.display(description=_("What"), ordering="action")
    def what(self, event: AuditEvent) -> str:
        return event.action_label

    @admin.display(description=_("Result"), ordering="outcome")
    def result(self, event: AuditEvent) -> str:
        return event.outcome_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


class NewSecretForm(forms.ModelForm):
    """Paste a new client secret (write-only: the stored ones are never shown)."""

    new_secret = forms.CharField(
        label="New client secret", required=False, widget=forms.PasswordInput(render_value=False)
    )
    overlap_days = forms.IntegerField(
        label="Old secret stays valid (days)", initial=7, min_value=0, max_value=30, required=False
    )

    class Meta:
        model = ApplicationCredential
        fields = ["secret_expires_at"]


@admin.register(ApplicationCredential)
class ApplicationCredentialAdmin(admin.ModelAdmin):
    form = NewSecretForm
    list_display = ["kind", "client_id", "secret_expires_at", "previous_expires_at", "rotated_at"]
    readonly_fields = [
        "kind",
        "client_id",
        "previous_expires_at",
        "rotation_requested_at",
        "rotated_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # seeded from the environment

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApplicationCredential, form: Any, change: bool) -> None:
        secret = form.cleaned_data.get("new_secret", "")
        if secret:
            now = timezone.now()
            expires = form.cleaned_data.get("secret_expires_at") or now + timedelta(days=180)
            overlap = now + timedelta(days=form.cleaned_data.get("overlap_days") or 0)
            app_secrets.store_new_secret(
                obj.kind, secret, expires, overlap, f"rotated by hand in admin by {request.user}"
            )
        else:
            super().save_model(request, obj, form, change)


@admin.register(PlatformAlarm)
class PlatformAlarmAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject", "opened_at", "last_seen_at", "occurrences", "resolved_at"]
    list_filter = ["kind", "resolved_at"]
    readonly_fields = ["kind", "subject", "detail", "opened_at", "last_seen_at", "occurrences"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
