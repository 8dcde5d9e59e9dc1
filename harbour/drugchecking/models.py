"""Drug checking: samples with no identity attached, what each method found in them,
the substance dictionary that names what was found, and the alerts raised from it.

A sample carries a number, never a name. It is linked to a client only when the person
asks for their result to be followed up. Where a drug was obtained is kept as a region,
never a seller or an address: that is all an alert needs, and all a leak could expose.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from harbour.clients.models import YesNoUnknown


class SubstanceClass(models.TextChoices):
    OPIOID = "opioid", "Opioid"
    NITAZENE = "nitazene", "Nitazene"
    BENZODIAZEPINE = "benzodiazepine", "Benzodiazepine"
    STIMULANT = "stimulant", "Stimulant"
    DISSOCIATIVE = "dissociative", "Dissociative"
    PSYCHEDELIC = "psychedelic", "Psychedelic"
    CANNABINOID = "cannabinoid", "Cannabinoid"
    ADULTERANT = "adulterant", "Adulterant (an active additive)"
    CUT = "cut", "Cut (an inactive bulking agent)"
    IMPURITY = "impurity", "Impurity or by-product of manufacture"
    OTHER = "other", "Other"
    UNCLASSIFIED = "unclassified", "Not yet classified"


class AdviceTopic(models.TextChoices):
    FENTANYL = "fentanyl", "Fentanyl and its analogues"
    NITAZENE = "nitazene", "Nitazenes"
    XYLAZINE = "xylazine", "Xylazine and other sedatives"
    BENZODIAZEPINE = "benzodiazepine", "Benzodiazepines"
    OPIOID = "opioid", "Other opioids"
    STIMULANT = "stimulant", "Stimulants"
    DISSOCIATIVE = "dissociative", "Dissociatives"
    PSYCHEDELIC = "psychedelic", "Psychedelics"
    CANNABINOID = "cannabinoid", "Cannabinoids"


class Substance(models.Model):
    """One substance, or one family a person or a test strip can name (``generic``)."""

    name = models.CharField(max_length=100, unique=True)
    drug_class = models.CharField("class", max_length=16, choices=SubstanceClass.choices)
    generic = models.BooleanField(
        default=False, help_text="A family (e.g. any benzodiazepine), not one molecule."
    )
    noteworthy = models.BooleanField(
        default=False,
        help_text="Raise an alert when it is found in a sample not expected to hold it.",
    )
    alert_percent = models.DecimalField(
        "alert above (%)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Raise an alert when a sample holds more than this share of it.",
    )
    advice = models.CharField(max_length=16, choices=AdviceTopic.choices, blank=True)
    pubchem_cid = models.PositiveIntegerField("PubChem CID", null=True, blank=True)
    cas = models.CharField("CAS number", max_length=20, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name to show people: "benzodiazepine", not "benzodiazepine (unspecified)"."""
        return self.name.removesuffix(" (unspecified)")


class SubstanceName(models.Model):
    """Another name for a substance: a street name, a brand, a lab's spelling."""

    name = models.CharField(max_length=120, unique=True)  # stored lower-case
    substance = models.ForeignKey(Substance, on_delete=models.CASCADE, related_name="names")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_rule_classes() -> list[str]:
    return [
        c.value
        for c in SubstanceClass
        if c
        not in (
            SubstanceClass.CUT,
            SubstanceClass.IMPURITY,
            SubstanceClass.OTHER,
            SubstanceClass.UNCLASSIFIED,
        )
    ]


class AlertSettings(models.Model):
    """How the alert rules decide. One row per installation."""

    include_traces = models.BooleanField(
        default=True,
        help_text="Count substances found only as a trace. A trace of fentanyl can still kill.",
    )
    new_substance_classes = models.JSONField(
        default=default_rule_classes,
        help_text="Classes for which a substance new to the programme raises an alert.",
    )
    new_substance_after = models.PositiveIntegerField(
        default=50,
        help_text="Samples analysed before a substance can count as new to the programme.",
    )
    cluster_samples = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(2)],
        help_text="Samples with the same unexpected substance in one region that make a cluster.",
    )
    cluster_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="Days within which those samples must have been collected.",
    )

    def __str__(self) -> str:
        return "Alert rules"

    @classmethod
    def get(cls) -> AlertSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class SampleForm(models.TextChoices):
    POWDER = "powder", "Powder"
    CRYSTAL = "crystal", "Crystal or rock"
    PILL = "pill", "Pill or tablet"
    LIQUID = "liquid", "Liquid"
    TAR = "tar", "Tar"
    PAPER = "paper", "Paper or blotter"
    PLANT = "plant", "Plant material"
    RESIDUE = "residue", "Residue (used equipment)"
    OTHER = "other", "Other"


