from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from amazon import marketplaces
from stores.models import Store


class SkuMappingForm(forms.Form):
    platform_sku = forms.CharField(label=_("Platform SKU"), max_length=100)
    seller_sku = forms.CharField(label=_("Amazon seller SKU"), max_length=100)
    marketplace_id = forms.ChoiceField(label=_("Site"))

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["marketplace_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (marketplaces.BY_SITE[s].marketplace_id, marketplaces.site_label(s)) for s in store.ordered_sites
        ]

    def clean_platform_sku(self) -> str:
        return self.cleaned_data["platform_sku"].strip()

    def clean_seller_sku(self) -> str:
        return self.cleaned_data["seller_sku"].strip()


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, at most 1 MB."))
