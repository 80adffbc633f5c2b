from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthorizationsConfig(AppConfig):
    name = "authorizations"
    verbose_name = _("Authorizations")

    def ready(self) -> None:
        from authorizations import checks  # noqa: F401  (registers the system checks)
