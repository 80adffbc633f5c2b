from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from api.models import ApiKey
from stores.models import Store


class ApiKeyForm(forms.ModelForm):  # type: ignore[type-arg]
    """A tenant's key: name, scope, optionally some of the tenant's stores and an expiry."""

    class Meta:
        model = ApiKey
        fields = ("name", "scope", "ship_to", "stores", "expires_at")
        widgets = {
            "stores": forms.CheckboxSelectMultiple,
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this tenant's stores can be chosen: a forged id of another tenant's store is an invalid choice.
        stores = self.fields["stores"]
        assert isinstance(stores, forms.ModelMultipleChoiceField)
        stores.queryset = Store.objects.active().filter(tenant=tenant).order_by("nickname")
        stores.required = False
        # A datetime-local input carries no zone; the form reads it in the portal's zone, UTC, as this page shows
        # every time: say so beside the field, or 18:00 typed in Shanghai expires at 02:00 the next day there.
        self.fields["expires_at"].help_text = _("In UTC, like every time on this page. Empty: never expires.")

    def clean_expires_at(self) -> Any:
        expires = self.cleaned_data.get("expires_at")
        if expires is not None and expires <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return expires
