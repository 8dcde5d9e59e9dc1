from django.db import migrations


def load(apps, schema_editor):
    from harbour.drugchecking.dictionary import ensure_dictionary

    ensure_dictionary(
        substance_model=apps.get_model("drugchecking", "Substance"),
        name_model=apps.get_model("drugchecking", "SubstanceName"),
    )


class Migration(migrations.Migration):
    dependencies = [("drugchecking", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
