from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from authorizations.models import Authorization
from stores.models import Store


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
    actions = ["recheck_authorizations"]

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
