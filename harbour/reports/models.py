"""Population size estimates, the denominators of PRV.10.population and PRV.11.population.

A programme enters them (or imports population_estimates.csv) from a size estimation
study or a national figure. One estimate per population, year and site; a blank site
is the whole programme.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models


class Population(models.TextChoices):
    PWID = "pwid", "People who inject drugs"
    OPIOID_DEPENDENT = "opioid_dependent", "People who are opioid dependent"


class PopulationEstimate(models.Model):
    population = models.CharField(max_length=20, choices=Population.choices)
    year = models.PositiveSmallIntegerField()
    # Blank: the estimate for the whole programme. A region may have one too.
    site = models.ForeignKey(
        "sites.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="population_estimates",
    )
    estimate = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["year", "population", "site"]
        constraints = [
            models.UniqueConstraint(
                fields=["population", "year", "site"],
                condition=models.Q(site__isnull=False),
                name="population_estimate_unique_per_site",
            ),
            # NULL is distinct from NULL in a unique index: the programme level needs its own.
            models.UniqueConstraint(
                fields=["population", "year"],
                condition=models.Q(site__isnull=True),
                name="population_estimate_unique_for_programme",
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site is not None else "whole programme"
        return f"{self.population} {self.year} {where}: {self.estimate}"


class Target(models.Model):
    """The coverage bands and the target of one indicator (harbour.reports.targets).

    A value below ``low`` is low coverage, above ``high`` high, and from ``low`` to
    ``high`` (both included) medium. Coverage indicators are in percent here (20 for
    20 %), so an administrator edits the numbers as the guidelines print them;
    counts per person are per year. The defaults come from a data migration; an
    indicator without a row uses the same defaults (harbour.reports.targets.DEFAULTS).
    """

    indicator = models.CharField(max_length=40, unique=True)
    low = models.DecimalField(max_digits=9, decimal_places=2, validators=[MinValueValidator(0)])
    high = models.DecimalField(max_digits=9, decimal_places=2, validators=[MinValueValidator(0)])
    target = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(low__lte=models.F("high")),
                name="target_low_not_above_high",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator}: low < {self.low} ≤ medium ≤ {self.high} < high"
