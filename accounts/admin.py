from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Invitation, Membership, Tenant, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "created_at", "member_count", "store_count"]
    search_fields = ["name", "code"]
    readonly_fields = ["code", "created_at"]
    inlines = [MembershipInline]

    @admin.display(description=_("members"))
    def member_count(self, obj: Tenant) -> int:
        return obj.memberships.count()

    @admin.display(description=_("stores"))
    def store_count(self, obj: Tenant) -> int:
        return obj.stores.filter(archived_at__isnull=True).count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__email", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


INVITATION_FIELDS = (
    "code",
    "tenant",
    "email",
    "role",
    "status",
    "invited_by",
    "accepted_by",
    "created_at",
    "sent_at",
    "expires_at",
    "responded_at",
)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are made and answered on the portal's pages. The token hash is never shown."""

    list_display = [
        "email",
        "tenant",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "responded_at",
    ]
    list_filter = ["status", "role"]
    search_fields = ["email", "tenant__name", "code"]
    list_select_related = ["tenant", "invited_by"]
    fields = INVITATION_FIELDS
    readonly_fields = INVITATION_FIELDS
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False
