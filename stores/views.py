from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_membership
from accounts.http import AuthenticatedHttpRequest
from authorizations import store_actions as actions
from authorizations.models import AuditEvent, AuthStatus, Capability
from authorizations.status import authorization_map
from stores.access import get_editable_store_for_user, get_store_for_user
from stores.forms import StoreCreateForm, StoreEditForm
from stores.models import CombinedStatus, Store
from stores.paging import paginate
from stores.templatetags.times import zone_label
from sync import order_dates

log = logging.getLogger(__name__)


@require_GET
@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.membership is None:
        # Platform staff usually belong to no distributor account: their home is the staff page.
        return redirect("staff:staff_stores" if request.user.is_staff else "accounts:create_tenant")
    return redirect("stores:list")


@require_GET
@login_required
def store_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.membership is None:
        return redirect("staff:staff_stores" if request.user.is_staff else "accounts:create_tenant")
    membership = get_membership(request)
    q = request.GET.get("q", "").strip()[:50]
    status = request.GET.get("status", "")
    show_archived = status == "archived"
    # order_sync is joined, so the order-loading column costs no query per row.
    stores = Store.objects.filter(tenant=membership.tenant).with_authorizations().select_related("order_sync")
    stores = stores.filter(archived_at__isnull=not show_archived)
    if q:
        stores = stores.filter(nickname__icontains=q)
    if status in CombinedStatus.values:
        stores = stores.filter(authorization_status=status)
    page = paginate(stores, settings.STORES_PER_PAGE, request.GET.get("page"))
    ctx = {
        "page": page,
        "q": q,
        "status": status,
        "status_choices": CombinedStatus.choices,
        "capabilities": Capability.choices,
        "membership": membership,
    }
    return render(request, "stores/list.html", ctx)


@require_http_methods(["GET", "POST"])
@login_required
def store_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = get_membership(request)
    if not membership.can_change:
        raise PermissionDenied
    form = StoreCreateForm(request.POST or None, tenant=membership.tenant)
    if request.method == "POST":
        if form.is_valid():
            store = actions.create_store(request, membership, **form.cleaned_data)
            return redirect("stores:created", code=store.code)
        log.info("store form rejected: %s", form.errors.as_json()[:500])
    return render(request, "stores/add.html", {"form": form})


@require_GET
@login_required
def store_created(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    store, membership = get_store_for_user(request, code)
    return render(request, "stores/created.html", {"store": store, "membership": membership})


@require_GET
@login_required
def store_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    store, membership = get_store_for_user(request, code)
    auths = authorization_map(store)
    ctx = {
        "store": store,
        "membership": membership,
        "auths": [auths[c] for c in Capability.values if c in auths],
        # Once something is authorized, offer the capabilities still missing (advertising included).
        "next_steps": [a for a in auths.values() if a.status == AuthStatus.NOT_AUTHORIZED]
        if any(a.status == AuthStatus.AUTHORIZED for a in auths.values())
        else [],
        "site_warnings": actions.site_warnings(store),
        "events": AuditEvent.objects.filter(store=store).select_related("user")[:20],
        "AuthStatus": AuthStatus,
    }
    return render(request, "stores/detail.html", ctx)


@require_http_methods(["GET", "POST"])
@login_required
def store_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    store, membership = get_editable_store_for_user(request, code)
    initial = {
        "nickname": store.nickname,
        "sites": store.sites,
        "initial_order_date": store.initial_order_date,
    }
    form = StoreEditForm(request.POST or None, initial=initial, tenant=store.tenant, instance=store)
    if request.method == "POST":
        if form.is_valid():
            old_date = store.initial_order_date
            actions.update_store(request, store, **form.cleaned_data)
            messages.success(request, _("The store was saved."))
            # Here, not in update_store: authorizations may not import sync (docs/architecture.md, "Layers").
            change = order_dates.initial_date_changed(store, old_date, store.initial_order_date)
            note = _initial_date_note(store, change)
            if note:
                messages.info(request, note)
            return redirect("stores:detail", code=store.code)
        log.info("store edit rejected: %s", form.errors.as_json()[:500])
    return render(request, "stores/edit.html", {"store": store, "form": form})


def _initial_date_note(store: Store, change: order_dates.DateChangeResult) -> str:
    """What the edited initial order-pull date does to the orders, in the seller's words."""
    tz = ZoneInfo(store.timezone or store.primary_site.timezone)

    def day(at: datetime | None) -> str:
        # Labelled with the store's zone, as every time the portal shows (docs/architecture.md, "Times").
        if at is None:
            return ""
        local = at.astimezone(tz)
        return f"{date_format(local, 'SHORT_DATE_FORMAT')} {zone_label(local)}"

    DateChange = order_dates.DateChange
    if change.outcome == DateChange.BACKFILL:
        if change.end is None:
            return _("Past orders will be loaded again from %(start)s; the orders already loaded stay.") % {
                "start": day(change.start)
            }
        return _(
            "The orders from %(start)s up to %(end)s will be loaded in the background; the orders already loaded "
            "stay, and new orders keep coming in afterwards."
        ) % {"start": day(change.start), "end": day(change.end)}
    if change.outcome == DateChange.RESTARTED:
        return _("Past orders will be loaded from %(start)s.") % {"start": day(change.start)}
    if change.outcome == DateChange.SKIPPED:
        return _(
            "The remaining past orders will be loaded from %(start)s. The orders already loaded are kept and stay "
            "in the orders list."
        ) % {"start": day(change.start)}
    if change.outcome == DateChange.KEPT:
        return _(
            "The orders already loaded are kept, including those from before the new date: the orders list still "
            "starts at %(start)s. Nothing is deleted; new orders keep coming in."
        ) % {"start": day(change.loaded_from)}
    return ""


@require_GET
@login_required
def store_archive_confirm(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    store, membership = get_editable_store_for_user(request, code)
    return render(request, "stores/archive.html", {"store": store})


@require_POST
@login_required
def store_archive(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    store, membership = get_editable_store_for_user(request, code)
    actions.archive_store(request, store)
    messages.success(request, _("The store “%(name)s” was archived.") % {"name": store.nickname})
    return redirect("stores:list")


def _restorable_store(request: HttpRequest, code: str) -> Store:
    """An archived store of the user's tenant: 404 for outsiders, 403 below owner/admin (restoring re-opens a
    store to every member, as adding a member does)."""
    store, membership = get_store_for_user(request, code)
    if not membership.can_manage_members:
        raise PermissionDenied
    return store


@require_GET
@login_required
def store_restore_confirm(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    store = _restorable_store(request, code)
    if not store.is_archived:
        return redirect("stores:detail", code=store.code)
    return render(request, "stores/restore.html", {"store": store})


@require_POST
@login_required
def store_restore(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    store = _restorable_store(request, code)
    try:
        actions.restore_store(request, store)
    except actions.RestoreError as exc:
        messages.error(request, str(exc))
        return redirect("stores:detail", code=store.code)
    messages.success(
        request,
        _("The store “%(name)s” was restored. Authorize it again: the seller has to confirm at Amazon.")
        % {"name": store.nickname},
    )
    return redirect("stores:detail", code=store.code)
