from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The lower layers send signals; webhooks listens (docs/architecture.md, "Layers").
        from webhooks import receivers  # noqa: F401
