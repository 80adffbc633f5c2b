from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context as allauth_context
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import invitations
from accounts.models import Invitation, Membership, Tenant, User
from accounts.validators import refuse_bidi_controls


class SignupForm(AllauthSignupForm):
    """allauth's signup plus the name of the distributor account the new user will own.

    A person who opened an invitation page in this browser (see accounts.invitations.SESSION_PENDING) may leave
    the name empty: no tenant is created, and allauth's `next` brings them back to the invitation to accept it.
    """

    company = forms.CharField(
        label=_("Distributor account name"),
        max_length=100,
        help_text=_("Usually your company name. You can invite colleagues later."),
        validators=[refuse_bidi_controls],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # allauth's AccountMiddleware keeps the current request; its form constructor is not given one.
        self.invitation: Invitation | None = invitations.pending_for_session(allauth_context.request)
        if self.invitation is not None:
            company = self.fields["company"]
            company.required = False
            company.label = _("Distributor account name (optional)")
            company.help_text = _(
                "Leave it empty to only join the distributor account that invited you. "
                "Fill it in to also create a distributor account of your own."
            )
            if not self.is_bound and "email" in self.fields:
                self.fields["email"].initial = self.invitation.email

    def clean_company(self) -> str:
        value: str = self.cleaned_data["company"].strip()
        if not value and self.fields["company"].required:
            raise forms.ValidationError(_("Enter a name."))
        return value

    def save(self, request: HttpRequest) -> User:
        user: User = super().save(request)
        company: str = self.cleaned_data["company"]
        if company:
            Tenant.create_for_owner(user, company)
        return user


class TenantForm(forms.Form):
    name = forms.CharField(
        label=_("Distributor account name"), max_length=100, validators=[refuse_bidi_controls]
    )

    def clean_name(self) -> str:
        value: str = self.cleaned_data["name"].strip()
        if not value:
            raise forms.ValidationError(_("Enter a name."))
        return value


ASSIGNABLE_ROLES = Membership.Role.choices


class InviteForm(forms.Form):
    """Invite an email address. It never says whether the address is registered or already a member."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=ASSIGNABLE_ROLES, initial=Membership.Role.MEMBER)

    def __init__(self, *args: Any, actor: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        return email

    def clean_role(self) -> str:
        role: str = self.cleaned_data["role"]
        if role == Membership.Role.OWNER and self.actor.role != Membership.Role.OWNER:
            raise forms.ValidationError(_("Only an owner can invite another owner."))
        return role


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ASSIGNABLE_ROLES)
