from django.contrib import admin

from sandbox.models import (
    SandboxAppAuthorization,
    SandboxApplication,
    SandboxConfig,
    SandboxListing,
    SandboxSeller,
)


@admin.register(SandboxSeller)
class SandboxSellerAdmin(admin.ModelAdmin):
    list_display = ["name", "selling_partner_id", "region", "orders_per_day", "created"]
    list_filter = ["region"]
    search_fields = ["name", "selling_partner_id"]


@admin.register(SandboxApplication)
class SandboxApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "application_id", "client_id", "draft"]


@admin.register(SandboxAppAuthorization)
class SandboxAppAuthorizationAdmin(admin.ModelAdmin):
    list_display = ["seller", "application", "authorized_at", "expires_at", "revoked_at"]
    list_select_related = ["seller", "application"]


@admin.register(SandboxListing)
class SandboxListingAdmin(admin.ModelAdmin):
    list_display = ["seller", "sku", "marketplace_id", "quantity", "updated"]
    list_select_related = ["seller"]


admin.site.register(SandboxConfig)
