from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from sandbox.models import (
    SandboxAppAuthorization,
    SandboxApplication,
    SandboxConfig,
    SandboxDestination,
    SandboxListing,
    SandboxSeller,
    SandboxSubscription,
)


@admin.register(SandboxSeller)
class SandboxSellerAdmin(admin.ModelAdmin):
    list_display = ["name", "selling_partner_id", "region", "orders_per_day", "created"]
    list_filter = ["region"]
    search_fields = ["name", "selling_partner_id"]


class SandboxApplicationForm(forms.ModelForm):
    """The client secret is never shown: it can only be replaced, through a write-only field."""

    new_client_secret = forms.CharField(
        required=False,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current secret. The configured applications are re-synced from the "
        "settings, which win over a secret set here.",
    )

    class Meta:
        model = SandboxApplication
        # Every field but client_secret.
        fields = [
            "application_id", "kind", "name", "developer", "client_id", "draft", "redirect_uris", "login_path"
        ]  # fmt: skip

    def clean_new_client_secret(self) -> str:
        secret: str = self.cleaned_data.get("new_client_secret", "")
        if not secret and not (self.instance.pk and self.instance.client_secret):
            raise forms.ValidationError("A new application needs a client secret.")
        return secret


@admin.register(SandboxApplication)
class SandboxApplicationAdmin(admin.ModelAdmin):
    form = SandboxApplicationForm
    exclude = ["client_secret"]
    list_display = ["name", "kind", "application_id", "client_id", "draft"]
    search_fields = ["name", "application_id", "client_id"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if form.cleaned_data.get("new_client_secret"):
            obj.client_secret = form.cleaned_data["new_client_secret"]
        super().save_model(request, obj, form, change)


@admin.register(SandboxAppAuthorization)
class SandboxAppAuthorizationAdmin(admin.ModelAdmin):
    list_display = ["seller", "application", "authorized_at", "expires_at", "revoked_at"]
    list_select_related = ["seller", "application"]


@admin.register(SandboxListing)
class SandboxListingAdmin(admin.ModelAdmin):
    list_display = ["seller", "sku", "marketplace_id", "quantity", "updated"]
    list_select_related = ["seller"]


admin.site.register(SandboxConfig)


@admin.register(SandboxDestination)
class SandboxDestinationAdmin(admin.ModelAdmin):
    list_display = ["name", "application", "arn", "destination_id", "created_at"]
    list_filter = ["application"]


@admin.register(SandboxSubscription)
class SandboxSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["notification_type", "seller", "application", "created_at", "last_delivered_at"]
    list_filter = ["notification_type", "application"]
    search_fields = ["seller__name", "seller__selling_partner_id"]
    readonly_fields = ["subscription_id"]
