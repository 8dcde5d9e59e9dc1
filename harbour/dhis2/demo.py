"""A made-up DHIS2 set-up for the demo, so the DHIS2 page has something to show.

``configure_demo()`` gives the programme and each service site a DHIS2 org unit id,
points the server at ``https://dhis2.invalid`` (a name that never resolves: a dry run
shows how Harbour reports an unreachable server) and maps a plausible set of figures:
counts per site, ratios and population figures for the programme. Every id is
made up but has DHIS2's form, and is the same on every run.
"""

from __future__ import annotations

import hashlib
import string
from typing import Any

from django.db import transaction

from harbour.dhis2.models import Dhis2Server, Level, Mapping
from harbour.sites.models import Organisation, Site, SiteKind

DEMO_URL = "https://dhis2.invalid"
DEMO_USERNAME = "harbour-demo"
_ALPHABET = string.ascii_letters + string.digits

# (indicator, part, group, level): a group goes to a data element disaggregated by it.
DEMO_FIGURES: tuple[tuple[str, str, str, str], ...] = (
    ("PRV.8", "numerator", "", Level.SITES),
    ("PRV.8", "numerator", "gender=female", Level.SITES),
    ("PRV.8", "numerator", "gender=male", Level.SITES),
    ("PRV.8", "denominator", "", Level.SITES),
    ("PRV.9", "numerator", "", Level.SITES),
    ("PRV.10", "numerator", "", Level.SITES),
    ("PRV.11", "numerator", "", Level.SITES),
    ("PRV.11", "denominator", "", Level.SITES),
    ("HTS.PWID", "numerator", "", Level.SITES),
    ("NALOXONE.kits", "value", "", Level.SITES),
    ("OVERDOSE.reported", "value", "", Level.SITES),
    ("OVERDOSE.reversed", "value", "", Level.SITES),
    ("HIV.cascade", "diagnosed", "", Level.SITES),
    ("HIV.cascade", "on_art", "", Level.SITES),
    ("HIV.cascade", "suppressed", "", Level.SITES),
    ("PRV.10", "value", "", Level.PROGRAMME),
    ("PRV.10.population", "value", "", Level.PROGRAMME),
    ("PRV.11.population", "numerator", "", Level.PROGRAMME),
    ("PRV.11.population", "denominator", "", Level.PROGRAMME),
    ("PRV.12", "value", "", Level.PROGRAMME),
    ("PRV.13", "numerator", "", Level.PROGRAMME),
    ("PRV.13", "denominator", "", Level.PROGRAMME),
    ("HCV.cascade", "antibody_positive", "", Level.PROGRAMME),
    ("HCV.cascade", "rna_tested", "", Level.PROGRAMME),
    ("HCV.cascade", "rna_positive", "", Level.PROGRAMME),
    ("HCV.cascade", "treated", "", Level.PROGRAMME),
    ("HCV.cascade", "cured", "", Level.PROGRAMME),
)


def demo_uid(name: str) -> str:
    """A made-up DHIS2-shaped uid (a letter, then 10 letters or digits), stable per name."""
    digest = hashlib.sha256(f"harbour-demo:{name}".encode()).digest()
    first = string.ascii_letters[digest[0] % len(string.ascii_letters)]
    return first + "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[1:11])


def configure_demo() -> dict[str, Any]:
    """Set up the demo's DHIS2 reporting; safe to run again. What was set, in counts."""
    with transaction.atomic():
        org = Organisation.get()
        org.dhis2_org_unit = demo_uid("org unit:programme")
        org.save(update_fields=["dhis2_org_unit"])
        sites = list(Site.objects.exclude(kind=SiteKind.REGION).filter(active=True))
        for site in sites:
            site.dhis2_org_unit = demo_uid(f"org unit:{site.code}")
        Site.objects.bulk_update(sites, ["dhis2_org_unit"])

        server = Dhis2Server.get()
        server.base_url = DEMO_URL
        server.username = DEMO_USERNAME
        # The demo server does not exist; a password makes the page offer a dry run.
        server.password = "demo-only-not-a-real-password"  # noqa: S105
        server.data_set = demo_uid("data set:harm reduction quarterly")
        server.save()

        for indicator, part, group, level in DEMO_FIGURES:
            by = f"|by {group.partition('=')[0]}" if group else ""
            element = demo_uid(f"data element:{indicator}|{part}{by}")
            combo = demo_uid(f"category option combo:{group}") if group else ""
            Mapping.objects.update_or_create(
                data_element=element,
                category_option_combo=combo,
                defaults={"indicator": indicator, "part": part, "group": group, "level": level},
            )
    return {"sites": len(sites), "mappings": len(DEMO_FIGURES)}
