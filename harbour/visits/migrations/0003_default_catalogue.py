from django.db import migrations

# The exchange format's codes, in the order a counter usually hands them out:
# injecting equipment first, so the commonest contact is a few quantities in a row.
DEFAULT_ITEMS = [
    ("needle_syringe", "Needles and syringes", ["1 ml 29G", "1 ml 27G", "2 ml 23G", "5 ml 21G"]),
    ("swab", "Alcohol swabs", []),
    ("water_ampoule", "Water ampoules", []),
    ("cooker", "Cookers", []),
    ("filter", "Filters", []),
    ("sharps_container", "Sharps container", []),
    ("naloxone_kit", "Naloxone kit", []),
    ("smoking_kit", "Safer smoking kit", []),
    ("fentanyl_strip", "Fentanyl test strips", []),
    ("condom", "Condoms", []),
    ("lubricant", "Lubricant", []),
    ("hiv_self_test", "HIV self-test", []),
    ("information_leaflet", "Information leaflet", []),
]


def add(apps, schema_editor):
    item = apps.get_model("visits", "CatalogueItem")
    for order, (code, name, options) in enumerate(DEFAULT_ITEMS, start=1):
        item.objects.get_or_create(
            code=code, defaults={"name": name, "options": options, "sort_order": order * 10}
        )


def remove(apps, schema_editor):
    item = apps.get_model("visits", "CatalogueItem")
    item.objects.filter(code__in=[code for code, _, _ in DEFAULT_ITEMS]).delete()


class Migration(migrations.Migration):
    dependencies = [("visits", "0002_contact_services_catalogue_overdoses")]

    operations = [migrations.RunPython(add, remove)]
