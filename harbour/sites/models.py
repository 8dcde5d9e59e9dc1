from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from harbour.clients.uic import default_scheme_json


class Organisation(models.Model):
    """The programme running this Harbour. One per installation."""

    name = models.CharField(max_length=200, default="Harbour programme")
    uic_scheme = models.JSONField(
        default=default_scheme_json,
        help_text="Components of the unique identifier code, in order.",
    )
    dhis2_org_unit = models.CharField("DHIS2 organisation unit id", max_length=11, blank=True)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def get(cls) -> Organisation:
        org, _ = cls.objects.get_or_create(pk=1)
        return org


class SiteKind(models.TextChoices):
    REGION = "region", "Region"
    FIXED = "fixed", "Fixed site"
    OUTREACH = "outreach", "Outreach"
    DROP_IN = "drop_in", "Drop-in centre"
    DCR = "dcr", "Drug consumption room"
    PHARMACY = "pharmacy", "Pharmacy"
    PRISON = "prison", "Prison"
    MOBILE = "mobile", "Mobile unit"


code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$",
    "Use up to 32 letters, digits, dots, dashes or underscores.",
)


class Site(models.Model):
    """A region or a service site. Regions and sites form one tree, as in DHIS2."""

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=SiteKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    dhis2_org_unit = models.CharField(
        "DHIS2 organisation unit id",
        max_length=11,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z][A-Za-z0-9]{10}$", "A DHIS2 id is 11 characters.")],
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_region(self) -> bool:
        return self.kind == SiteKind.REGION

    def ancestors(self) -> list[Site]:
        chain: list[Site] = []
        node = self.parent
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return chain


def descendants_map() -> dict[int, set[int]]:
    """Every site id mapped to itself and the ids of all sites below it."""
    children: dict[int | None, list[int]] = {}
    for site_id, parent_id in Site.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(site_id)
    result: dict[int, set[int]] = {}

    def walk(site_id: int) -> set[int]:
        if site_id in result:
            return result[site_id]
        found = {site_id}
        result[site_id] = found  # guards against a cycle
        for child in children.get(site_id, []):
            found |= walk(child)
        return found

    for site_id in [s for group in children.values() for s in group]:
        walk(site_id)
    return result
