"""The HIV and hepatitis C cascades, as the indicator definitions (version 1) fix them.

Each cascade counts people, not records, as of a day E: every step is a subset of the
step before it ("of those"), so a person on ART who was never diagnosed in Harbour is
not counted on ART, and a person is counted once however many tests, treatments or
viral loads they have.

The first step is a set of client ids (a semi-join on the tests). Each later step is a
condition asked only of the people of the step before, through the (client, …, date)
indexes of tests, treatments and viral loads; a nested CASE gives each person the
number of steps they reached, and one grouped query (a row per step at most) counts
them. So the same code serves one site and a national programme (100,000 clients) on
SQLite and PostgreSQL alike, with no loop over people in Python, and no step asks again
what the steps before it asked.

Site scope. ``site_ids`` is ``None`` for the whole programme, or the ids of a site and
every site below it (``harbour.ost.indicators.sites_below``). A person belongs to the
cascade of those sites when they are registered there (``Client.site``) or linked to
one of them (``ClientLink``: the site has served them). A cascade is about people, and
a person's test or treatment is often done elsewhere (a partner clinic, another site
of the programme): counting by where each record was made would split one person's
path across sites, and they could be "on ART" at a site where they were never
"diagnosed". So once a person is in the site's cohort, all their tests, treatments
and viral loads count, wherever they were recorded. This is the same rule as the one
that lets a site's staff see a record (``access.client_scope``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from harbour.clients.models import Client, ClientLink
from harbour.ost.indicators import SiteIds
from harbour.testing.models import Condition, Outcome, Result, Test, TestType, Treatment, ViralLoad

# Part of the indicator definitions, not a clinical setting: a change is a new version.
ART_AT_LEAST = dt.timedelta(days=182)  # on ART for six months before suppression is judged
VIRAL_LOAD_WITHIN = dt.timedelta(days=365)  # the latest HIV viral load in (E − 365 days, E]
SUPPRESSED_BELOW = 1000  # copies/mL
CURE_AFTER = dt.timedelta(days=84)  # SVR12: hepatitis C not detected 12 weeks after the end

HIV_STEPS = ("diagnosed", "on_art", "suppressed")
HCV_STEPS = ("antibody_positive", "rna_tested", "rna_positive", "treated", "cured")

Ids = QuerySet[Any, Any]  # a values_list of client ids: iterate it, or use it in ``__in``
# The annotations the later steps read, given the name of the client id in the outer
# query ("pk" on clients, "client_id" on client links); applied in order, so a later
# group may read an earlier one.
Annotations = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Cascade:
    """A cascade as of E: the tests that put a person on its first step, and what each
    later step asks of the people of the step before it."""

    steps: tuple[str, ...]
    first: QuerySet[Test]  # a person with one of these tests is on the first step
    annotations: Annotations
    # One condition per step after the first, on the annotations; the annotations are
    # named apart from the steps, which name the counts.
    asks: tuple[Q, ...]

    def level(self) -> Case | Value:
        """How many steps a person reached, from 1 to len(steps).

        Nested CASEs: each condition is asked once per person, and only of those who
        met the ones before it. A condition that is NULL (no viral load, say) is not
        met. Counting each step with a FILTER of its own would ask every condition
        again for every later step.
        """
        reached: Case | Value = Value(len(self.steps))
        for depth in range(len(self.asks), 0, -1):
            reached = Case(
                When(self.asks[depth - 1], then=reached),
                default=Value(depth),
                output_field=IntegerField(),
            )
        return reached

    def _first_ids(self) -> Ids:
        return self.first.order_by().values_list("client_id")

    def _annotated(self, rows: QuerySet[Any], ref: str) -> QuerySet[Any]:
        for group in self.annotations(ref):
            rows = rows.annotate(**group)
        return rows.annotate(reached=self.level())

    def people(self, site_ids: SiteIds = None) -> QuerySet[Any]:
        """The first step's clients at the sites, each with ``reached``: the steps reached.

        (Clients, typed loosely so the type checker accepts the annotations' names.)
        """
        first = self.first
        among = clients_at(site_ids)
        if among is not None:
            first = first.filter(client_id__in=among)
        clients = Client.objects.filter(pk__in=first.order_by().values_list("client_id"))
        return self._annotated(clients.order_by(), "pk")

    def ids(self, step: str, site_ids: SiteIds = None) -> Ids:
        """The ids of the clients at the sites who reached ``step``."""
        return (
            self.people(site_ids)
            .filter(reached__gt=self.steps.index(step))
            .values_list("pk", flat=True)
        )

    def _fold(self, stopped_at: dict[int, int]) -> dict[str, int]:
        """{steps reached: people} → {step: people who reached it}."""
        return {
            step: sum(n for depth, n in stopped_at.items() if depth > index)
            for index, step in enumerate(self.steps)
        }

    def counts(self, site_ids: SiteIds = None) -> dict[str, int]:
        """Every step's number of people at the sites, from one grouped query."""
        rows = (
            self.people(site_ids)
            .values("reached")
            .annotate(people=Count("pk"))
            .values_list("reached", "people")
        )
        return self._fold(dict(rows))

    def counts_by_site(self, site_ids: Collection[int]) -> dict[int, dict[str, int]]:
        """Every step's number of people at each of these sites, each site alone.

        For a page of many sites: two grouped queries, whatever the number of sites,
        instead of one query a site. A site's people are those registered there, and
        those linked to it who are registered elsewhere (a link to the site where one
        is registered adds nobody), so each person is counted once at each site.
        Sites below a site are not added to it: count a region with ``counts``.
        """
        wanted = list(site_ids)
        registered = (
            self._annotated(
                Client.objects.filter(site_id__in=wanted, pk__in=self._first_ids()).order_by(),
                "pk",
            )
            .values("site_id", "reached")
            .annotate(people=Count("pk"))
            .values_list("site_id", "reached", "people")
        )
        linked = (
            self._annotated(
                ClientLink.objects.filter(site_id__in=wanted, client_id__in=self._first_ids())
                .exclude(site_id=F("client__site_id"))
                .order_by(),
                "client_id",
            )
            .values("site_id", "reached")
            .annotate(people=Count("pk"))
            .values_list("site_id", "reached", "people")
        )
        stopped_at: dict[int, dict[int, int]] = {site_id: {} for site_id in wanted}
        for rows in (registered, linked):
            for site_id, depth, n in rows:
                tally = stopped_at[site_id]
                tally[depth] = tally.get(depth, 0) + n
        return {site_id: self._fold(tally) for site_id, tally in stopped_at.items()}


def clients_at(site_ids: SiteIds) -> Ids | None:
    """The ids of the clients registered at or linked to these sites; None: everybody.

    One UNION of two index reads (clients by site, links by site), used as a semi-join.
    """
    if site_ids is None:
        return None
    registered = Client.objects.filter(site_id__in=site_ids).order_by().values_list("pk")
    linked = ClientLink.objects.filter(site_id__in=site_ids).order_by().values_list("client_id")
    return registered.union(linked)


# --- HIV ----------------------------------------------------------------------------


def hiv_treatment_running_on(end: dt.date) -> QuerySet[Treatment]:
    """HIV treatments with start_date ≤ E and (end_date blank or end_date ≥ E)."""
    return Treatment.objects.filter(condition=Condition.HIV, start_date__lte=end).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=end)
    )


