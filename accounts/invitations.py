"""Invitations: the only way a person joins a distributor account, and only with their consent.

An owner or admin invites an email address; the invitee gets a link with a random token (256 bits, only its
SHA-256 hash is stored) and accepts or declines it while logged in with that address. Accepting is single use
(a conditional UPDATE on the pending status). Nothing here knows about views beyond building absolute links.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from allauth.account.internal.flows import email_verification
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import limits
from accounts.models import Invitation, Membership, Tenant, User
from lib import mail
from lib.errors import ReasonError
from lib.links import absolute_url

log = logging.getLogger(__name__)

# Session key: the token hash of the invitation page this browser last opened (lets the sign-up skip the tenant).
SESSION_PENDING = "pending_invitation"

# secrets.token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 100


class InvitationUnusable(ReasonError):
    """The link cannot be used (unknown, replaced, expired, cancelled or already answered): HTTP 400. `reason` is
    "unknown" or an Invitation.Status value."""

    @property
    def message(self) -> str:
        messages: dict[str, str] = {
            Invitation.Status.EXPIRED: _(
                "This invitation has expired. Ask the person who invited you to send it again."
            ),
            Invitation.Status.CANCELLED: _("This invitation was cancelled by the distributor account."),
            Invitation.Status.ACCEPTED: _(
                "This invitation was already accepted. Each invitation link works once."
            ),
            Invitation.Status.DECLINED: _("This invitation was declined. Each invitation link works once."),
        }
        return messages.get(
            self.reason,
            _(
                "This invitation link is not valid. Check that you opened the whole link from the most recent "
                "invitation email: sending an invitation again replaces the previous link."
            ),
        )


class InvitationLimited(Exception):
    """Sending this invitation email now would pass a limit (accounts/limits.py): nothing was sent or changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongRecipient(Exception):
    """The logged-in user is not the person the invitation was sent to: HTTP 403."""

    def __init__(self, invitation: Invitation) -> None:
        super().__init__("invitation sent to another address")
        self.invitation = invitation


class EmailNotConfirmed(Exception):
    """The logged-in recipient has not confirmed the invited address yet: HTTP 403 until they do.

    The link alone proves nothing: it may have leaked (forwarded, logged, shoulder-surfed), and anyone can sign up
    with the invited address. Only the confirmation emailed to that address shows its owner is here.
    """

    def __init__(self, invitation: Invitation) -> None:
        super().__init__("invited address not confirmed")
        self.invitation = invitation


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def one_line(value: str) -> str:
    """`value` without line breaks (for email subjects and headers)."""
    return re.sub(r"\s*[\r\n]+\s*", " ", value).strip()


def _expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)


# --- looking invitations up -------------------------------------------------------------------------------


def _mark_expired_if_due(invitation: Invitation) -> Invitation:
    """A pending invitation past its expiry becomes expired (stored at once)."""
    now = timezone.now()
    if invitation.status == Invitation.Status.PENDING and invitation.expires_at <= now:
        Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
            status=Invitation.Status.EXPIRED
        )
        invitation.status = Invitation.Status.EXPIRED
        log.info("invitation %s expired", invitation.code)
    return invitation


def expire_due(tenant: Tenant) -> int:
    """Mark every pending invitation of `tenant` past its expiry as expired; returns how many."""
    return Invitation.objects.filter(
        tenant=tenant, status=Invitation.Status.PENDING, expires_at__lte=timezone.now()
    ).update(status=Invitation.Status.EXPIRED)


