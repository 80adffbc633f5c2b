from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The shared cache (settings.CACHES, allauth's login rate limits) lives in the database on the embedded
    # default; creating its table here means every `migrate` (demo, CI, production) has it.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("stores", "0002_verified_seller_claims")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