class Sample(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=40, unique=True)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="samples")
    date = models.DateField("date collected", null=True, blank=True, db_index=True)
    expected = models.ManyToManyField(Substance, blank=True, related_name="+")
    expected_as_said = models.CharField(
        "expected, in the person's words", max_length=200, blank=True
    )
    expected_unknown = models.BooleanField("did not know what it was", default=False)
    form = models.CharField(max_length=10, choices=SampleForm.choices, blank=True)
    colour = models.CharField(max_length=60, blank=True)
    markings = models.CharField("markings or logo", max_length=80, blank=True)
    region = models.CharField("region where it was obtained", max_length=80, blank=True)
    used_already = models.CharField(
        max_length=7, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    effects = models.CharField("unexpected effects", max_length=300, blank=True)
    overdose = models.CharField(
        "involved in an overdose",
        max_length=7,
        choices=YesNoUnknown.choices,
        default=YesNoUnknown.UNKNOWN,
    )
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="samples"
    )
    source = models.CharField(max_length=20, default="harbour")  # e.g. "unc" for imports
    given_back_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-created_at"]

    def __str__(self) -> str:
        return self.number


class SamplePhoto(models.Model):
    """A picture of the sample, re-encoded so no camera metadata (place, device) survives."""

    sample = models.OneToOneField(Sample, on_delete=models.CASCADE, related_name="photo")
    jpeg = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"Picture of sample {self.sample_id}"


class Method(models.TextChoices):
    STRIP = "strip", "Test strip"
    FTIR = "ftir", "FTIR spectrometer"
    LAB = "lab", "Laboratory (e.g. GC-MS)"
    OTHER = "other", "Other method"


class StripTarget(models.TextChoices):
    FENTANYL = "fentanyl", "Fentanyl"
    BENZODIAZEPINE = "benzodiazepine", "Benzodiazepine"
    XYLAZINE = "xylazine", "Xylazine"
    NITAZENE = "nitazene", "Nitazene"


class StripOutcome(models.TextChoices):
    POSITIVE = "positive", "Positive: found"
    NEGATIVE = "negative", "Negative: not found"
    INVALID = "invalid", "Invalid: the strip did not work"


class Analysis(models.Model):
    """One method's result for a sample: a strip, an FTIR reading or a laboratory report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="analyses")
    method = models.CharField(max_length=8, choices=Method.choices)
    date = models.DateField(null=True, blank=True)
    technique = models.CharField(max_length=40, blank=True)  # e.g. "GC-MS"
    strip_target = models.CharField(max_length=16, choices=StripTarget.choices, blank=True)
    strip_outcome = models.CharField(max_length=8, choices=StripOutcome.choices, blank=True)
    # An import's own key for this analysis, so a second import updates instead of adding.
    source_key = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["date", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "source_key"],
                condition=~models.Q(source_key=""),
                name="analysis_source_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} of sample {self.sample_id}"


class FindingRole(models.TextChoices):
    PRIMARY = "primary", "Main component"
    TRACE = "trace", "Trace"


class Finding(models.Model):
    """A substance a method found in a sample."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="findings")
    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="findings")
    reported_as = models.CharField(max_length=120, blank=True)  # the method's own name for it
    role = models.CharField(max_length=8, choices=FindingRole.choices, default=FindingRole.PRIMARY)
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["analysis", "substance"], name="finding_unique")
        ]

    def __str__(self) -> str:
        return f"{self.substance_id} ({self.role})"


class Rule(models.TextChoices):
    UNEXPECTED = "unexpected", "Found where it was not expected"
    NEW_SUBSTANCE = "new_substance", "New to the programme"
    CONCENTRATION = "concentration", "Stronger than the threshold"
    CLUSTER = "cluster", "Several samples in one region"


class AlertStatus(models.TextChoices):
    DRAFT = "draft", "Awaiting review"
    PUBLISHED = "published", "Sent"
    DISMISSED = "dismissed", "Not sent"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = (AlertStatus.DRAFT, AlertStatus.PUBLISHED)


class Alert(models.Model):
    """A warning about the supply, raised by a rule and sent only once a reviewer agrees."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rule = models.CharField(max_length=14, choices=Rule.choices)
    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="alerts")
    region = models.CharField(max_length=80, blank=True)
    status = models.CharField(
        max_length=10, choices=AlertStatus.choices, default=AlertStatus.DRAFT, db_index=True
    )
    title = models.CharField(max_length=160)
    message = models.TextField()
    photo_sample = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Signal(models.Model):
    """One rule firing on one sample for one substance: the evidence behind an alert."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="signals")
    rule = models.CharField(max_length=14, choices=Rule.choices)
    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sample", "rule", "substance"], name="signal_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.substance_id}"
