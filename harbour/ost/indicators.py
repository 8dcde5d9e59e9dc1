"""The OST indicators PRV.11–PRV.14, as the indicator definitions (version 1) fix them.

Every count is a set-based query aggregated in the database, so the same code serves
one site and a national programme (100,000 clients, 20,000 on OST with daily doses,
millions of contacts) on SQLite and PostgreSQL alike; Python only folds a handful of
grouped rows.

Each function takes the period's first and last day, S and E (both inclusive), and
``site_ids``: ``None`` for the whole programme, or the ids of a site and every site
below it (see ``sites_below``). An OST episode counts for the site where it is held;
a record of a client counts for the site where it was made.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from typing import Any, TypeVar

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least

from harbour.clients.models import Client, Gender, YesNoUnknown
from harbour.lib.periods import six_months_earlier
from harbour.ost.models import Dose, Episode, Medication, Phase
from harbour.sites.models import Site, descendants_map
from harbour.testing.models import Test, Treatment
from harbour.visits.models import Contact

SiteIds = AbstractSet[int] | None
M = TypeVar("M", bound=Model)

AGE_GROUPS = ("<25", "25+", "unknown")
# PRV.14's thresholds are part of the indicator definition, not the clinical setting
# in ost.services: a change here is a new version of the definitions.
ADEQUATE_MG = {Medication.METHADONE: Decimal("60"), Medication.BUPRENORPHINE: Decimal("8")}
RETAINED_FOR = dt.timedelta(days=182)
DAYS_PER_YEAR = Decimal("365.25")


# --- shared pieces ----------------------------------------------------------------


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator to 4 decimals, halves rounding up; None without a denominator."""
    if not denominator:
        return None
    exact = Decimal(numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def fraction(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": ratio(numerator, denominator),
    }


def sites_below(code: str) -> set[int]:
    """The ids of the site with this code and of every site below it."""
    site_id = Site.objects.filter(code=code).values_list("pk", flat=True).first()
    if site_id is None:
        raise ValueError(f"There is no site with the code {code!r}.")
    return set(descendants_map().get(site_id, {site_id}))


def at_sites(queryset: QuerySet[M], site_ids: SiteIds, field: str = "site_id") -> QuerySet[M]:
    if site_ids is None:
        return queryset
    return queryset.filter(**{f"{field}__in": site_ids})


def age_group(year: int, birth_year: str = "birth_year") -> Case:
    """A client's age group at the period: E's year minus birth_year, `<25`, `25+` or `unknown`.

    ``birth_year`` names the field, e.g. ``client__birth_year`` from a related model.
    """
    return Case(
        When(**{f"{birth_year}__isnull": True}, then=Value("unknown")),
        # year - birth_year < 25, so someone turning 25 in E's year is 25+.
        When(**{f"{birth_year}__gt": year - 25}, then=Value("<25")),
        default=Value("25+"),
        output_field=CharField(),
    )


def age_of(birth_year: int | None, year: int) -> str:
    """``age_group`` in Python, for rows already grouped by birth year: the same rule."""
    if birth_year is None:
        return "unknown"
    return "<25" if birth_year > year - 25 else "25+"


# --- on OST -----------------------------------------------------------------------


def episodes_running_on(day: dt.date, site_ids: SiteIds = None) -> QuerySet[Episode]:
    """Episodes with start_date ≤ day and (end_date blank or end_date ≥ day)."""
    running = Episode.objects.filter(start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=day)
    )
    return at_sites(running, site_ids)


def on_ost_at(day: dt.date, site_ids: SiteIds = None) -> QuerySet[Any, Any]:
    """The ids of the clients on OST at ``day``: iterate it, or use it as a subquery."""
    return (
        episodes_running_on(day, site_ids).order_by().values_list("client_id", flat=True).distinct()
    )


# --- active clients ---------------------------------------------------------------

# One source of "records of a client": (S, E, site_ids) → the records dated in [S, E]
# at those sites, as a queryset of a model with a ``client`` foreign key.
RecordSource = Callable[[dt.date, dt.date, SiteIds], QuerySet[Any, Any]]


def contact_records(start: dt.date, end: dt.date, site_ids: SiteIds) -> QuerySet[Contact]:
    """Non-anonymous contacts: an anonymous contact has no client to make active."""
    contacts = Contact.objects.filter(date__range=(start, end), client__isnull=False)
    return at_sites(contacts, site_ids)


def dose_records(start: dt.date, end: dt.date, site_ids: SiteIds) -> QuerySet[Dose]:
    """OST doses taken (observed or taken home): a missed dose is not a record."""
    doses = Dose.objects.filter(date__range=(start, end)).exclude(taken=Dose.Taken.MISSED)
    return at_sites(doses, site_ids)


