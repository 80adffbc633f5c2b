from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from amazon import marketplaces
from stores.models import Store
from sync import labels
from sync.models import Order


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


class OrderFilterForm(forms.Form):
    """The orders page's filters (also those of its CSV export). Always bound to the query string: a field that does
    not validate shows its error and is left out of the filter; the valid ones still apply."""

    NO_STATUS = "-"  # the choice for orders stored without a status
    EARLIEST = date(2000, 1, 1)
    LATEST = date(2999, 12, 31)

    q = forms.CharField(
        label=_("Amazon order id"),
        max_length=40,
        required=False,
        help_text=_("The whole id or its beginning."),
    )
    status = forms.ChoiceField(label=_("State"), required=False)
    date_from = forms.DateField(
        label=_("Purchased from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Purchased to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store
        stored = Order.objects.filter(store=store).order_by().values_list("status", flat=True).distinct()
        self.status_labels = {s: labels.order_status_label(s) for s in stored}
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All states"))] + [
            (s or self.NO_STATUS, self.status_labels[s])
            for s in sorted(self.status_labels, key=labels.order_status_sort_key)
        ]

    def clean_q(self) -> str:
        return str(self.cleaned_data.get("q") or "").strip()

    def _day(self, name: str) -> date | None:
        value: date | None = self.cleaned_data.get(name)
        if value is not None and not self.EARLIEST <= value <= self.LATEST:
            raise forms.ValidationError(
                _("Enter a date between %(start)s and %(end)s.")
                % {"start": self.EARLIEST.isoformat(), "end": self.LATEST.isoformat()}
            )
        return value

    def clean_date_from(self) -> date | None:
        return self._day("date_from")

    def clean_date_to(self) -> date | None:
        return self._day("date_to")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def _valid(self) -> dict[str, Any]:
        """The fields that validated (all of them once is_valid() ran on a good query)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    @property
    def timezone(self) -> ZoneInfo:
        """Purchase dates are filtered and exported in the store's time zone."""
        return ZoneInfo(self.store.timezone or self.store.primary_site.timezone)

    def filter(self, orders: QuerySet[Order]) -> QuerySet[Order]:
        d = self._valid()
        if "q" in d:
            orders = orders.filter(amazon_order_id__startswith=d["q"])
        if "status" in d:
            orders = orders.filter(status="" if d["status"] == self.NO_STATUS else d["status"])
        tz = self.timezone
        if "date_from" in d:
            orders = orders.filter(purchase_date__gte=datetime.combine(d["date_from"], time.min, tzinfo=tz))
        if "date_to" in d:
            end = datetime.combine(d["date_to"] + timedelta(days=1), time.min, tzinfo=tz)
            orders = orders.filter(purchase_date__lt=end)
        return orders

    @property
    def active(self) -> bool:
        return bool(self._valid())

    def query(self) -> str:
        """The valid filters as a query string without `page`, for the pager and the export link."""
        return urlencode({k: v.isoformat() if isinstance(v, date) else v for k, v in self._valid().items()})
