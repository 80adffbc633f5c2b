from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from amazon.carriers import CARRIER_CODES, OTHER
from shipping.actions import PackageData
from sync.models import Order

MAX_REFERENCE = 10**18 - 1


class PackageForm(forms.Form):
    """One package of the order: Amazon's PackageDetail, with a quantity field per order item."""

    package_reference_id = forms.IntegerField(
        label=_("Package number"),
        min_value=1,
        max_value=MAX_REFERENCE,
        help_text=_(
            "1 for the first package of the order, 2 for the next…; an existing number edits that package."
        ),
    )
    carrier_code = forms.ChoiceField(
        label=_("Carrier"),
        choices=[(c, _("Other (type the name)") if c == OTHER else c) for c in CARRIER_CODES],
    )
    carrier_name = forms.CharField(
        label=_("Carrier name"),
        max_length=100,
        required=False,
        help_text=_("Only when the carrier is Other."),
    )
    shipping_method = forms.CharField(label=_("Shipping method"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100)
    ship_date = forms.DateTimeField(
        label=_("Ship date (UTC)"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_items = list(order.items.all().order_by("order_item_id"))
        for item in self.order_items:
            self.fields[f"qty_{item.order_item_id}"] = forms.IntegerField(
                label=_("Quantity of %(sku)s (ordered: %(n)d)")
                % {"sku": item.sku or item.asin, "n": item.quantity},
                min_value=0,
                max_value=item.quantity,
                required=False,
                initial=0,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not self.items():
            raise forms.ValidationError(_("Enter the quantity of at least one item in this package."))
        return data

    def items(self) -> tuple[tuple[str, int], ...]:
        return tuple(
            (i.order_item_id, self.cleaned_data.get(f"qty_{i.order_item_id}") or 0)
            for i in self.order_items
            if self.cleaned_data.get(f"qty_{i.order_item_id}")
        )

    def package(self) -> PackageData:
        d = self.cleaned_data
        return PackageData(
            package_reference_id=str(d["package_reference_id"]),
            carrier_code=d["carrier_code"],
            carrier_name=d["carrier_name"].strip(),
            shipping_method=d["shipping_method"].strip(),
            tracking_number=d["tracking_number"].strip(),
            ship_date=d["ship_date"],
            items=self.items(),
        )