def test_records(start: dt.date, end: dt.date, site_ids: SiteIds) -> QuerySet[Test]:
    """Tests dated in the period (any result: the person came and was tested)."""
    return at_sites(Test.objects.filter(date__range=(start, end)), site_ids)


def treatment_records(start: dt.date, end: dt.date, site_ids: SiteIds) -> QuerySet[Treatment]:
    """Treatment starts dated in the period."""
    return at_sites(Treatment.objects.filter(start_date__range=(start, end)), site_ids)


# The spec's "record of a client": a non-anonymous contact, an OST dose not missed,
# a test, or a treatment start. A new kind of record joins every indicator on active
# clients by being appended here.
RECORD_SOURCES: list[RecordSource] = [
    contact_records,
    dose_records,
    test_records,
    treatment_records,
]


def active_client_ids(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> QuerySet[Any, Any]:
    """The ids of the clients with a record in [S, E] at the sites: one UNION query.

    Use it as ``pk__in=`` in a filter joined by AND, which both databases run as a
    semi-join, reading each source once by date (and site): the shape for a site,
    whose records are few. For the whole programme ``active`` asks each client
    instead. Not under an OR: PostgreSQL cannot hash millions of contacts there and
    rescans them for every client.
    """
    ids = [
        source(start, end, site_ids).order_by().values_list("client_id", flat=True)
        for source in RECORD_SOURCES
    ]
    if not ids:
        return Client.objects.none().values_list("pk", flat=True)
    return ids[0].union(*ids[1:])


def active(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> Q:
    """A filter on clients: a record in [S, E] at the sites (see ``RECORD_SOURCES``).

    For a site (or region), the ids of ``active_client_ids``: a semi-join that reads
    the sites' records of the period, however many clients the programme has. For the
    whole programme, each client is asked instead, source after source until one has
    a record (an EXISTS per source, joined by OR): one index probe per client and
    source on the (client, date) indexes, so the cost follows the number of clients,
    not the millions of contacts and doses of a national year, which a semi-join
    would read and sort. (With a site filter a probe would walk the client's records
    elsewhere, which is why a site keeps the semi-join.)
    """
    if site_ids is not None:
        return Q(pk__in=active_client_ids(start, end, site_ids))
    asks = [
        Q(Exists(source(start, end, None).filter(client_id=OuterRef("pk"))))
        for source in RECORD_SOURCES
    ]
    return reduce(operator.or_, asks) if asks else Q(pk__in=[])


def active_clients(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> QuerySet[Client]:
    return Client.objects.filter(active(start, end, site_ids))


# --- PRV.11 OST coverage ----------------------------------------------------------


def prv11(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> dict[str, Any]:
    """Clients on OST at E / clients active with opioid_dependent yes, or on OST at E,
    with ``by`` gender and age group (see ``by_gender_and_age``).

    The people on OST at E are a few thousand ids, hashed once. For a site, the
    denominator is one semi-join on a UNION of ids (never an IN under an OR, which
    PostgreSQL hashes only while it fits in work_mem); for the whole programme each
    client is asked whether they are active, as ``active`` does.
    """
    on_ost = on_ost_at(end, site_ids)
    dependent = Q(opioid_dependent=YesNoUnknown.YES)
    if site_ids is None:
        among = Client.objects.filter(Q(pk__in=on_ost) | dependent & active(start, end))
    else:
        dependent_and_active = (
            active_clients(start, end, site_ids)
            .filter(dependent)
            .order_by()
            .values_list("pk", flat=True)
        )
        among = Client.objects.filter(pk__in=dependent_and_active.union(on_ost))
    rows = (
        among.order_by()
        .annotate(age=age_group(end.year))
        .values("gender", "age")
        .annotate(numerator=Count("pk", filter=Q(pk__in=on_ost)), denominator=Count("pk"))
    )
    return by_gender_and_age(rows)


def by_gender_and_age(
    rows: Iterable[Mapping[str, Any]], numerator: str = "numerator"
) -> dict[str, Any]:
    """Fold rows grouped by ``gender`` and ``age`` into the whole and its ``by`` groups.

    Each row holds a group's ``denominator`` and its count named ``numerator``; a
    query can count several numerators over one denominator and be folded once per
    numerator. ``by`` always lists every gender value and age group, so the shape is
    stable; a group nobody falls in has 0 / 0 and value None.
    """
    whole = [0, 0]
    genders: dict[str, list[int]] = {value: [0, 0] for value in Gender.values}
    ages: dict[str, list[int]] = {group: [0, 0] for group in AGE_GROUPS}
    for row in rows:
        for tally in (whole, genders.setdefault(row["gender"], [0, 0]), ages[row["age"]]):
            tally[0] += row[numerator]
            tally[1] += row["denominator"]
    return {
        **fraction(*whole),
        "by": {
            "gender": {key: fraction(*tally) for key, tally in genders.items()},
            "age": {key: fraction(*tally) for key, tally in ages.items()},
        },
    }


def prv11_population(
    start: dt.date, end: dt.date, site_ids: SiteIds, estimate: int | None
) -> dict[str, Any] | None:
    """PRV.11's numerator over the `opioid_dependent` estimate for E's year.

    The caller looks the estimate up (programme or site level); None when no estimate
    was entered, and the key is then left out of the output.
    """
    if estimate is None:
        return None
    return fraction(on_ost_at(end, site_ids).count(), estimate)


# --- PRV.12 person-years on OST ---------------------------------------------------


def ost_days(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> int:
    """The days of all episodes inside [S, E], ends inclusive; a blank end_date runs past E."""
    overlapping = at_sites(
        Episode.objects.filter(start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        # An end before the start is a data error, not a negative stay.
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=F("start_date"))),
        site_ids,
    )
    first = Greatest("start_date", Value(start), output_field=DateField())
    last = Least(Coalesce("end_date", Value(end)), Value(end), output_field=DateField())
    totals = overlapping.order_by().aggregate(
        spans=Sum(ExpressionWrapper(last - first, output_field=DurationField())),
        episodes=Count("pk"),
    )
    spans: dt.timedelta = totals["spans"] or dt.timedelta()
    # last − first counts the nights; each episode also holds its first day.
    return spans.days + totals["episodes"]


def prv12(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> dict[str, float]:
    """Person-years on OST in [S, E]: days / 365.25, to 2 decimals (halves round up)."""
    years = Decimal(ost_days(start, end, site_ids)) / DAYS_PER_YEAR
    return {"value": float(years.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))}


# --- PRV.13 retention at 6 months -------------------------------------------------


def prv13(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> dict[str, Any]:
    """Cohort episodes still running 182 days after their start / the cohort.

    The cohort is the episodes that started in the same-length period six calendar
    months earlier (2025Q1 → 2024-07-01..2024-09-30).
    """
    cohort_start, cohort_end = six_months_earlier(start, end)
    cohort = at_sites(
        Episode.objects.filter(start_date__range=(cohort_start, cohort_end)), site_ids
    )
    totals = (
        cohort.order_by()
        .annotate(
            ran=ExpressionWrapper(F("end_date") - F("start_date"), output_field=DurationField())
        )
        .aggregate(
            denominator=Count("pk"),
            numerator=Count("pk", filter=Q(end_date__isnull=True) | Q(ran__gte=RETAINED_FOR)),
        )
    )
    return fraction(totals["numerator"], totals["denominator"])


# --- PRV.14 adequate maintenance dose ---------------------------------------------


def latest_doses(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> QuerySet[Dose]:
    """Each client on OST at E's latest not-missed dose dated in [S, E].

    The dose is the client's, wherever it was given (a guest dose at another site is
    still their dose); the site filter chooses the clients, by their episode's site.
    When two doses share the latest date, the one recorded later is judged: a second
    dose on a day is a clinician's justified addition to the first. The id only makes
    the choice total should two share recorded_at as well.
    """
    latest = (
        Dose.objects.filter(client=OuterRef("pk"), date__range=(start, end))
        .exclude(taken=Dose.Taken.MISSED)
        .order_by("-date", "-recorded_at", "-pk")
        .values("pk")[:1]
    )
    judged = (
        Client.objects.filter(pk__in=on_ost_at(end, site_ids))
        .order_by()
        .annotate(dose=Subquery(latest))
        .values("dose")
    )
    return Dose.objects.filter(pk__in=judged)


def prv14(start: dt.date, end: dt.date, site_ids: SiteIds = None) -> dict[str, Any]:
    """Clients whose judged dose is adequate / clients on OST at E whose latest dose in
    the period is a maintenance dose of methadone or buprenorphine."""
    maintenance = Q(phase=Phase.MAINTENANCE, medication__in=list(ADEQUATE_MG))
    adequate = reduce(
        operator.or_,
        (Q(medication=medication, dose_mg__gte=mg) for medication, mg in ADEQUATE_MG.items()),
    )
    totals = (
        latest_doses(start, end, site_ids)
        .order_by()
        .aggregate(
            denominator=Count("pk", filter=maintenance),
            numerator=Count("pk", filter=maintenance & adequate),
        )
    )
    return fraction(totals["numerator"], totals["denominator"])