def find(token: str) -> Invitation:
    """The invitation of `token` in any status (expiry applied); InvitationUnusable("unknown") otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationUnusable("unknown")
    wanted = hash_token(token)
    invitation = Invitation.objects.select_related("tenant", "invited_by").filter(token_hash=wanted).first()
    if invitation is None or not hmac.compare_digest(invitation.token_hash, wanted):
        raise InvitationUnusable("unknown")
    return _mark_expired_if_due(invitation)


def usable(token: str) -> Invitation:
    """The pending, unexpired invitation of `token`; InvitationUnusable otherwise."""
    invitation = find(token)
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationUnusable(invitation.status)
    return invitation


def pending_for_session(request: HttpRequest | None) -> Invitation | None:
    """The pending invitation whose page this browser opened last (see SESSION_PENDING), if still usable."""
    if request is None or not hasattr(request, "session"):
        return None
    token_hash = request.session.get(SESSION_PENDING)
    if not isinstance(token_hash, str) or len(token_hash) != 64:
        return None
    invitation = (
        Invitation.objects.select_related("tenant")
        .filter(token_hash=token_hash, status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None or not hmac.compare_digest(invitation.token_hash, token_hash):
        return None
    return invitation


def is_recipient(user: Any, invitation: Invitation) -> bool:
    email = getattr(user, "email", "") or ""
    return bool(getattr(user, "is_authenticated", False)) and email.strip().lower() == invitation.email


def has_confirmed(user: Any, invitation: Invitation) -> bool:
    """Whether `user` confirmed the invited address (allauth's EmailAddress, verified by the emailed link)."""
    return EmailAddress.objects.filter(
        user_id=user.pk, email__iexact=invitation.email, verified=True
    ).exists()


def send_confirmation(user: User, invitation: Invitation, request: HttpRequest) -> None:
    """Email allauth's confirmation link to the invited address (the recipient's own, see is_recipient)."""
    if not is_recipient(user, invitation):
        raise WrongRecipient(invitation)
    address, _created = EmailAddress.objects.get_or_create(
        user=user, email__iexact=invitation.email, defaults={"email": user.email, "primary": True}
    )
    if address.verified:
        return
    email_verification.send_verification_email_to_address(request, address)
    log.info("invitation %s: confirmation email sent for user %s", invitation.code, user.pk)


# --- what managers do -------------------------------------------------------------------------------------


def invite(
    actor: Membership, email: str, role: str, *, request: HttpRequest | None = None
) -> Invitation | None:
    """Invite `email` to the actor's tenant with `role` and email the link.

    A pending invitation to the same address is refreshed (new token, role, expiry: the old link stops working).
    An existing member gets nothing (None): the caller answers the same either way, so the response never says
    whether an address belongs to a member or to anyone registered.
    """
    _require_may_offer(actor, role)
    email = email.strip().lower()
    tenant = actor.tenant
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        log.info("invitation to tenant %s by user %s skipped: already a member", tenant.code, actor.user_id)
        return None
    _require_within_limits(actor, email)
    token = new_token()
    now = timezone.now()
    fields: dict[str, Any] = {
        "role": role,
        "invited_by": actor.user,
        "token_hash": hash_token(token),
        "sent_at": now,
        "expires_at": _expiry(),
    }
    invitation, created = _save_pending(tenant, email, fields, now)
    log.info(
        "invitation %s to tenant %s %s by user %s (role %s)",
        invitation.code,
        tenant.code,
        "created" if created else "refreshed",
        actor.user_id,
        role,
    )
    _count_sent(actor, email)
    _send_invitation(invitation, token, request)
    return invitation


def _require_may_offer(actor: Membership, role: str) -> None:
    # Managing members is not enough to hand out the owner role: only an owner may.
    if not actor.can_manage_members:
        raise PermissionDenied
    if role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise PermissionDenied


def _limits() -> tuple[limits.Limit, limits.Limit, limits.Limit]:
    return (
        limits.Limit("invite-user", settings.INVITATIONS_PER_USER_PER_HOUR, 3600),
        limits.Limit("invite-tenant", settings.INVITATIONS_PER_TENANT_PER_DAY, 86400),
        limits.Limit("invite-address", settings.INVITATIONS_PER_ADDRESS_PER_DAY, 86400),
    )


def _require_within_limits(actor: Membership, email: str) -> None:
    """Refuse (InvitationLimited) an invitation email that would make this portal a mail relay."""
    minutes = settings.INVITATION_RESEND_MINUTES
    recent = Invitation.objects.filter(
        tenant=actor.tenant,
        email=email,
        status=Invitation.Status.PENDING,
        sent_at__gt=timezone.now() - timedelta(minutes=minutes),
    )
    if minutes > 0 and recent.exists():
        # The same address again within minutes: the first email is still on its way.
        raise InvitationLimited(
            _(
                "An invitation was emailed to %(email)s less than %(minutes)d minutes ago. Ask them to look in "
                "their inbox (and spam folder) before you send it again."
            )
            % {"email": email, "minutes": minutes}
        )
    per_user, per_tenant, per_address = _limits()
    if not limits.allows(per_user, str(actor.user_id)):
        log.info("invitation by user %s refused: hourly limit", actor.user_id)
        raise InvitationLimited(
            _("You have sent %(n)d invitations in the last hour, the most allowed. Try again later.")
            % {"n": per_user.limit}
        )
    if not limits.allows(per_tenant, str(actor.tenant.code)):
        log.info("invitation to tenant %s refused: daily limit", actor.tenant.code)
        raise InvitationLimited(
            _(
                "This distributor account has sent %(n)d invitations in the last 24 hours, the most allowed. "
                "Try again tomorrow."
            )
            % {"n": per_tenant.limit}
        )
    if not limits.allows(per_address, email):
        log.info("invitation by user %s refused: address limit", actor.user_id)
        raise InvitationLimited(
            _("This address has received several invitations in the last 24 hours. Try again tomorrow.")
        )


def _count_sent(actor: Membership, email: str) -> None:
    per_user, per_tenant, per_address = _limits()
    limits.count(per_user, str(actor.user_id))
    limits.count(per_tenant, str(actor.tenant.code))
    limits.count(per_address, email)


def _save_pending(
    tenant: Tenant, email: str, fields: dict[str, Any], now: datetime
) -> tuple[Invitation, bool]:
    """The one pending invitation of `email`, created or refreshed with `fields`; and whether it is new."""
    with transaction.atomic():
        Invitation.objects.filter(
            tenant=tenant, email=email, status=Invitation.Status.PENDING, expires_at__lte=now
        ).update(status=Invitation.Status.EXPIRED)
        invitation = (
            Invitation.objects.select_for_update()
            .filter(tenant=tenant, email=email, status=Invitation.Status.PENDING)
            .first()
        )
        created = False
        if invitation is None:
            invitation, created = _create_pending(tenant, email, fields)
        if not created:
            for name, value in fields.items():
                setattr(invitation, name, value)
            invitation.save(update_fields=list(fields))
    return invitation, created


def _create_pending(tenant: Tenant, email: str, fields: dict[str, Any]) -> tuple[Invitation, bool]:
    try:
        with transaction.atomic():
            return Invitation.objects.create(tenant=tenant, email=email, **fields), True
    except IntegrityError:  # a concurrent invite of the same address won the race: refresh it
        pending = Invitation.objects.select_for_update().get(
            tenant=tenant, email=email, status=Invitation.Status.PENDING
        )
        return pending, False


def resend(invitation: Invitation, actor: Membership, *, request: HttpRequest | None = None) -> Invitation:
    """A new link (new token, new expiry) for a pending invitation; the previous link stops working."""
    if invitation.tenant_id != actor.tenant_id:
        raise PermissionDenied
    _require_may_offer(actor, invitation.role)
    _require_within_limits(actor, invitation.email)
    token = new_token()
    now = timezone.now()
    expires_at = _expiry()
    updated = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        token_hash=hash_token(token), sent_at=now, expires_at=expires_at
    )
    if not updated:
        invitation.refresh_from_db()
        raise InvitationUnusable(invitation.status)
    invitation.refresh_from_db()
    log.info("invitation %s resent by user %s", invitation.code, actor.user_id)
    _count_sent(actor, invitation.email)
    _send_invitation(invitation, token, request)
    return invitation


