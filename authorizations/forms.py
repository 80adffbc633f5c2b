from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from amazon import marketplaces
from stores.forms import StoreCreateForm
from stores.models import Store


class StartForm(forms.Form):
    usual_environment = forms.BooleanField(
        label=_("This computer and network are my usual environment for this Amazon account."),
        error_messages={
            "required": _("Confirm that you are in your usual environment for this Amazon account.")
        },
    )


class AppstoreForm(forms.Form):
    """Entry from the Appstore: pick the store for this seller, or describe a new one."""

    store = forms.ChoiceField(label=_("Store"), widget=forms.RadioSelect)
    nickname = forms.CharField(label=_("Nickname"), max_length=50, required=False)
    sites = forms.MultipleChoiceField(label=_("Sites"), required=False, widget=forms.CheckboxSelectMultiple)
    initial_order_date = forms.DateField(
        label=_("Initial order-pull date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    usual_environment = StartForm.base_fields["usual_environment"]

    def __init__(self, *args: Any, stores: list[Store], tenant: Tenant, region: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant, self.region = tenant, region
        choices = [(str(s.code), s.nickname) for s in stores] + [("new", _("Create a new store"))]
        self.fields["store"].choices = choices  # type: ignore[attr-defined]
        self.fields["store"].initial = choices[0][0]
        # Only the region's sites: an SP-API authorization is regional (authorizations/appstore.py, "The region").
        self.fields["sites"].choices = [  # type: ignore[attr-defined]
            (m.site, marketplaces.site_label(m.site)) for m in marketplaces.sites_in_region(region)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("store") == "new":
            sites = (
                self.data.getlist("sites") if hasattr(self.data, "getlist") else self.data.get("sites", [])
            )
            new = StoreCreateForm(
                {
                    "nickname": self.data.get("nickname", ""),
                    "region": self.region,
                    "sites": sites,
                    "initial_order_date": self.data.get("initial_order_date", ""),
                },
                tenant=self.tenant,
            )
            if not new.is_valid():
                for field, errors in new.errors.items():
                    for e in errors:
                        self.add_error(field if field in self.fields else None, e)
            else:
                cleaned["new_store"] = dict(new.cleaned_data)
        return cleaned
