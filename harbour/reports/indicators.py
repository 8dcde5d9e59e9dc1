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
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from harbour.clients.models import Client, YesNoUnknown
from harbour.lib.periods import parse_period
from harbour.ost.indicators import (
    SiteIds,
    active,
    active_client_ids,
    age_group,
    age_of,
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
from harbour.visits.models import CatalogueItem, Contact, Distribution, Overdose

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

    # What was handed out, client by client, in one pass over the period's N/S.
    passed = needle_syringe_pass(start, end, site_ids, months=found.months)
    pwid = pwid_indicators(start, end, site_ids, months=found.months, passed=passed)
    handed = handed_out(start, end, site_ids, passed=passed)
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


# --- N/S client by client: PRV.8's and PRV.9's numerators, PRV.10 ------------------


@dataclass(frozen=True)
class NeedleSyringes:
    """The period's N/S at the sites, from ``needle_syringe_pass``."""

    # {(gender, age group, injects): (clients who received N/S, of them on at least
    # ``months`` distinct dates)}
    groups: dict[tuple[str, str, str], tuple[int, int]]
    needle_syringes: int  # the quantity, anonymous contacts and secondary distribution included
    receivers: int  # distinct clients who received N/S

    def pwid(self, column: int) -> dict[tuple[str, str], int]:
        """PWID clients who received N/S (column 0), or received them regularly (1),
        by (gender, age group)."""
        counts: dict[tuple[str, str], int] = {}
        for (gender, age, injects), values in self.groups.items():
            if injects == YesNoUnknown.YES:
                counts[(gender, age)] = counts.get((gender, age), 0) + values[column]
        return counts


def item_id(code: str) -> int | None:
    """The catalogue item's id, looked up first: filtering on the id rather than joining
    the catalogue by code lets PostgreSQL plan with that item's own statistics (N/S
    are a third of all lines, naloxone kits one in sixty), and hash the contacts when
    there are many rather than look them up one by one."""
    return CatalogueItem.objects.filter(code=code).values_list("pk", flat=True).first()


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


def needle_syringe_pass(
    start: dt.date, end: dt.date, site_ids: SiteIds = None, *, months: int
) -> NeedleSyringes:
    """The period's N/S at the sites, client by client, in one pass.

    The N/S lines of the contacts dated in [S, E] at the sites (quantity > 0), read
    once: grouped by client (the distinct dates and the quantity; anonymous contacts
    are the group without a client), then by the client's gender, birth year and
    injecting, so a few hundred rows come back whatever the size of the programme.
    Reading the lines once serves PRV.8's and PRV.9's numerators and both terms of
    PRV.10; asking each client instead would walk, for every client who never takes
    N/S, all their contacts of the period.

    The inner grouping is the ORM's; the outer one is written out (SQL has no other
    way to aggregate an aggregate), and folds birth years into age groups in Python
    (``age_of``, the same rule as ``age_group``).
    """
    item = item_id(NEEDLE_SYRINGE)
    if item is None:
        return NeedleSyringes({}, 0, 0)
    per_client = (
        at_sites(
            Distribution.objects.filter(
                item_id=item, quantity__gt=0, contact__date__range=(start, end)
            ),
            site_ids,
            "contact__site_id",
        )
        .order_by()
        .values(client=F("contact__client_id"))
        .annotate(days=Count("contact__date", distinct=True), quantity=Sum("quantity"))
    )
    inner, params = per_client.query.sql_with_params()
    quote = connection.ops.quote_name
    meta = Client._meta
    columns = {f.name: str(f.column) for f in meta.concrete_fields}
    gender, birth_year, injects, pk = (
        quote(columns[name]) for name in ("gender", "birth_year", "injects", "id")
    )
    # Quoted names and the ORM's SQL; every value is a parameter.
    sql = (
        f"SELECT k.{gender}, k.{birth_year}, k.{injects}, COUNT(k.{pk}), "  # noqa: S608
        f"SUM(CASE WHEN k.{pk} IS NOT NULL AND x.days >= %s THEN 1 ELSE 0 END), "
        f"SUM(x.quantity) "
        f"FROM ({inner}) x LEFT JOIN {quote(meta.db_table)} k ON k.{pk} = x.{quote('client')} "
        f"GROUP BY k.{gender}, k.{birth_year}, k.{injects}"
    )
    groups: dict[tuple[str, str, str], tuple[int, int]] = {}
    quantity = receivers = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [months, *params])
        for row_gender, row_birth_year, row_injects, clients, regular, ns in cursor.fetchall():
            quantity += int(ns or 0)
            if not clients:
                continue  # the anonymous contacts: N/S, but nobody to count
            receivers += clients
            key = (row_gender, age_of(row_birth_year, end.year), row_injects)
            before = groups.get(key, (0, 0))
            groups[key] = (before[0] + clients, before[1] + (regular or 0))
    return NeedleSyringes(groups, quantity, receivers)


