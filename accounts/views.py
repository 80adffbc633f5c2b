from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import invitations
from accounts.access import (
    get_invitation_for_manager,
    get_member_manager,
    get_membership,
    get_membership_for_user,
)
from accounts.forms import ChangeRoleForm, InviteForm, TenantForm
from accounts.http import AuthenticatedHttpRequest
from accounts.invitations import EmailNotConfirmed, InvitationLimited, InvitationUnusable, WrongRecipient
from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, Membership, Tenant


@require_http_methods(["GET", "POST"])
@login_required
def create_tenant(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tenant = Tenant.create_for_owner(request.user, form.cleaned_data["name"])
        request.session[SESSION_KEY] = str(tenant.code)
        messages.success(request, _("Your distributor account was created."))
        return redirect("stores:list")
    return render(request, "accounts/create_tenant.html", {"form": form})


@require_POST
@login_required
def switch_tenant(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_object_or_404(Membership, tenant__code=code, user=request.user)
    request.session[SESSION_KEY] = str(membership.tenant.code)
    return redirect("stores:list")


def _members_page(
    request: HttpRequest, mine: Membership, form: InviteForm | None, status: int = 200
) -> HttpResponse:
    rows = Membership.objects.filter(tenant=mine.tenant).select_related("user").order_by("created_at")
    pending: list[Invitation] = []
    if mine.can_manage_members:
        invitations.expire_due(mine.tenant)
        pending = list(
            Invitation.objects.filter(
                tenant=mine.tenant, status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
            )
            .select_related("invited_by")
            .order_by("created_at")
        )
    ctx = {
        "membership": mine,
        "rows": rows,
        "form": form,
        "roles": Membership.Role.choices,
        "invitations": pending,
    }
    return render(request, "accounts/members.html", ctx, status=status)


@require_GET
@login_required
def members(request: AuthenticatedHttpRequest) -> HttpResponse:
    mine = get_membership(request)
    form = InviteForm(actor=mine) if mine.can_manage_members else None
    return _members_page(request, mine, form)


@require_POST
@login_required
def member_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    mine = get_member_manager(request)
    form = InviteForm(request.POST, actor=mine)
    if not form.is_valid():
        return _members_page(request, mine, form, status=400)
    email = form.cleaned_data["email"]
    # The same answer whether the address is unknown, registered or already a member: nothing is revealed.
    try:
        invitations.invite(mine, email, form.cleaned_data["role"], request=request)
    except InvitationLimited as e:
        form.add_error("email", e.message)
        return _members_page(request, mine, form, status=429)
    messages.success(request, _("An invitation was sent to %(email)s.") % {"email": email})
    return redirect("accounts:members")


@require_POST
@login_required
def invitation_resend(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    invitation, mine = get_invitation_for_manager(request, code)
    try:
        invitations.resend(invitation, mine, request=request)
    except InvitationUnusable:
        messages.error(request, _("This invitation is no longer pending."))
        return redirect("accounts:members")
    except InvitationLimited as e:
        messages.error(request, e.message)
        return redirect("accounts:members")
    messages.success(
        request,
        _("A new invitation was sent to %(email)s. The previous link no longer works.")
        % {"email": invitation.email},
    )
    return redirect("accounts:members")


@require_POST
@login_required
def invitation_cancel(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    invitation, mine = get_invitation_for_manager(request, code)
    if invitations.cancel(invitation, mine):
        messages.success(
            request, _("The invitation to %(email)s was cancelled.") % {"email": invitation.email}
        )
    else:
        messages.error(request, _("This invitation is no longer pending."))
    return redirect("accounts:members")


# --- the invitee's pages (public: the token in the link is the credential) ---------------------------------


def _unusable(request: HttpRequest, error: InvitationUnusable) -> HttpResponse:
    return render(request, "accounts/invitation_invalid.html", {"text": error.message}, status=400)


def _wrong_recipient(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    ctx = {"tenant_name": invitation.tenant.name}
    return render(request, "accounts/invitation_wrong_user.html", ctx, status=403)


def _with_next(url_name: str, path: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': path})}"


@require_GET
@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    return _invitation_page(request, token)


def _invitation_page(request: HttpRequest, token: str, status: int = 200) -> HttpResponse:
    try:
        inv = invitations.usable(token)
    except InvitationUnusable as e:
        return _unusable(request, e)
    # Lets allauth's sign-up form (reached from this page) skip creating a tenant of one's own.
    request.session[invitations.SESSION_PENDING] = inv.token_hash
    user = request.user
    path = reverse("accounts:invitation", args=[token])
    ctx = {
        "invitation": inv,
        "token": token,
        "tenant_name": inv.tenant.name,
        "inviter_email": inv.invited_by.email if inv.invited_by is not None else "",
        "is_recipient": invitations.is_recipient(user, inv),
        "confirmed": user.is_authenticated and invitations.has_confirmed(user, inv),
        "already_member": user.is_authenticated
        and Membership.objects.filter(tenant=inv.tenant, user=user).exists(),
        "login_url": _with_next("account_login", path),
        "signup_url": _with_next("account_signup", path),
    }
    return render(request, "accounts/invitation.html", ctx, status=status)


@require_http_methods(["GET", "POST"])
@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    page = reverse("accounts:invitation", args=[token])
    if request.method != "POST":
        return redirect(page)
    if not request.user.is_authenticated:
        try:
            invitations.usable(token)
        except InvitationUnusable as e:
            return _unusable(request, e)
        return redirect(_with_next("account_login", page))
    try:
        inv, membership, created = invitations.accept(request.user, token, request=request)
    except InvitationUnusable as e:
        return _unusable(request, e)
    except WrongRecipient as e:
        return _wrong_recipient(request, e.invitation)
    except EmailNotConfirmed:
        # The same page, which asks to confirm the address first and offers to send the link again.
        return _invitation_page(request, token, status=403)
    request.session.pop(invitations.SESSION_PENDING, None)
    request.session[SESSION_KEY] = str(inv.tenant.code)
    if created:
        messages.success(request, _("You joined “%(name)s”.") % {"name": inv.tenant.name})
    else:
        messages.info(request, _("You are already a member of “%(name)s”.") % {"name": inv.tenant.name})
    return redirect("stores:list")


@require_http_methods(["GET", "POST"])
@never_cache
def invitation_confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """Email the confirmation link of the invited address to it again (POST; the recipient, logged in)."""
    page = reverse("accounts:invitation", args=[token])
    if request.method != "POST":
        return redirect(page)
    try:
        inv = invitations.usable(token)
    except InvitationUnusable as e:
        return _unusable(request, e)
    if not request.user.is_authenticated:
        return redirect(_with_next("account_login", page))
    try:
        invitations.send_confirmation(request.user, inv, request)
    except WrongRecipient as e:
        return _wrong_recipient(request, e.invitation)
    messages.info(
        request,
        _("We emailed a confirmation link to %(email)s. Open it, then come back here to accept.")
        % {"email": inv.email},
    )
    return redirect(page)


@require_http_methods(["GET", "POST"])
@never_cache
def invitation_decline(request: HttpRequest, token: str) -> HttpResponse:
    page = reverse("accounts:invitation", args=[token])
    if request.method != "POST":
        return redirect(page)
    try:
        inv = invitations.decline(request.user, token, request=request)
    except InvitationUnusable as e:
        return _unusable(request, e)
    except WrongRecipient as e:
        return _wrong_recipient(request, e.invitation)
    request.session.pop(invitations.SESSION_PENDING, None)
    return render(request, "accounts/invitation_declined.html", {"tenant_name": inv.tenant.name})


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
def member_role(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
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
        target = Membership.objects.select_for_update().select_related("user", "tenant").get(pk=target.pk)
        if role != Membership.Role.OWNER and _would_leave_no_owner(target):
            messages.error(request, _("A distributor account needs at least one owner."))
            return redirect("accounts:members")
        old_role = target.role
        target.role = role
        target.save(update_fields=["role"])
    if old_role != role:
        invitations.notify_role_changed(target, old_role, mine, request=request)
    messages.success(request, _("The role of %(email)s was changed.") % {"email": target.user.email})
    return redirect("accounts:members")


@require_POST
@login_required
def member_remove(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
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
