"""Tests, treatments and viral loads: the care stream.

Drawn client by client, when the client is drawn. Each client's status (HIV,
hepatitis C antibody and RNA, hepatitis B, TB) is drawn once, before any test: the
tests then reveal it, so a person found positive is not screened again. Most people
are offered tests every 6 to 12 months, some less often, so the main site's "due for
a test" list has people on it.

A reactive rapid test is confirmed by the laboratory a few days later; a positive
hepatitis C antibody is followed by an RNA test for most. Most people diagnosed with
HIV start ART (on site or at a partner clinic), some stop or are lost; hepatitis C is
treated for 12 weeks, with a viral load 12 weeks after the end. The main site gets a
few reactive rapid tests still awaiting their confirmation on the last day, whatever
the seed.
"""

from __future__ import annotations

import datetime as dt
import random

from harbour.clients.models import YesNoUnknown
from harbour.demo.generate.plans import (
    CarePlan,
    ClientPlan,
    TestPlan,
    TreatmentPlan,
    ViralLoadPlan,
)
from harbour.demo.generate.rng import draw_uuid, pick
from harbour.testing.models import Condition, Outcome, Result, TestKind, TestType

# Share of people ever tested, and of those tested every 6-12 months (the rest every
# 12-24 months).
TESTED_SHARE = 0.8
REGULAR_SHARE = 0.65
# Prevalence among people who inject drugs, and among others.
HIV_PREVALENCE = (0.10, 0.02)
HCV_PREVALENCE = (0.45, 0.08)
HBV_PREVALENCE = 0.04
TB_SYMPTOMS = 0.03
HCV_RNA_TESTED = 0.8  # of antibody positives
HCV_RNA_POSITIVE = 0.7
ART_SHARE = 0.82  # of people diagnosed with HIV
# Of people with HIV, already on ART at the clinic when they come: their first test
# here confirms the diagnosis they bring.
ALREADY_ON_ART = 0.4
HCV_TREATED_SHARE = 0.55  # of RNA positives
TB_TREATED_SHARE = 0.5  # of positive symptom screens
SUPPRESSED_SHARE = 0.85  # of viral loads six months or more into ART
CURED_SHARE = 0.92
COUNSELLING_SHARE = 0.9
# Reactive rapid HIV tests at the main site still awaiting confirmation on the last day.
AWAITING_AT_MAIN = 2

HIV_CLINIC = "Harbourside Infectious Diseases Clinic"
HCV_CLINIC = "Northgate Liver Clinic"
TB_CLINIC = "Eastwick Chest Clinic"

_ONE_DAY = dt.timedelta(days=1)
_HCV_WEEKS = 12
_TB_DAYS = 182
_MEAN_ART_DAYS = 900.0  # before it stops, is lost or moves
_ART_ENDS = (Outcome.LOST, Outcome.STOPPED, Outcome.TRANSFERRED)
_ART_END_WEIGHTS = (55, 25, 20)
_REASONS = {
    Outcome.LOST: ("No contact since the last pick-up", "Moved away, new address unknown"),
    Outcome.STOPPED: ("Side effects", "Moved away", "Person chose to pause treatment"),
    Outcome.TRANSFERRED: ("Moved away: care continues at another clinic",),
}


