"""Every indicator of the definitions (version 1) for one period: ``compute``.

``compute("2025Q1", "NTH-01")`` returns the JSON object that ``harbour indicators``
prints (shared/spec/indicators.md, "Output"). The OST indicators (PRV.11–PRV.14) and
the shared pieces ("record of a client", age groups, rounding, the site filter) are
harbour.ost.indicators'; the cascades are harbour.testing.cascades'. This module adds
the needle and syringe, HIV testing, naloxone and overdose indicators and puts them
all together.

Like those, every figure is a set-based query aggregated in the database (counts of
distinct clients, conditional aggregation, subqueries used as semi-joins), so one
site and a national programme (100,000 clients, 10 million contacts) run the same
code: no loop over clients or contacts in Python, no list of ids built in Python.

Site scope, with ``--site``: the site and every site below it. A record counts for
the site where it was made (a contact, what was handed out in it, a test, an
overdose), an OST episode for the site where it is held; the cascades count the
people registered at or linked to those sites (see harbour.testing.cascades). The
population estimates are that site's own, for E's year; without ``--site``, the
programme's (an estimate with no site).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from harbour.clients.models import Client, YesNoUnknown
from harbour.lib.periods import parse_period
from harbour.ost.indicators import (
    SiteIds,
    active_client_ids,
    age_group,
    at_sites,
    by_gender_and_age,
    fraction,
    prv11,
    prv11_population,
    prv12,
    prv13,
    prv14,
    sites_below,
)
from harbour.reports.models import Population, PopulationEstimate
from harbour.testing.cascades import hcv_cascade, hiv_cascade
from harbour.testing.models import Result, Test, TestType
from harbour.visits.models import Contact, Distribution, Overdose

NEEDLE_SYRINGE = "needle_syringe"
NALOXONE_KIT = "naloxone_kit"
# HTS.PWID: a test with a result the person can act on; not indeterminate, invalid or awaited.
CONCLUSIVE = (Result.POSITIVE, Result.NEGATIVE)


class IndicatorError(ValueError):
    """A period or site the indicators cannot be computed for; the message says why."""


class PeriodError(IndicatorError):
    pass


class SiteError(IndicatorError):
    pass


def compute(period: str, site_code: str | None = None) -> dict[str, Any]:
    """Every indicator for the DHIS2 ``period`` at ``site_code`` and below (None: all).

    Raises PeriodError for a period that is not one, SiteError for an unknown site.
    Every key of the definitions is present, except the population keys
    (PRV.10.population, PRV.11.population) when no estimate was entered.
    """
    try:
        found = parse_period(period)
    except ValueError as exc:
        raise PeriodError(str(exc)) from None
    site_ids: SiteIds = None
    if site_code is not None:
        try:
            site_ids = sites_below(site_code)
        except ValueError as exc:
            raise SiteError(str(exc)) from None
    start, end = found.start, found.end

    pwid = pwid_indicators(start, end, site_ids, months=found.months)
    handed = handed_out(start, end, site_ids)
    estimates = population_estimates(end.year, site_code)
    overdoses = overdose_counts(start, end, site_ids)

    indicators: dict[str, Any] = {
        "PRV.8": pwid["PRV.8"],
        "PRV.9": pwid["PRV.9"],
        "PRV.10": fraction(handed["needle_syringes"], handed["received_needle_syringes"]),
    }
    pwid_estimate = estimates.get(Population.PWID)
    if pwid_estimate is not None:
        indicators["PRV.10.population"] = fraction(handed["needle_syringes"], pwid_estimate)
    indicators["PRV.11"] = prv11(start, end, site_ids)
    on_ost = prv11_population(start, end, site_ids, estimates.get(Population.OPIOID_DEPENDENT))
    if on_ost is not None:
        indicators["PRV.11.population"] = on_ost
    indicators.update(
        {
            "PRV.12": prv12(start, end, site_ids),
            "PRV.13": prv13(start, end, site_ids),
            "PRV.14": prv14(start, end, site_ids),
            "HTS.PWID": pwid["HTS.PWID"],
            "NALOXONE.kits": {"value": handed["naloxone_kits"]},
            "OVERDOSE.reported": {"value": overdoses["reported"]},
            "OVERDOSE.reversed": {"value": overdoses["reversed"]},
            "HIV.cascade": hiv_cascade(end, site_ids),
            "HCV.cascade": hcv_cascade(end, site_ids),
        }
    )
    return {
        "period": found.code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "site": site_code,
        "indicators": indicators,
    }


# --- PRV.8, PRV.9 and HTS.PWID: active PWID clients -------------------------------


def needle_syringe_contacts(
    start: dt.date, end: dt.date, site_ids: SiteIds = None
) -> QuerySet[Contact]:
    """Non-anonymous contacts in [S, E] at the sites in which N/S was handed out.

    Secondary distribution included: the client received the N/S in the contact,
    whoever they then passed it on to.
    """
    contacts = Contact.objects.filter(
        date__range=(start, end),
        client__isnull=False,
        # One filter call: the same distribution row is N/S and has a quantity.
        distributions__item__code=NEEDLE_SYRINGE,
        distributions__quantity__gt=0,
    )
    return at_sites(contacts, site_ids).order_by()


def pwid_indicators(
    start: dt.date, end: dt.date, site_ids: SiteIds = None, *, months: int
) -> dict[str, Any]:
    """PRV.8, PRV.9 and HTS.PWID, whose denominator is the same: active PWID clients.

    - PRV.8: received N/S in a contact in the period;
    - PRV.9: N/S on at least ``months`` distinct contact dates in the period (the
      calendar months of the period: 3 for a quarter, 1 for a month, 12 for a year);
    - HTS.PWID: an ``hiv`` test with result positive or negative in the period.

    A contact with N/S and a test are records of the client, made at the sites in the
    period: whoever has one is active there, so each numerator is counted on its own
    records alone, with no second pass over every record of the period. Each count
    is a semi-join (``pk IN (…)`` joined by AND), which both databases run with one
    hash of the subquery however many rows it has; a ``COUNT(…) FILTER (WHERE pk IN
    (…))`` would be hashed by PostgreSQL only while the subquery fits in work_mem.
    """
    contacts = needle_syringe_contacts(start, end, site_ids)
    received = contacts.values("client_id")
    regular = (
        contacts.values("client_id")
        .annotate(days=Count("date", distinct=True))
        .filter(days__gte=months)
        .values("client_id")
    )
    tested = (
        at_sites(
            Test.objects.filter(test=TestType.HIV, result__in=CONCLUSIVE, date__range=(start, end)),
            site_ids,
        )
        .order_by()
        .values("client_id")
    )
    pwid = Client.objects.filter(injects=YesNoUnknown.YES)
    denominator = _by_group(pwid.filter(pk__in=active_client_ids(start, end, site_ids)), end)
    numerators = {
        "received": _by_group(pwid.filter(pk__in=received), end),
        "tested": _by_group(pwid.filter(pk__in=tested), end),
    }
    groups = set(denominator).union(*numerators.values())
    rows = [
        {
            "gender": gender,
            "age": age,
            "denominator": denominator.get((gender, age), 0),
            **{name: counts.get((gender, age), 0) for name, counts in numerators.items()},
        }
        for gender, age in groups
    ]
    return {
        "PRV.8": by_gender_and_age(rows, "received"),
        "PRV.9": fraction(pwid.filter(pk__in=regular).count(), sum(denominator.values())),
        "HTS.PWID": by_gender_and_age(rows, "tested"),
    }


def _by_group(clients: QuerySet[Client], end: dt.date) -> dict[tuple[str, str], int]:
    """The number of ``clients`` in each (gender, age group), from one grouped query."""
    rows = (
        clients.order_by()
        .annotate(age=age_group(end.year))
        .values_list("gender", "age")
        .annotate(n=Count("pk"))
    )
    return {(gender, age): n for gender, age, n in rows}


# --- PRV.10 and NALOXONE.kits: what was handed out --------------------------------


def handed_out(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> dict[str, int]:
    """What was handed out in contacts dated in [S, E] at the sites, in one query.

    ``needle_syringes`` and ``naloxone_kits``: total quantities, anonymous contacts
    and secondary distribution included (PRV.10's numerator, NALOXONE.kits);
    ``received_needle_syringes``: the distinct clients who received N/S (PRV.10's
    denominator; an anonymous contact has no client to count).
    """
    rows = at_sites(
        Distribution.objects.filter(
            contact__date__range=(start, end),
            item__code__in=(NEEDLE_SYRINGE, NALOXONE_KIT),
            quantity__gt=0,
        ),
        site_ids,
        "contact__site_id",
    )
    needle_syringe = Q(item__code=NEEDLE_SYRINGE)
    totals = rows.order_by().aggregate(
        needle_syringes=Sum("quantity", filter=needle_syringe),
        received_needle_syringes=Count("contact__client_id", distinct=True, filter=needle_syringe),
        naloxone_kits=Sum("quantity", filter=Q(item__code=NALOXONE_KIT)),
    )
    # A sum over no rows is NULL.
    return {key: value or 0 for key, value in totals.items()}


# --- OVERDOSE.reported and OVERDOSE.reversed --------------------------------------


def overdose_counts(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> dict[str, int]:
    """Overdoses dated in [S, E] at the sites; reversed: naloxone given and survived."""
    return at_sites(Overdose.objects.filter(date__range=(start, end)), site_ids).aggregate(
        reported=Count("pk"),
        reversed=Count("pk", filter=Q(naloxone_doses__gt=0, outcome=Overdose.Outcome.SURVIVED)),
    )


# --- population estimates ---------------------------------------------------------


def population_estimates(year: int, site_code: str | None = None) -> dict[str, int]:
    """{population: estimate} entered for ``year``: the site's, or the programme's.

    Only the estimate entered for exactly that level is used: a site without one has
    no population keys, even if the programme or the sites below it have estimates.
    """
    estimates = PopulationEstimate.objects.filter(year=year)
    if site_code is None:
        estimates = estimates.filter(site__isnull=True)
    else:
        estimates = estimates.filter(site__code=site_code)
    return dict(estimates.values_list("population", "estimate"))
