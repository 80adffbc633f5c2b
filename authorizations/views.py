from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from authorizations.models import Capability
from stores.access import get_store_for_user


@require_GET
@login_required
def authorize_start(request: HttpRequest, code: str, capability: str) -> HttpResponse:
    store, membership = get_store_for_user(request, code)
    if capability not in Capability.values:
        raise Http404
    return render(
        request,
        "authorizations/coming_soon.html",
        {"store": store, "capability": Capability(capability)},
    )