# --- PRV.8, PRV.9 and HTS.PWID: active PWID clients -------------------------------


def pwid_indicators(
    start: dt.date,
    end: dt.date,
    site_ids: SiteIds = None,
    *,
    months: int,
    passed: NeedleSyringes | None = None,
) -> dict[str, Any]:
    """PRV.8, PRV.9 and HTS.PWID, whose denominator is the same: active PWID clients.

    - PRV.8: received N/S in a contact in the period;
    - PRV.9: N/S on at least ``months`` distinct contact dates in the period (the
      calendar months of the period: 3 for a quarter, 1 for a month, 12 for a year);
    - HTS.PWID: an ``hiv`` test with result positive or negative in the period.

    A contact with N/S and a test are records of the client, made at the sites in the
    period: whoever has one is active there, so each numerator is counted on its own
    records alone (the N/S ones in ``needle_syringe_pass``, or ``passed``), with no
    second pass over every record of the period.

    The denominator and the tested: for a site, semi-joins (``pk IN (…)`` joined by
    AND) on the site's records of the period, which both databases run with one hash
    of the subquery however many rows it has (a ``COUNT(…) FILTER (WHERE pk IN (…))``
    would be hashed by PostgreSQL only while the subquery fits in work_mem). For the
    whole programme, whose year holds millions of contacts and doses, each PWID client
    is asked instead, in one grouped query (see ``active``).
    """
    passed = passed or needle_syringe_pass(start, end, site_ids, months=months)
    tests = hiv_tests(start, end, site_ids)
    pwid = Client.objects.filter(injects=YesNoUnknown.YES)
    if site_ids is None:
        asked = (
            pwid.filter(active(start, end))
            .order_by()
            .annotate(age=age_group(end.year))
            .values_list("gender", "age")
            .annotate(
                denominator=Count("pk"),
                tested=Count("pk", filter=Q(Exists(tests.filter(client_id=OuterRef("pk"))))),
            )
        )
        denominator = {(g, a): n for g, a, n, _ in asked}
        tested = {(g, a): t for g, a, _, t in asked}
    else:
        denominator = _by_group(pwid.filter(pk__in=active_client_ids(start, end, site_ids)), end)
        tested = _by_group(pwid.filter(pk__in=tests.values("client_id")), end)
    numerators = {"received": passed.pwid(0), "tested": tested}
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
        "PRV.9": fraction(sum(passed.pwid(1).values()), sum(denominator.values())),
        "HTS.PWID": by_gender_and_age(rows, "tested"),
    }


def hiv_tests(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> QuerySet[Test]:
    """HTS.PWID's tests: ``hiv``, with a conclusive result, in [S, E] at the sites."""
    tests = Test.objects.filter(test=TestType.HIV, result__in=CONCLUSIVE, date__range=(start, end))
    return at_sites(tests, site_ids).order_by()


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


def handed_out(
    start: dt.date,
    end: dt.date,
    site_ids: SiteIds = None,
    *,
    passed: NeedleSyringes | None = None,
) -> dict[str, int]:
    """What was handed out in contacts dated in [S, E] at the sites.

    ``needle_syringes`` and ``naloxone_kits``: total quantities, anonymous contacts
    and secondary distribution included (PRV.10's numerator, NALOXONE.kits);
    ``received_needle_syringes``: the distinct clients who received N/S (PRV.10's
    denominator; an anonymous contact has no client to count). The N/S come from
    ``needle_syringe_pass`` (or ``passed``), the kits from one sum.
    """
    passed = passed or needle_syringe_pass(start, end, site_ids, months=1)
    kits = at_sites(
        Distribution.objects.filter(
            contact__date__range=(start, end), item_id=item_id(NALOXONE_KIT), quantity__gt=0
        ),
        site_ids,
        "contact__site_id",
    ).aggregate(total=Sum("quantity"))["total"]
    return {
        "needle_syringes": passed.needle_syringes,
        "received_needle_syringes": passed.receivers,
        "naloxone_kits": kits or 0,  # a sum over no rows is NULL
    }


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
