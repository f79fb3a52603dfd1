from django.db import migrations


def load(apps, schema_editor):
    from gongkai.disclosure.catalog_seed import load_catalog

    load_catalog(
        apps.get_model("disclosure", "Category"),
        apps.get_model("disclosure", "CatalogEntry"),
        apps.get_model("disclosure", "CatalogRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0001_catalog_and_disclosures")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
