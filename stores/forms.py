from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from accounts.validators import refuse_bidi_controls
from amazon import marketplaces
from stores.models import Store


def site_choices() -> list[tuple[str, str]]:
    """Built when a form is made, in the reader's language (a module-level list would freeze English)."""
    return [(m.site, marketplaces.site_label(m.site)) for m in marketplaces.MARKETPLACES]


class SiteCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes that carry their region, so the page can show only the chosen region's sites."""

    option_template_name = "stores/widgets/site_option.html"

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"]["data-region"] = marketplaces.BY_SITE[str(option["value"])].region
        return option


class StoreFieldsMixin(forms.Form):
    nickname = forms.CharField(
        label=_("Nickname"),
        max_length=50,
        help_text=_("A name you recognise the Amazon account by, 1–50 characters, unique in your account."),
        validators=[refuse_bidi_controls],
    )
    sites = forms.MultipleChoiceField(
        label=_("Sites"),
        choices=site_choices,
        widget=SiteCheckboxes,
        help_text=_("The marketplaces of this region you sell on. A Far East store has exactly one site."),
    )
    initial_order_date = forms.DateField(
        label=_("Initial order-pull date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Orders created from this date on are loaded. Leave empty to start from the authorization date."
        ),
    )

    def __init__(self, *args: Any, tenant: Tenant, instance: Store | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.instance = instance

    def clean_nickname(self) -> str:
        nickname: str = self.cleaned_data["nickname"].strip()
        if not nickname:
            raise forms.ValidationError(_("Enter a nickname."))
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in nickname):
            # Line breaks and control characters would end up in email subjects and CSV exports.
            raise forms.ValidationError(_("A nickname is one line of text, without control characters."))
        clash = Store.objects.active().filter(tenant=self.tenant, nickname__iexact=nickname)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("You already have a store with this nickname."))
        return nickname

    def clean_initial_order_date(self) -> date | None:
        value: date | None = self.cleaned_data.get("initial_order_date")
        if value is None:
            return None
        today = timezone.localdate()
        if value > today:
            raise forms.ValidationError(_("The initial order-pull date cannot be in the future."))
        max_age = settings.STORE_INITIAL_DATE_MAX_AGE_DAYS
        if value < today - timedelta(days=max_age):
            raise forms.ValidationError(
                _("The initial order-pull date cannot be more than %(days)d days ago.") % {"days": max_age}
            )
        return value

    def region_value(self) -> str | None:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        region = self.region_value()
        sites: list[str] = cleaned.get("sites") or []
        if region and sites:
            foreign = [s for s in sites if marketplaces.BY_SITE[s].region != region]
            if foreign:
                self.add_error(
                    "sites",
                    _("These sites are not in the chosen region: %(sites)s")
                    % {"sites": ", ".join(marketplaces.site_label(s) for s in foreign)},
                )
            elif region == "FE" and len(sites) != 1:
                self.add_error("sites", _("A Far East store has exactly one site."))
        return cleaned


class StoreCreateForm(StoreFieldsMixin):
    region = forms.ChoiceField(label=_("Region"), choices=marketplaces.REGIONS, widget=forms.RadioSelect)
    field_order = ["nickname", "region", "sites", "initial_order_date"]

    def region_value(self) -> str | None:
        return self.cleaned_data.get("region")


class StoreEditForm(StoreFieldsMixin):
    """Region is fixed once the store exists: an Amazon authorization is regional."""

    def __init__(self, *args: Any, tenant: Tenant, instance: Store | None = None, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, instance=instance, **kwargs)
        assert instance is not None
        self.fields["sites"].choices = [  # type: ignore[attr-defined]
            (m.site, marketplaces.site_label(m.site)) for m in marketplaces.sites_in_region(instance.region)
        ]

    def region_value(self) -> str | None:
        return self.instance.region if self.instance else None