def hiv_steps(end: dt.date) -> Cascade:
    """The HIV cascade as of E (see ``hiv_cascade``)."""

    def annotations(ref: str) -> list[dict[str, Any]]:
        running = hiv_treatment_running_on(end).filter(client=OuterRef(ref))
        latest_load = (
            ViralLoad.objects.filter(
                client=OuterRef(ref),
                condition=Condition.HIV,
                date__gt=end - VIRAL_LOAD_WITHIN,
                date__lte=end,
            )
            # One viral load per client, condition and day (a unique constraint): the
            # latest is the one of the latest date.
            .order_by("-date")
            .values("copies_per_ml")[:1]
        )
        return [
            {
                "art_running": Exists(running),
                # "Whose treatment started ≤ E − 182 days": the treatment that makes
                # them on ART, the one running at E. A person who stopped and restarted
                # 30 days ago has been on their current ART for 30 days: not judged yet.
                "art_182_days": Exists(running.filter(start_date__lte=end - ART_AT_LEAST)),
                "latest_load": Subquery(latest_load),
            }
        ]

    return Cascade(
        HIV_STEPS,
        Test.objects.filter(test=TestType.HIV, result=Result.POSITIVE, date__lte=end),
        annotations,
        (
            Q(art_running=True),
            # No viral load in the window: latest_load is NULL, and NULL < 1000 is not met.
            Q(art_182_days=True, latest_load__lt=SUPPRESSED_BELOW),
        ),
    )


