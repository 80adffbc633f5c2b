from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_member_manager, get_membership, get_membership_for_user
from accounts.forms import AddMemberForm, ChangeRoleForm, TenantForm
from accounts.middleware import SESSION_KEY
from accounts.models import Membership, Tenant


@require_http_methods(["GET", "POST"])
@login_required
def create_tenant(request: HttpRequest) -> HttpResponse:
    form = TenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tenant = Tenant.create_for_owner(request.user, form.cleaned_data["name"])  # type: ignore[arg-type]
        request.session[SESSION_KEY] = str(tenant.code)
        messages.success(request, _("Your distributor account was created."))
        return redirect("stores:list")
    return render(request, "accounts/create_tenant.html", {"form": form})


@require_POST
@login_required
def switch_tenant(request: HttpRequest, code: str) -> HttpResponse:
    membership = get_object_or_404(Membership, tenant__code=code, user=request.user)
    request.session[SESSION_KEY] = str(membership.tenant.code)
    return redirect("stores:list")


@require_GET
@login_required
def members(request: HttpRequest) -> HttpResponse:
    mine = get_membership(request)
    rows = Membership.objects.filter(tenant=mine.tenant).select_related("user").order_by("created_at")
    form = AddMemberForm(tenant=mine.tenant, actor=mine) if mine.can_manage_members else None
    ctx = {"membership": mine, "rows": rows, "form": form, "roles": Membership.Role.choices}
    return render(request, "accounts/members.html", ctx)


@require_POST
@login_required
def member_add(request: HttpRequest) -> HttpResponse:
    mine = get_member_manager(request)
    form = AddMemberForm(request.POST, tenant=mine.tenant, actor=mine)
    if not form.is_valid():
        rows = Membership.objects.filter(tenant=mine.tenant).select_related("user").order_by("created_at")
        ctx = {"membership": mine, "rows": rows, "form": form, "roles": Membership.Role.choices}
        return render(request, "accounts/members.html", ctx, status=400)
    Membership.objects.create(tenant=mine.tenant, user=form.user, role=form.cleaned_data["role"])
    messages.success(request, _("%(email)s was added.") % {"email": form.user.email})
    return redirect("accounts:members")


def _would_leave_no_owner(target: Membership) -> bool:
    if target.role != Membership.Role.OWNER:
        return False
    return (
        not Membership.objects.filter(tenant=target.tenant, role=Membership.Role.OWNER)
        .exclude(pk=target.pk)
        .exists()
    )


@require_POST
@login_required
def member_role(request: HttpRequest, code: str) -> HttpResponse:
    target, mine = get_membership_for_user(request, code)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return redirect("accounts:members")
    role = form.cleaned_data["role"]
    touches_owner = Membership.Role.OWNER in (role, target.role)
    if touches_owner and mine.role != Membership.Role.OWNER:
        raise PermissionDenied
    with transaction.atomic():
        target = Membership.objects.select_for_update().get(pk=target.pk)
        if role != Membership.Role.OWNER and _would_leave_no_owner(target):
            messages.error(request, _("A distributor account needs at least one owner."))
            return redirect("accounts:members")
        target.role = role
        target.save(update_fields=["role"])
    messages.success(request, _("The role of %(email)s was changed.") % {"email": target.user.email})
    return redirect("accounts:members")


@require_POST
@login_required
def member_remove(request: HttpRequest, code: str) -> HttpResponse:
    target, mine = get_membership_for_user(request, code)
    if target.role == Membership.Role.OWNER and mine.role != Membership.Role.OWNER:
        raise PermissionDenied
    with transaction.atomic():
        target = Membership.objects.select_for_update().get(pk=target.pk)
        if _would_leave_no_owner(target):
            messages.error(request, _("A distributor account needs at least one owner."))
            return redirect("accounts:members")
        removed_self = target.pk == mine.pk
        target.delete()
    messages.success(request, _("%(email)s was removed.") % {"email": target.user.email})
    if removed_self:
        request.session.pop(SESSION_KEY, None)
        return redirect("home")
    return redirect("accounts:members")