class CarePlanner:
    """Draws each client's tests, treatments and viral loads from the care stream."""

    def __init__(self, rng: random.Random, *, main_site: str, end: dt.date) -> None:
        self.rng = rng
        self.main_site = main_site
        self.end = end
        self.awaiting_wanted = AWAITING_AT_MAIN

    def plan(self, client: ClientPlan) -> CarePlan:
        care = CarePlan()
        if client.near_duplicate_of is not None:  # the same person, tested as the original
            return care
        rng = self.rng
        injects = client.injects == YesNoUnknown.YES
        tested = rng.random() < TESTED_SHARE
        interval = (180, 365) if rng.random() < REGULAR_SHARE else (365, 730)
        hiv = rng.random() < HIV_PREVALENCE[not injects]
        hcv = rng.random() < HCV_PREVALENCE[not injects]
        hbv = rng.random() < HBV_PREVALENCE
        known = rng.random() < ALREADY_ON_ART
        first = client.registered_on + dt.timedelta(days=int(rng.expovariate(1 / 20)))
        if not tested or first > self.end:
            return care
        days = [first]
        while (
            day := days[-1] + dt.timedelta(days=rng.randint(*interval) + rng.randint(-20, 20))
        ) <= self.end:
            days.append(day)
        # At the main site, a new reactive result in the last days, not yet confirmed.
        awaiting = (
            client.site == self.main_site
            and self.awaiting_wanted > 0
            and not hiv
            and injects
            and days[-1] < self.end - dt.timedelta(days=30)
        )
        if awaiting:
            self.awaiting_wanted -= 1
            days.append(self.end - dt.timedelta(days=rng.randrange(3)))
        hiv_found = hcv_found = hbv_found = False
        for index, day in enumerate(days):
            site = self._site(client, day)
            new_infection = awaiting and index == len(days) - 1
            if not hiv_found and (rng.random() < 0.95 or index == 0 or new_infection):
                hiv_found = hiv or new_infection
                self._screen(care, site, day, TestType.HIV, hiv_found, confirm=not new_infection)
                if hiv_found and not new_infection:
                    self._art(care, site, day, known)
            if not hcv_found and rng.random() < (0.85 if injects else 0.4):
                hcv_found = hcv
                self._screen(care, site, day, TestType.HCV_ANTIBODY, hcv, confirm=False)
                if hcv:
                    self._hcv(care, site, day, care.tests[-1])
            if not hbv_found and rng.random() < 0.15:
                hbv_found = hbv
                self._screen(care, site, day, TestType.HBSAG, hbv, confirm=True)
            if rng.random() < 0.25:
                symptoms = rng.random() < TB_SYMPTOMS
                self._screen(care, site, day, TestType.TB_SCREEN, symptoms, confirm=False)
                if symptoms and rng.random() < TB_TREATED_SHARE:
                    self._tb(care, site, day)
        return care

    def _site(self, client: ClientPlan, day: dt.date) -> str:
        second = client.second_site and client.second_since and day >= client.second_since
        return client.second_site if second and self.rng.random() < 0.3 else client.site

    def _test(
        self,
        care: CarePlan,
        site: str,
        day: dt.date,
        test: str,
        kind: str,
        result: str,
        *,
        needs_confirmation: bool = False,
        confirms: TestPlan | None = None,
    ) -> TestPlan:
        plan = TestPlan(
            draw_uuid(self.rng),
            site,
            day,
            test,
            kind,
            result,
            counselling=self.rng.random() < COUNSELLING_SHARE,
            needs_confirmation=needs_confirmation,
            confirms=confirms.id if confirms is not None else None,
        )
        care.tests.append(plan)
        return plan

    def _screen(
        self, care: CarePlan, site: str, day: dt.date, test: str, positive: bool, *, confirm: bool
    ) -> None:
        """A screening test; a reactive rapid test is confirmed a few days later."""
        rng = self.rng
        kind = TestKind.RAPID if test == TestType.TB_SCREEN or rng.random() < 0.9 else TestKind.SELF
        if test in (TestType.HIV, TestType.HCV_ANTIBODY) and rng.random() < 0.05:
            kind = TestKind.LABORATORY
        result = Result.POSITIVE if positive else Result.NEGATIVE
        if kind == TestKind.SELF and test != TestType.HIV:
            kind = TestKind.RAPID
        confirmed_on = day + dt.timedelta(days=rng.randint(3, 10))
        screening = kind != TestKind.LABORATORY or test == TestType.HCV_ANTIBODY
        # A hepatitis C antibody waits for its RNA test, drawn by the caller.
        waits = (
            positive and screening and test in (TestType.HIV, TestType.HBSAG, TestType.HCV_ANTIBODY)
        )
        confirmed = waits and confirm and confirmed_on <= self.end
        screen = self._test(
            care, site, day, test, kind, result, needs_confirmation=waits and not confirmed
        )
        if confirmed:
            self._test(care, site, confirmed_on, test, TestKind.LABORATORY, result, confirms=screen)

    def _hcv(self, care: CarePlan, site: str, day: dt.date, antibody: TestPlan) -> None:
        """The RNA test that confirms a positive antibody, and treatment for some."""
        rng = self.rng
        rna_tested = rng.random() < HCV_RNA_TESTED
        rna_positive = rng.random() < HCV_RNA_POSITIVE
        rna_on = day + dt.timedelta(days=rng.randint(0, 30))
        treated = rng.random() < HCV_TREATED_SHARE
        start = rna_on + dt.timedelta(days=14 + int(rng.expovariate(1 / 40)))
        completed = rng.random() < 0.88
        cured = rng.random() < CURED_SHARE
        svr_after = rng.randint(12 * 7, 20 * 7)
        provider = "" if rng.random() < 0.6 else HCV_CLINIC
        stopped_after = rng.randint(14, 70)
        reason = rng.choice(_REASONS[Outcome.STOPPED])
        if not rna_tested or rna_on > self.end:
            return
        # A result awaited: the laboratory takes a week or two.
        result = (
            (Result.POSITIVE if rna_positive else Result.NEGATIVE)
            if rna_on < self.end - dt.timedelta(days=10)
            else ""
        )
        index = care.tests.index(antibody)
        if result:
            care.tests[index] = _confirmed(antibody)
        self._test(
            care, site, rna_on, TestType.HCV_RNA, TestKind.LABORATORY, result, confirms=antibody
        )
        if result != Result.POSITIVE or not treated or start > self.end:
            return
        end = start + dt.timedelta(weeks=_HCV_WEEKS)
        if not completed:
            end = start + dt.timedelta(days=stopped_after)
        if end > self.end:
            care.treatments.append(
                TreatmentPlan(
                    draw_uuid(rng), site, Condition.HCV, start, None, Outcome.ONGOING, provider
                )
            )
            return
        outcome, why = (Outcome.COMPLETED, "") if completed else (Outcome.STOPPED, reason)
        care.treatments.append(
            TreatmentPlan(draw_uuid(rng), site, Condition.HCV, start, end, outcome, provider, why)
        )
        svr_on = end + dt.timedelta(days=svr_after)
        if completed and svr_on <= self.end:
            care.viral_loads.append(
                ViralLoadPlan(svr_on, Condition.HCV, 0 if cured else rng.randint(10_000, 900_000))
            )

    def _art(self, care: CarePlan, site: str, day: dt.date, known: bool) -> None:
        """ART from a few weeks after the diagnosis (or from before, for those already
        on it), with a viral load every six months."""
        rng = self.rng
        starts = known or rng.random() < ART_SHARE
        start = day + dt.timedelta(days=7 + int(rng.expovariate(1 / 21)))
        if known:
            start = day - dt.timedelta(days=rng.randint(180, 1500))
        length = int(rng.expovariate(1 / _MEAN_ART_DAYS))
        outcome = pick(rng, _ART_ENDS, _ART_END_WEIGHTS)
        reason = rng.choice(_REASONS[outcome])
        provider = "" if rng.random() < 0.5 and not known else HIV_CLINIC
        suppresses = rng.random() < SUPPRESSED_SHARE
        if not starts or start > self.end:
            return
        end: dt.date | None = start + dt.timedelta(days=length)
        if end is not None and end >= self.end:
            end = None
        care.treatments.append(
            TreatmentPlan(
                draw_uuid(rng),
                site,
                Condition.HIV,
                start,
                end,
                Outcome.ONGOING if end is None else outcome,
                provider,
                "" if end is None else reason,
            )
        )
        # A baseline, then one about every six months while on treatment.
        load_on, last = max(start, day), end or self.end
        while load_on <= last:
            months = (load_on - start).days / 30
            if months < 5:
                copies = rng.randint(20_000, 400_000) if months < 1 else rng.randint(200, 20_000)
            else:
                copies = _suppressed(rng) if suppresses else rng.randint(1_000, 60_000)
            care.viral_loads.append(ViralLoadPlan(load_on, Condition.HIV, copies))
            load_on += dt.timedelta(days=rng.randint(150, 210))

    def _tb(self, care: CarePlan, site: str, day: dt.date) -> None:
        rng = self.rng
        start = day + dt.timedelta(days=rng.randint(7, 28))
        completed = rng.random() < 0.8
        earlier = [t for t in care.treatments if t.condition == Condition.TB]
        if start > self.end or any(t.end_date is None or t.end_date >= day for t in earlier):
            return
        end = start + dt.timedelta(days=_TB_DAYS if completed else rng.randint(20, 90))
        ongoing = end > self.end
        care.treatments.append(
            TreatmentPlan(
                draw_uuid(rng),
                site,
                Condition.TB,
                start,
                None if ongoing else end,
                Outcome.ONGOING if ongoing else (Outcome.COMPLETED if completed else Outcome.LOST),
                TB_CLINIC,
                "" if ongoing or completed else _REASONS[Outcome.LOST][0],
            )
        )


def _suppressed(rng: random.Random) -> int:
    return 0 if rng.random() < 0.7 else rng.randint(20, 900)


def _confirmed(test: TestPlan) -> TestPlan:
    return TestPlan(
        test.id,
        test.site,
        test.date,
        test.test,
        test.kind,
        test.result,
        test.counselling,
        needs_confirmation=False,
        confirms=test.confirms,
    )
