"""Changes to targets and population estimates, each audited."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from harbour.audit.services import record
from harbour.reports.capture import Estimate, whole
from harbour.reports.models import Population, PopulationEstimate, Target
from harbour.sites.models import Site


@dataclass(frozen=True)
class Thresholds:
    low: Decimal
    high: Decimal
    target: Decimal | None


def _text(number: Decimal | None) -> str | None:
    # Audit details are JSON: a Decimal goes in as its text, "200.00" as "200".
    return None if number is None else f"{number.normalize():f}"


def _numbers(low: Decimal, high: Decimal, target: Decimal | None) -> dict[str, str | None]:
    return {"low": _text(low), "high": _text(high), "target": _text(target)}


@transaction.atomic
def save_targets(actor: Any, wanted: dict[str, Thresholds]) -> list[str]:
    """Set the bands and targets of the indicators in ``wanted``; the keys changed.

    One audit entry per indicator that changed, with its numbers before and after.
    """
    changed: list[str] = []
    # Row locks: two administrators saving at once each see the other's numbers as "before".
    rows = Target.objects.select_for_update().filter(indicator__in=wanted)
    existing = {row.indicator: row for row in rows}
    for key, new in wanted.items():
        row = existing.get(key)
        before = (row.low, row.high, row.target) if row is not None else None
        if before == (new.low, new.high, new.target):
            continue
        if row is None:
            row = Target(indicator=key)
        row.low, row.high, row.target = new.low, new.high, new.target
        row.save()
        record(
            actor,
            "target.update",
            row,
            detail={
                "indicator": key,
                "before": None if before is None else _numbers(*before),
                "after": _numbers(new.low, new.high, new.target),
            },
        )
        changed.append(key)
    return changed


def record_capture_run(actor: Any, estimate: Estimate, lines: tuple[int, int]) -> None:
    """Note that lists of UICs were matched: the counts only, never a UIC or a pseudonym."""
    record(
        actor,
        "population.capture_recapture",
        object_type="capture_recapture",
        detail={
            "n1": estimate.n1,
            "n2": estimate.n2,
            "m": estimate.m,
            "lines": list(lines),
            "estimate": whole(estimate.n),
        },
    )


@transaction.atomic
def save_population_estimate(
    actor: Any, *, year: int, site: Site | None, estimate: Estimate
) -> tuple[PopulationEstimate, int | None]:
    """Keep a capture–recapture estimate as the PWID estimate for ``year`` and ``site``.

    Replaces an earlier estimate for the same year and site. Returns the estimate and
    the number it replaced (None if there was none). Audited with the counts it came
    from, never the lists.
    """
    people = whole(estimate.n)
    # Row lock: two saves for the same year and site apply one after the other, each
    # auditing the number it replaced (the unique constraints refuse a second creation).
    current = (
        # of=self: the model's ordering joins the (nullable) site, which PostgreSQL
        # cannot lock through.
        PopulationEstimate.objects.select_for_update(of=("self",))
        .filter(population=Population.PWID, year=year, site=site)
        .order_by("pk")
        .first()
    )
    previous = current.estimate if current is not None else None
    if current is None:
        current = PopulationEstimate.objects.create(
            population=Population.PWID, year=year, site=site, estimate=people
        )
    else:
        current.estimate = people
        current.save(update_fields=["estimate"])
    record(
        actor,
        "population_estimate.save",
        current,
        site=site,
        detail={
            "population": Population.PWID.value,
            "year": year,
            "site": site.code if site is not None else None,
            "estimate": people,
            "previous": previous,
            "method": "capture-recapture (Chapman)",
            "n1": estimate.n1,
            "n2": estimate.n2,
            "m": estimate.m,
            "lower": whole(estimate.lower),
            "upper": whole(estimate.upper),
        },
    )
    return current, previous
