from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from amazon import marketplaces
from authorizations.models import Authorization
from authorizations.store_actions import archive_store
from stores.models import Store


class StoreAdminForm(forms.ModelForm):
    """Sites as checkboxes of real marketplaces (not raw JSON), checked against the store's region."""

    sites = forms.MultipleChoiceField(
        label=_("Sites"),
        choices=[
            (m.site, f"{marketplaces.site_label(m.site)} · {m.region}") for m in marketplaces.MARKETPLACES
        ],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Store
        fields = ["tenant", "nickname", "region", "sites", "initial_order_date", "timezone", "created_by"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A store's region never changes: show the sites of its region only, not every region's (the field
            # still knows them all, so a site of another region is the clear error of clean(), not "invalid choice").
            self.fields["sites"].widget.choices = [  # type: ignore[attr-defined]
                (m.site, marketplaces.site_label(m.site))
                for m in marketplaces.MARKETPLACES
                if m.region == self.instance.region
            ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        region = cleaned.get("region") or (self.instance.region if self.instance.pk else "")
        sites = cleaned.get("sites") or []
        wrong = [s for s in sites if marketplaces.BY_SITE[s].region != region]
        if wrong:
            self.add_error("sites", _("These sites are not in the store's region: %s") % ", ".join(wrong))
        if region == "FE" and len(sites) != 1:
            self.add_error("sites", _("A Far East store has exactly one site."))
        return cleaned


class AuthorizationInline(admin.TabularInline):
    model = Authorization
    extra = 0
    can_delete = False
    # The token field is not editable and never listed: secrets stay out of admin.
    fields = [
        "capability",
        "status",
        "selling_partner_id",
        "authorized_at",
        "expires_at",
        "last_checked_at",
        "last_error",
    ]
    readonly_fields = tuple(fields)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = [
        "nickname",
        "tenant",
        "region",
        "sites_display",
        "authorization_status",
        "selling_partner_id",
        "created_at",
        "archived_at",
    ]
    list_filter = [  # type: ignore[misc]
        "region",
        "authorization_status",
        ("archived_at", admin.EmptyFieldListFilter),
        "tenant",
    ]
    search_fields = ["nickname", "selling_partner_id"]
    list_select_related = ["tenant"]
    readonly_fields = [
        "code",
        "authorization_status",
        "selling_partner_id",
        "created_at",
        "updated_at",
        "archived_at",
    ]
    autocomplete_fields = ["tenant", "created_by"]
    inlines = [AuthorizationInline]
    actions = ["recheck_authorizations", "archive_stores"]
    form = StoreAdminForm

    def get_readonly_fields(self, request: HttpRequest, obj: Store | None = None) -> list[str]:
        # As in the portal: a store's region and tenant never change once it exists.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "region", "tenant"] if obj is not None else fields

    def has_delete_permission(self, request: HttpRequest, obj: Store | None = None) -> bool:
        return False  # archive instead: history and audit trail stay, the Amazon account is freed

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Archive selected stores"))
    def archive_stores(self, request: HttpRequest, queryset: QuerySet[Store]) -> None:
        stores = list(queryset.filter(archived_at__isnull=True))
        for store in stores:
            archive_store(request, store)
        self.message_user(request, _("%(n)d stores archived.") % {"n": len(stores)}, messages.SUCCESS)

    @admin.action(description=_("Re-check authorizations"))
    def recheck_authorizations(self, request: HttpRequest, queryset: QuerySet[Store]) -> None:
        from sync import rechecks

        batch = rechecks.start_batch(queryset, request.user, "admin action", source="admin")  # type: ignore[arg-type]
        url = reverse("staff:staff_batch", args=[batch.code])
        self.message_user(
            request,
            format_html(
                str(_('Re-checking {} stores: <a href="{}">follow the progress</a>.')), batch.total, url
            ),
            messages.SUCCESS,
        )

    @admin.display(description=_("sites"))
    def sites_display(self, obj: Store) -> str:
        return ", ".join(obj.ordered_sites)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Store]:
        return super().get_queryset(request).select_related("tenant")