def cancel(invitation: Invitation, actor: Membership) -> bool:
    """Cancel a pending invitation (its link stops working). False when it was no longer pending."""
    if not actor.can_manage_members or invitation.tenant_id != actor.tenant_id:
        raise PermissionDenied
    updated = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.CANCELLED, responded_at=timezone.now()
    )
    if updated:
        invitation.refresh_from_db()
        log.info("invitation %s cancelled by user %s", invitation.code, actor.user_id)
    return bool(updated)


# --- what the invitee does --------------------------------------------------------------------------------


def accept(
    user: User, token: str, *, request: HttpRequest | None = None
) -> tuple[Invitation, Membership, bool]:
    """Accept the invitation of `token` as `user`: (invitation, membership, whether the membership is new).

    Raises InvitationUnusable (unknown, used, expired...), WrongRecipient (another address) or EmailNotConfirmed;
    nothing changes then.
    """
    invitation = usable(token)
    if not is_recipient(user, invitation):
        log.info("invitation %s: accept refused for user %s (another address)", invitation.code, user.pk)
        raise WrongRecipient(invitation)
    if not has_confirmed(user, invitation):
        log.info(
            "invitation %s: accept refused for user %s (address not confirmed)", invitation.code, user.pk
        )
        raise EmailNotConfirmed(invitation)
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, status=Invitation.Status.PENDING, expires_at__gt=now
        ).update(status=Invitation.Status.ACCEPTED, responded_at=now, accepted_by=user)
        if not claimed:
            invitation.refresh_from_db()
            raise InvitationUnusable(_mark_expired_if_due(invitation).status)
        membership, created = Membership.objects.get_or_create(
            tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
        )
    invitation.refresh_from_db()
    log.info(
        "invitation %s accepted by user %s (%s)",
        invitation.code,
        user.pk,
        "member added" if created else "already a member",
    )
    if created:
        ctx = _context(invitation, request, member_email=user.email, role_label=membership.get_role_display())
        mail.send("accounts/email/welcome", ctx, [user.email], notice=True)
        others = [e for e in _owner_emails(invitation.tenant) if e != user.email]
        mail.send("accounts/email/joined", ctx, others, notice=True)
    return invitation, membership, created


