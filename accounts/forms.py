from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Tenant, User


class SignupForm(AllauthSignupForm):
    """allauth's signup plus the name of the distributor account the new user will own."""

    company = forms.CharField(
        label=_("Distributor account name"),
        max_length=100,
        help_text=_("Usually your company name. You can invite colleagues later."),
    )

    def clean_company(self) -> str:
        value: str = self.cleaned_data["company"].strip()
        if not value:
            raise forms.ValidationError(_("Enter a name."))
        return value

    def save(self, request: HttpRequest) -> User:
        user: User = super().save(request)
        Tenant.create_for_owner(user, self.cleaned_data["company"])
        return user


class TenantForm(forms.Form):
    name = forms.CharField(label=_("Distributor account name"), max_length=100)

    def clean_name(self) -> str:
        value: str = self.cleaned_data["name"].strip()
        if not value:
            raise forms.ValidationError(_("Enter a name."))
        return value


ASSIGNABLE_ROLES = Membership.Role.choices


class AddMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=ASSIGNABLE_ROLES, initial=Membership.Role.MEMBER)

    def __init__(self, *args: Any, tenant: Tenant, actor: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.actor = actor

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(
                _("No one has signed up with this address yet. Ask them to sign up first, then add them.")
            )
        if Membership.objects.filter(tenant=self.tenant, user=user).exists():
            raise forms.ValidationError(_("This person is already a member."))
        self.user = user
        return email

    def clean_role(self) -> str:
        role: str = self.cleaned_data["role"]
        if role == Membership.Role.OWNER and self.actor.role != Membership.Role.OWNER:
            raise forms.ValidationError(_("Only an owner can add another owner."))
        return role


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ASSIGNABLE_ROLES)
