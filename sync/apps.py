from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("Background work")

    def ready(self) -> None:
        # authorizations may not import sync (docs/architecture.md): sync subscribes to "a capability became
        # authorized" instead, and starts the order backfill or the first inventory push.
        from authorizations import hooks
        from sync import tasks

        hooks.on_authorized(tasks.start_authorized_work)
        # ...and to "it stopped being authorized", to delete a subscription no live authorization uses.
        hooks.on_ended(tasks.end_authorized_work)
