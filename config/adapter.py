"""django-allauth's account adapter: where a browser goes after logging in or signing up."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from authorizations import holding


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # A grant held in this browser is finished after any login here, not only through the page's own link
        # (allauth uses this only when the login carried no `next`).
        waiting = holding.waiting(request)
        if waiting:
            return reverse("amazon:finish", args=[waiting[0].code])
        return super().get_login_redirect_url(request)
