from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's "account" app is also called "Accounts" in the admin: ours holds the people and distributor accounts.
    verbose_name = _("People and distributor accounts")
