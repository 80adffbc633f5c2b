"""The "API access" page of a distributor account: its owners and admins list, create and revoke API keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import get_membership
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from api.forms import ApiKeyForm
from api.keys import create_key, revoke_key
from api.models import ApiKey


def get_key_manager(request: AuthenticatedHttpRequest) -> Membership:
    """Outsider (no distributor account): 404; member or viewer: 403; owner or admin: their membership."""
    membership = get_membership(request)
    if not membership.can_manage_members:
        raise PermissionDenied
    return membership


def _page(
    request: AuthenticatedHttpRequest, mine: Membership, form: ApiKeyForm, status: int = 200
) -> HttpResponse:
    keys = ApiKey.objects.filter(tenant=mine.tenant).prefetch_related("stores")
    return render(request, "api/keys.html", {"membership": mine, "keys": keys, "form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    mine = get_key_manager(request)
    if request.method != "POST":
        return _page(request, mine, ApiKeyForm(tenant=mine.tenant))
    form = ApiKeyForm(request.POST, tenant=mine.tenant)
    if not form.is_valid():
        return _page(request, mine, form, status=400)
    key = form.save(commit=False)
    key.tenant = mine.tenant
    secret = create_key(request, key, request.user)
    form.save_m2m()
    # The secret is in this answer only (never in a URL, the session or a message): the next page is the last
    # time anyone sees it, and never_cache keeps the browser from storing it.
    return render(request, "api/key_created.html", {"membership": mine, "key": key, "secret": secret})


@require_POST
@login_required
def revoke(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    mine = get_membership(request)
    key = get_object_or_404(ApiKey, code=code, tenant=mine.tenant)
    if not mine.can_manage_members:
        raise PermissionDenied
    revoke_key(request, key, request.user)
    messages.success(request, _("The key %(prefix)s was revoked.") % {"prefix": key.prefix})
    return redirect("api_keys:keys")
