from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks import transport, words
from webhooks.models import Endpoint, EventType


class EndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    """A webhook endpoint: its URL (checked against SSRF now, and again at every delivery), events, description."""

    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Endpoint
        fields = ("url", "events", "description")

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        problem = transport.check_url(url)
        if problem is not None:
            code, detail = problem
            if code == words.DNS:
                raise forms.ValidationError(_("This host name could not be resolved; check the URL."))
            raise forms.ValidationError(words.error_words(code, detail))
        return url

    def clean_events(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["events"]
        # In the order of the choices, whatever order the browser sent them in.
        return [value for value, _label in EventType.choices if value in chosen]
