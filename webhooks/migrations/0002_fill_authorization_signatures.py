"""Existing stores get their authorization signature (authorizations/status.py `status_signature`), so the first
recompute after this release reports only a real change as a `store.authorization_changed` event."""

from django.db import migrations


def fill(apps, schema_editor):
    Store = apps.get_model("stores", "Store")
    Authorization = apps.get_model("authorizations", "Authorization")
    statuses = {}
    for store_id, capability, status in Authorization.objects.values_list("store_id", "capability", "status"):
        statuses.setdefault(store_id, {})[capability] = status
    for store in Store.objects.filter(authorization_signature="").only("pk", "authorization_status").iterator():
        caps = statuses.get(store.pk, {})
        signature = store.authorization_status + "|" + ",".join(f"{c}:{caps[c]}" for c in sorted(caps))
        Store.objects.filter(pk=store.pk).update(authorization_signature=signature)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_events_deliveries"),
        ("stores", "0007_authorization_signature"),
        ("authorizations", "0005_notifications_and_polling"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
