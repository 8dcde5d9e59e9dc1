"""Voluntary testing, treatment episodes and viral loads.

Each test keeps the WHO "5 Cs": consent, confidentiality (nothing here leaves the
record), counselling, a correct result (a reactive rapid test needs confirmation, and
the confirmation is linked to it) and connection (the referral or treatment that follows).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class TestType(models.TextChoices):
    HIV = "hiv", "HIV"
    HCV_ANTIBODY = "hcv_antibody", "Hepatitis C antibody"
    HCV_RNA = "hcv_rna", "Hepatitis C RNA"
    HBSAG = "hbsag", "Hepatitis B (HBsAg)"
    TB_SCREEN = "tb_screen", "TB symptom screen"


class Result(models.TextChoices):
    POSITIVE = "positive", "Positive (reactive)"
    NEGATIVE = "negative", "Negative"
    INDETERMINATE = "indeterminate", "Indeterminate"
    INVALID = "invalid", "Invalid"


class TestKind(models.TextChoices):
    RAPID = "rapid", "Rapid test"
    LABORATORY = "laboratory", "Laboratory test"
    SELF = "self", "Self-test"


class Condition(models.TextChoices):
    HIV = "hiv", "HIV"
    HCV = "hcv", "Hepatitis C"
    TB = "tb", "TB"


class Outcome(models.TextChoices):
    ONGOING = "ongoing", "Ongoing"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"
    TRANSFERRED = "transferred", "Transferred"
    DIED = "died", "Died"
    LOST = "lost", "Lost to follow-up"


class Test(models.Model):
    __test__ = False  # a model, not something for pytest to collect

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="tests")
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    date = models.DateField(db_index=True)
    test = models.CharField(max_length=14, choices=TestType.choices)
    kind = models.CharField(max_length=10, choices=TestKind.choices)
    # Blank while a laboratory result is awaited.
    result = models.CharField(max_length=14, choices=Result.choices, blank=True)
    consent = models.BooleanField(default=True)
    counselling = models.BooleanField("counselling given", default=False)
    # A reactive rapid or self-test is a screening result until a confirmation.
    needs_confirmation = models.BooleanField(default=False)
    confirms = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="confirmations"
    )
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["client", "test", "date"]),
            models.Index(fields=["site", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.test} {self.result or 'awaited'} {self.date}"


class Treatment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="treatments"
    )
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    condition = models.CharField(max_length=4, choices=Condition.choices)
    start_date = models.DateField(db_index=True)
    end_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.ONGOING)
    # On site, or the partner clinic that treats the person.
    provider = models.CharField(max_length=200, blank=True)
    reason = models.CharField("reason, when stopped or lost", max_length=200, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-start_date"]
        indexes = [models.Index(fields=["client", "condition", "start_date"])]

    def __str__(self) -> str:
        return f"{self.condition} treatment from {self.start_date}"


class ViralLoad(models.Model):
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="viral_loads"
    )
    date = models.DateField()
    condition = models.CharField(max_length=4, choices=[("hiv", "HIV"), ("hcv", "Hepatitis C")])
    copies_per_ml = models.PositiveBigIntegerField(help_text="0 means not detected.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        indexes = [models.Index(fields=["client", "condition", "date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "condition", "date"], name="viral_load_unique_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.condition} {self.copies_per_ml} on {self.date}"


class AdherenceSupport(models.Model):
    """Support to stay on treatment, often from a peer."""

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="support")
    date = models.DateField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    peer = models.BooleanField("given by a peer", default=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"support {self.date}"
