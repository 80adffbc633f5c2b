"""Access helpers: the first line of every tenant view.

An outsider gets 404 (the object's existence is not revealed); a viewer gets 403 on any change.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.http import TenantHttpRequest
from accounts.models import Invitation, Membership


def get_membership(request: TenantHttpRequest) -> Membership:
    if request.membership is None:
        raise Http404("No distributor account")
    return request.membership


def get_member_manager(request: TenantHttpRequest) -> Membership:
    membership = get_membership(request)
    if not membership.can_manage_members:
        raise PermissionDenied
    return membership


def get_membership_for_user(request: TenantHttpRequest, code: str) -> tuple[Membership, Membership]:
    """(the membership named by `code`, the requesting user's membership that may manage it)."""
    mine = get_membership(request)
    target = get_object_or_404(
        Membership.objects.select_related("user", "tenant"), code=code, tenant=mine.tenant
    )
    if not mine.can_manage_members:
        raise PermissionDenied
    return target, mine


def get_invitation_for_manager(request: TenantHttpRequest, code: str) -> tuple[Invitation, Membership]:
    """(the invitation of the request's tenant named by `code`, the requesting owner's or admin's membership)."""
    mine = get_membership(request)
    invitation = get_object_or_404(
        Invitation.objects.select_related("tenant", "invited_by"), code=code, tenant=mine.tenant
    )
    if not mine.can_manage_members:
        raise PermissionDenied
    return invitation, mine