def hiv_cascade(end: dt.date, site_ids: SiteIds = None) -> dict[str, int]:
    """HIV.cascade as of E: {"diagnosed": n, "on_art": n, "suppressed": n}.

    1. diagnosed: clients with an ``hiv`` test with result ``positive`` dated ≤ E;
    2. on_art: of those, clients with an ``hiv`` treatment with start_date ≤ E and
       (end_date blank or end_date ≥ E);
    3. suppressed: of those, clients whose treatment (the one running at E) started
       ≤ E − 182 days and whose latest ``hiv`` viral load dated in (E − 365 days, E] is
       below 1000 copies/mL. Without a viral load in that window, not suppressed.
    """
    return hiv_steps(end).counts(site_ids)


# --- hepatitis C --------------------------------------------------------------------


def hcv_steps(end: dt.date) -> Cascade:
    """The hepatitis C cascade as of E (see ``hcv_cascade``)."""
    tests = Test.objects.filter(date__lte=end)

    def annotations(ref: str) -> list[dict[str, Any]]:
        rna_tests = tests.filter(client=OuterRef(ref), test=TestType.HCV_RNA)
        # Cured: a completed hcv treatment T and an hcv viral load of 0 dated in
        # [T.end_date + 84 days, E]. Such a pair exists exactly when the latest viral
        # load of 0 dated ≤ E is at least 84 days after the earliest end of a completed
        # treatment, so two index reads per person decide it, with no pairing of rows.
        first_completed_end = (
            Treatment.objects.filter(
                client=OuterRef(ref),
                condition=Condition.HCV,
                outcome=Outcome.COMPLETED,
                end_date__isnull=False,
            )
            .order_by("end_date")
            .values("end_date")[:1]
        )
        last_not_detected = (
            ViralLoad.objects.filter(
                client=OuterRef(ref), condition=Condition.HCV, copies_per_ml=0, date__lte=end
            )
            .order_by("-date")
            .values("date")[:1]
        )
        return [
            {
                # "Any result": a sample taken for an RNA test is a person tested, even
                # while the laboratory's result is awaited (blank), indeterminate or invalid.
                "any_rna_test": Exists(rna_tests),
                "positive_rna_test": Exists(rna_tests.filter(result=Result.POSITIVE)),
                "hcv_treatment": Exists(
                    Treatment.objects.filter(
                        client=OuterRef(ref), condition=Condition.HCV, start_date__lte=end
                    )
                ),
                "completed_end": Subquery(first_completed_end),
                "not_detected_on": Subquery(last_not_detected),
            },
            {
                "after_end": ExpressionWrapper(
                    F("not_detected_on") - F("completed_end"), output_field=DurationField()
                )
            },
        ]

    return Cascade(
        HCV_STEPS,
        tests.filter(test=TestType.HCV_ANTIBODY, result=Result.POSITIVE),
        annotations,
        (
            Q(any_rna_test=True),
            Q(positive_rna_test=True),
            Q(hcv_treatment=True),
            Q(after_end__gte=CURE_AFTER),
        ),
    )


def hcv_cascade(end: dt.date, site_ids: SiteIds = None) -> dict[str, int]:
    """HCV.cascade as of E: antibody_positive, rna_tested, rna_positive, treated, cured.

    1. antibody_positive: clients with an ``hcv_antibody`` test ``positive`` dated ≤ E;
    2. rna_tested: of those, clients with an ``hcv_rna`` test (any result) dated ≤ E;
    3. rna_positive: of those, clients with an ``hcv_rna`` test ``positive`` dated ≤ E;
    4. treated: of those, clients with an ``hcv`` treatment with start_date ≤ E;
    5. cured: of those, clients with an ``hcv`` treatment of outcome ``completed`` and
       an ``hcv`` viral load of 0 dated in [that treatment's end_date + 84 days, E].
    """
    return hcv_steps(end).counts(site_ids)


def cascades_by_site(end: dt.date, site_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Both cascades as of E at each of these sites alone (sites below not added):
    {site_id: {"hiv": {...}, "hcv": {...}}}, in four queries whatever the number of sites."""
    hiv = hiv_steps(end).counts_by_site(site_ids)
    hcv = hcv_steps(end).counts_by_site(site_ids)
    return {site_id: {"hiv": hiv[site_id], "hcv": hcv[site_id]} for site_id in hiv}