def decline(user: Any, token: str, *, request: HttpRequest | None = None) -> Invitation:
    """Decline the invitation of `token`: anonymously (the link is the proof) or as its recipient."""
    invitation = usable(token)
    if getattr(user, "is_authenticated", False) and not is_recipient(user, invitation):
        log.info("invitation %s: decline refused for user %s (another address)", invitation.code, user.pk)
        raise WrongRecipient(invitation)
    declined = Invitation.objects.filter(
        pk=invitation.pk, status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
    ).update(status=Invitation.Status.DECLINED, responded_at=timezone.now())
    if not declined:
        invitation.refresh_from_db()
        raise InvitationUnusable(_mark_expired_if_due(invitation).status)
    invitation.refresh_from_db()
    log.info("invitation %s declined", invitation.code)
    recipients = _owner_emails(invitation.tenant)
    if invitation.invited_by is not None and invitation.invited_by.email not in recipients:
        recipients.insert(0, invitation.invited_by.email)
    ctx = _context(
        invitation, request, member_email=invitation.email, role_label=invitation.get_role_display()
    )
    mail.send("accounts/email/declined", ctx, recipients, notice=True)
    return invitation


# --- other notices ----------------------------------------------------------------------------------------


def notify_role_changed(
    membership: Membership, old_role: str, actor: Membership, *, request: HttpRequest | None = None
) -> None:
    """Tell the tenant's owners that a member's role changed."""
    ctx = {
        "tenant_name": one_line(membership.tenant.name),
        "member_email": membership.user.email,
        "old_role": Membership.Role(old_role).label,
        "new_role": membership.get_role_display(),
        "actor_email": actor.user.email,
        "team_url": absolute_url(reverse("accounts:members"), request),
    }
    mail.send("accounts/email/role_changed", ctx, _owner_emails(membership.tenant), notice=True)
    log.info(
        "role of membership %s changed from %s to %s by user %s",
        membership.code,
        old_role,
        membership.role,
        actor.user_id,
    )


# --- email ------------------------------------------------------------------------------------------------


def invitation_path(token: str) -> str:
    return reverse("accounts:invitation", args=[token])


def _owner_emails(tenant: Tenant) -> list[str]:
    return list(
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER)
        .order_by("created_at")
        .values_list("user__email", flat=True)
    )


def _context(invitation: Invitation, request: HttpRequest | None, **extra: Any) -> dict[str, Any]:
    inviter = invitation.invited_by
    return {
        "tenant_name": one_line(invitation.tenant.name),
        "inviter_email": inviter.email if inviter is not None else "",
        "invitation": invitation,
        "team_url": absolute_url(reverse("accounts:members"), request),
        "portal_url": absolute_url(reverse("home"), request),
        **extra,
    }


def _send_invitation(invitation: Invitation, token: str, request: HttpRequest | None) -> None:
    ctx = _context(
        invitation,
        request,
        role_label=invitation.get_role_display(),
        url=absolute_url(invitation_path(token), request),
        expires_at=invitation.expires_at,
    )
    mail.send("accounts/email/invitation", ctx, [invitation.email])
