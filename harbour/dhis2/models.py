"""Where the programme reports to in DHIS2, and which DHIS2 cell each Harbour figure fills.

One ``Dhis2Server`` per installation (one programme per installation, as for
``Organisation``), and ``Mapping`` rows: a Harbour figure (indicator key, part, optional
group) to a DHIS2 data element and category option combo. The organisation units are
the programme's and the sites' own DHIS2 ids (``Organisation.dhis2_org_unit``,
``Site.dhis2_org_unit``). See docs/dhis2.md.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from harbour.lib.crypto import EncryptedTextField

# The form of a DHIS2 uid: a letter, then 10 letters or digits (as Site.dhis2_org_unit).
UID_PATTERN = r"^[A-Za-z][A-Za-z0-9]{10}$"
uid_validator = RegexValidator(
    UID_PATTERN, "A DHIS2 id is 11 letters or digits, the first a letter (e.g. pBOMPrpg1QX)."
)

DEFAULT_TIMEOUT = 60  # seconds; DHIS2 imports a few hundred values in well under that


class Dhis2Server(models.Model):
    """The DHIS2 server the programme reports to, and the data set it reports in."""

    base_url = models.URLField(
        "DHIS2 address",
        blank=True,
        help_text="The address you open DHIS2 at, e.g. https://dhis2.example.org",
    )
    username = models.CharField("DHIS2 user name", max_length=150, blank=True)
    # Encrypted at rest, and never shown back on any page.
    password = EncryptedTextField("DHIS2 password", blank=True)
    data_set = models.CharField(
        "Data set id", max_length=11, blank=True, validators=[uid_validator]
    )
    attribute_option_combo = models.CharField(
        "Attribute option combo id",
        max_length=11,
        blank=True,
        validators=[uid_validator],
        help_text="Only if the data set has attribute categories (e.g. a funding source); "
        "blank uses DHIS2's default.",
    )
    timeout = models.PositiveSmallIntegerField(
        "Wait for DHIS2 (seconds)",
        default=DEFAULT_TIMEOUT,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
    )
    leave_out_small_counts = models.BooleanField(
        "Leave out small counts",
        default=False,
        help_text="Withhold counts from 1 to 4, and figures that would reveal them, as on "
        "the public dashboard. Use it where the figures of a small site could point at "
        "people.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "DHIS2 server"

    def __str__(self) -> str:
        return self.base_url or "DHIS2 server (not set)"

    @classmethod
    def get(cls) -> Dhis2Server:
        server, _ = cls.objects.get_or_create(pk=1)
        return server

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    def missing(self) -> list[str]:
        """What must still be set before Harbour can send to DHIS2; empty when ready."""
        names = []
        if not self.base_url:
            names.append("the DHIS2 address")
        if not self.username:
            names.append("the user name")
        if not self.password:
            names.append("the password")
        if not self.data_set:
            names.append("the data set id")
        return names

    @property
    def api_root(self) -> str:
        """The address of the Web API: the base URL without a trailing ``/`` or ``/api``."""
        root = self.base_url.rstrip("/")
        if root.endswith("/api"):
            root = root[: -len("/api")]
        return root


class Level(models.TextChoices):
    """The organisation units a mapping row is reported for."""

    ALL = "all", "Programme and sites"
    PROGRAMME = "programme", "Programme only"
    SITES = "sites", "Sites only"


class Mapping(models.Model):
    """One Harbour figure reported in one DHIS2 cell (data element + category option combo).

    A figure is an indicator key (``PRV.8``), a part (``numerator``, ``denominator``,
    ``value``, or a cascade step such as ``on_art``) and an optional group
    (``gender=female``, ``age=<25``). harbour.dhis2.figures lists every figure there is.
    """

    indicator = models.CharField(max_length=32)
    part = models.CharField(max_length=32)
    group = models.CharField(max_length=32, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.ALL)
    data_element = models.CharField("Data element id", max_length=11, validators=[uid_validator])
    category_option_combo = models.CharField(
        "Category option combo id", max_length=11, blank=True, validators=[uid_validator]
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            # Two figures in one DHIS2 cell would overwrite each other.
            models.UniqueConstraint(
                fields=["data_element", "category_option_combo"],
                name="dhis2_one_figure_per_cell",
                violation_error_message="Another row already fills this DHIS2 cell "
                "(data element and category option combo).",
            )
        ]

    def __str__(self) -> str:
        return f"{self.figure_key} → {self.data_element}.{self.category_option_combo or 'default'}"

    @property
    def figure_key(self) -> str:
        from harbour.dhis2.figures import key

        return key(self.indicator, self.part, self.group)

    @property
    def figure_label(self) -> str:
        from harbour.dhis2.figures import label

        return label(self.indicator, self.part, self.group)

    def applies_to(self, level: str) -> bool:
        """Whether this row is reported for an org unit of ``level`` ("programme" or "sites")."""
        return self.level in (Level.ALL, level)
