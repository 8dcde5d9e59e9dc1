"""The default coverage bands and targets (harbour/reports/targets.py, DEFAULTS).

Frozen here: a later change of the defaults in the code must not rewrite what a
programme has set. An indicator already configured is left as it is.
"""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {
    # Needles and syringes per person who injects drugs, per year: WHO, UNODC, UNAIDS.
    # Target: WHO, for 2030.
    "PRV.10.population": ("100", "200", "300"),
    "PRV.10": ("100", "200", "300"),
    # OST coverage, percent. Target: UNAIDS.
    "PRV.11.population": ("20", "40", "50"),
    "PRV.11": ("20", "40", "50"),
    # NSP coverage, percent. Target: UNAIDS, for 2025.
    "PRV.8": ("20", "60", "90"),
}


def load_defaults(apps, schema_editor):
    Target = apps.get_model("reports", "Target")
    for indicator, (low, high, target) in DEFAULTS.items():
        Target.objects.get_or_create(
            indicator=indicator,
            defaults={
                "low": Decimal(low),
                "high": Decimal(high),
                "target": Decimal(target),
            },
        )


def remove_defaults(apps, schema_editor):
    Target = apps.get_model("reports", "Target")
    Target.objects.filter(indicator__in=DEFAULTS).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_target")]

    operations = [migrations.RunPython(load_defaults, remove_defaults)]
