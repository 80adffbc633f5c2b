"""The "Webhooks" pages of a distributor account: its owners and admins register endpoints, read each endpoint's
delivery log, send a delivery again or a test event, rotate the secret, disable, enable and delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import get_membership
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from webhooks import endpoints as actions
from webhooks.forms import EndpointForm
from webhooks.models import Attempt, Delivery, Endpoint

LOG_ROWS = 50


def get_webhook_manager(request: AuthenticatedHttpRequest) -> Membership:
    """Outsider (no distributor account): 404; member or viewer: 403; owner or admin: their membership."""
    membership = get_membership(request)
    if not membership.can_manage_members:
        raise PermissionDenied
    return membership


def get_endpoint_for_manager(request: AuthenticatedHttpRequest, code: str) -> tuple[Membership, Endpoint]:
    """Another tenant's endpoint (or none): 404; a member or viewer of its tenant: 403."""
    mine = get_membership(request)
    endpoint = get_object_or_404(Endpoint, code=code, tenant=mine.tenant)
    if not mine.can_manage_members:
        raise PermissionDenied
    return mine, endpoint


def _list(
    request: AuthenticatedHttpRequest, mine: Membership, form: EndpointForm, status: int = 200
) -> HttpResponse:
    found = Endpoint.objects.filter(tenant=mine.tenant)
    return render(
        request, "webhooks/list.html", {"membership": mine, "endpoints": found, "form": form}, status=status
    )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def endpoints(request: AuthenticatedHttpRequest) -> HttpResponse:
    mine = get_webhook_manager(request)
    if request.method != "POST":
        return _list(request, mine, EndpointForm())
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _list(request, mine, form, status=400)
    endpoint = form.save(commit=False)
    endpoint.tenant = mine.tenant
    secret = actions.create(request, endpoint, request.user)
    # Shown in this answer only (never in a URL, the session or a message); never_cache keeps it out of caches.
    return render(request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "rotated": False})


@never_cache
@require_http_methods(["GET"])
@login_required
def endpoint(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    mine, found = get_endpoint_for_manager(request, code)
    log = (
        Delivery.objects.filter(endpoint=found)
        .select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.order_by("-at", "-id")))
        .order_by("-created_at", "-id")[:LOG_ROWS]
    )
    ctx = {"membership": mine, "endpoint": found, "deliveries": log}
    return render(request, "webhooks/endpoint.html", ctx)


@never_cache
@require_POST
@login_required
def rotate(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    _mine, found = get_endpoint_for_manager(request, code)
    secret = actions.rotate(request, found, request.user)
    found.refresh_from_db()
    return render(request, "webhooks/secret.html", {"endpoint": found, "secret": secret, "rotated": True})


@require_POST
@login_required
def send_test(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    _mine, found = get_endpoint_for_manager(request, code)
    if not found.enabled:
        messages.error(request, _("Enable the endpoint first: a disabled endpoint receives nothing."))
    else:
        actions.send_test(found)
        messages.success(request, _("A test event is on its way; its delivery appears below."))
    return redirect("webhooks:endpoint", code=found.code)


@require_POST
@login_required
def send_again(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    _mine, found = get_endpoint_for_manager(request, code)
    delivery = Delivery.objects.filter(endpoint=found, pk=_int(request.POST.get("delivery")) or 0).first()
    if delivery is None:
        messages.error(request, _("That delivery is not in this endpoint's log."))
    elif not found.enabled:
        messages.error(request, _("Enable the endpoint first: a disabled endpoint receives nothing."))
    else:
        actions.send_again(delivery)
        messages.success(request, _("The event %(id)s is sent again.") % {"id": delivery.event_id})
    return redirect("webhooks:endpoint", code=found.code)


@require_POST
@login_required
def set_enabled(request: AuthenticatedHttpRequest, code: str, action: str) -> HttpResponse:
    _mine, found = get_endpoint_for_manager(request, code)
    if action == "enable":
        actions.enable(request, found, request.user)
        messages.success(request, _("The endpoint is enabled."))
    else:
        actions.disable(request, found, request.user)
        messages.success(request, _("The endpoint is disabled: it receives no events until enabled again."))
    return redirect("webhooks:endpoint", code=found.code)


@require_POST
@login_required
def delete(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    _mine, found = get_endpoint_for_manager(request, code)
    actions.delete(request, found, request.user)
    messages.success(request, _("The endpoint was deleted."))
    return redirect("webhooks:endpoints")


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None  # not a number: no such delivery
