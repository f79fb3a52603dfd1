from django.db import migrations


def load(apps, schema_editor):
    """Add the democratic-management entries (publicity, meetings, votes, evaluations,
    circulars, rankings); load_catalog leaves existing entries as they are."""
    from gongkai.disclosure.catalog_seed import load_catalog

    load_catalog(
        apps.get_model("disclosure", "Category"),
        apps.get_model("disclosure", "CatalogEntry"),
        apps.get_model("disclosure", "CatalogRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0004_revision_append_only_trigger")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
