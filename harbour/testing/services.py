"""Recording tests, treatments and viral loads; the lists that keep people from falling
between services."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.sites.models import Site
from harbour.testing.models import (
    AdherenceSupport,
    Condition,
    Outcome,
    Result,
    Test,
    TestKind,
    TestType,
    Treatment,
    ViralLoad,
)

# A confirmation of a reactive screening test: which test types confirm which.
CONFIRMED_BY = {
    TestType.HIV: {TestType.HIV},
    TestType.HCV_ANTIBODY: {TestType.HCV_RNA},
    TestType.HBSAG: {TestType.HBSAG},
    TestType.TB_SCREEN: set(),  # a positive symptom screen is referred, not re-screened
}


class TestingError(ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _not_future(day: dt.date, field: str) -> None:
    if day > timezone.localdate():
        raise TestingError("This date is in the future.", field)


def _needs_confirmation(test: str, kind: str, result: str) -> bool:
    """A reactive screening result stays provisional until a confirmatory test.

    Rapid and self-tests are screening tests. A hepatitis C antibody is one whatever
    the method: it shows past exposure, and only an RNA test shows a current infection.
    """
    if result != Result.POSITIVE or not CONFIRMED_BY.get(TestType(test)):
        return False
    return kind in (TestKind.RAPID, TestKind.SELF) or test == TestType.HCV_ANTIBODY


def confirmed_by_label(test: str) -> str:
    """The test that confirms a reactive ``test``, for the screens ("" for a TB screen)."""
    return " or ".join(sorted(TestType(t).label for t in CONFIRMED_BY.get(TestType(test), set())))


@transaction.atomic
def record_test(
    actor: Any,
    client: Client,
    site: Site,
    *,
    test: str,
    kind: str,
    date: dt.date,
    result: str = "",
    consent: bool,
    counselling: bool = False,
    confirms: Test | None = None,
    test_id: uuid.UUID | None = None,
) -> tuple[Test, bool]:
    """Record a test. Testing is voluntary: no consent, no test."""
    if test_id is not None:
        existing = Test.objects.filter(pk=test_id).first()
        if existing is not None:
            return existing, False
    if not consent:
        raise TestingError("A test is only done with the person's consent.", "consent")
    _not_future(date, "date")
    if test not in TestType.values:
        raise TestingError("Choose the test.", "test")
    if kind not in TestKind.values:
        raise TestingError("Choose rapid, laboratory or self-test.", "kind")
    if result and result not in Result.values:
        raise TestingError("Choose a result, or leave it empty while it is awaited.", "result")
    if not result and kind != TestKind.LABORATORY:
        raise TestingError("A rapid or self-test has its result at once.", "result")
    if confirms is not None:
        if confirms.client_id != client.pk:
            raise TestingError("The test confirmed belongs to another person.", "confirms")
        if confirms.result != Result.POSITIVE:
            raise TestingError("Only a reactive result is confirmed.", "confirms")
        if kind == TestKind.SELF:
            raise TestingError("A self-test does not confirm another test.", "kind")
        if test not in CONFIRMED_BY.get(TestType(confirms.test), set()):
            raise TestingError(
                f"A reactive {TestType(confirms.test).label} test is confirmed by the "
                f"{confirmed_by_label(confirms.test)} test, not by this one.",
                "test",
            )
    needs_confirmation = _needs_confirmation(test, kind, result)
    t = Test.objects.create(
        id=test_id or uuid.uuid4(),
        client=client,
        site=site,
        date=date,
        test=test,
        kind=kind,
        result=result,
        consent=consent,
        counselling=counselling,
        needs_confirmation=needs_confirmation,
        confirms=confirms,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if confirms is not None and result in (Result.POSITIVE, Result.NEGATIVE):
        Test.objects.filter(pk=confirms.pk).update(needs_confirmation=False)
    record(
        actor,
        "test.create",
        t,
        site=site,
        detail={"client": client.code, "test": test, "result": result or "awaited"},
    )
    return t, True


@transaction.atomic
def enter_result(actor: Any, t: Test, result: str) -> Test:
    """A laboratory result returned later."""
    if t.result:
        raise TestingError("This test already has a result.", "result")
    if result not in Result.values:
        raise TestingError("Choose the result.", "result")
    t.result = result
    t.needs_confirmation = _needs_confirmation(t.test, t.kind, result)
    t.save(update_fields=["result", "needs_confirmation"])
    if t.confirms_id and result in (Result.POSITIVE, Result.NEGATIVE):
        Test.objects.filter(pk=t.confirms_id).update(needs_confirmation=False)
    record(actor, "test.result", t, site=t.site, detail={"client": t.client.code, "result": result})
    return t


@transaction.atomic
def start_treatment(
    actor: Any,
    client: Client,
    site: Site,
    *,
    condition: str,
    start_date: dt.date,
    provider: str = "",
    treatment_id: uuid.UUID | None = None,
) -> Treatment:
    _not_future(start_date, "start_date")
    if condition not in Condition.values:
        raise TestingError("Choose the condition treated.", "condition")
    # Lock the person: "Start treatment" pressed twice must not open two episodes.
    Client.objects.select_for_update().get(pk=client.pk)
    if Treatment.objects.filter(
        client=client, condition=condition, outcome=Outcome.ONGOING
    ).exists():
        raise TestingError("This person is already on this treatment.", "condition")
    t = Treatment.objects.create(
        id=treatment_id or uuid.uuid4(),
        client=client,
        site=site,
        condition=condition,
        start_date=start_date,
        provider=provider[:200],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(
        actor,
        "treatment.start",
        t,
        site=site,
        detail={"client": client.code, "condition": condition},
    )
    return t


@transaction.atomic
def end_treatment(
    actor: Any, t: Treatment, *, end_date: dt.date, outcome: str, reason: str = ""
) -> Treatment:
    if outcome == Outcome.ONGOING or outcome not in Outcome.values:
        raise TestingError("Choose how the treatment ended.", "outcome")
    # Lock the episode, so two people ending it at once cannot overwrite each other.
    t = Treatment.objects.select_for_update().get(pk=t.pk)
    if t.outcome != Outcome.ONGOING:
        raise TestingError("This treatment has already ended.", "outcome")
    if end_date < t.start_date:
        raise TestingError("Treatment cannot end before it started.", "end_date")
    _not_future(end_date, "end_date")
    t.end_date, t.outcome, t.reason = end_date, outcome, reason[:200]
    t.save(update_fields=["end_date", "outcome", "reason"])
    record(
        actor, "treatment.end", t, site=t.site, detail={"client": t.client.code, "outcome": outcome}
    )
    return t


@transaction.atomic
def record_viral_load(
    actor: Any, client: Client, *, condition: str, date: dt.date, copies_per_ml: int
) -> tuple[ViralLoad, bool]:
    _not_future(date, "date")
    if condition not in ("hiv", "hcv"):
        raise TestingError("A viral load is for HIV or hepatitis C.", "condition")
    if copies_per_ml < 0:
        raise TestingError("Copies per mL cannot be negative.", "copies_per_ml")
    vl, created = ViralLoad.objects.get_or_create(
        client=client, condition=condition, date=date, defaults={"copies_per_ml": copies_per_ml}
    )
    if not created and vl.copies_per_ml != copies_per_ml:
        raise TestingError("A different result is already recorded for this day.", "copies_per_ml")
    if created:
        record(
            actor, "viral_load.create", vl, detail={"client": client.code, "condition": condition}
        )
    return vl, created


@transaction.atomic
def support(actor: Any, t: Treatment, *, date: dt.date, peer: bool, note: str) -> AdherenceSupport:
    _not_future(date, "date")
    if date < t.start_date:
        raise TestingError("Support is recorded from the start of treatment.", "date")
    s = AdherenceSupport.objects.create(
        treatment=t, date=date, by=actor, peer=peer, note=note[:300]
    )
    record(
        actor,
        "treatment.support",
        s,
        site=t.site,
        detail={"client": t.client.code, "treatment": str(t.pk), "peer": peer},
    )
    return s


SVR12_WEEKS = 12


def svr12(t: Treatment) -> dict[str, Any] | None:
    """Hepatitis C cure is an undetectable RNA 12 weeks or more after the end of treatment.

    Returns when the test is due and the first RNA result from then on (a laboratory
    hepatitis C RNA test or an HCV viral load), or None for other treatments.
    """
    if t.condition != Condition.HCV or t.outcome != Outcome.COMPLETED or t.end_date is None:
        return None
    due = t.end_date + dt.timedelta(weeks=SVR12_WEEKS)
    rna = (
        Test.objects.filter(
            client=t.client_id,
            test=TestType.HCV_RNA,
            date__gte=due,
            result__in=[Result.POSITIVE, Result.NEGATIVE],
        )
        .order_by("date")
        .first()
    )
    load = (
        ViralLoad.objects.filter(client=t.client_id, condition="hcv", date__gte=due)
        .order_by("date")
        .first()
    )
    found: list[tuple[dt.date, bool]] = []
    if rna is not None:
        found.append((rna.date, rna.result == Result.NEGATIVE))
    if load is not None:
        found.append((load.date, load.copies_per_ml == 0))
    if not found:
        return {"due": due, "date": None, "cured": None}
    date, cured = min(found)
    return {"due": due, "date": date, "cured": cured}


# -- lists ----------------------------------------------------------------------------


def due_for_test(clients: QuerySet[Client], today: dt.date | None = None) -> list[dict[str, Any]]:
    """People whose last negative HIV or hepatitis C test is older than the interval.

    Offered, never forced: the list is a reminder to ask.
    """
    today = today or timezone.localdate()
    limit = today - dt.timedelta(days=settings.RETEST_INTERVAL_DAYS)
    rows = []
    for test_type in (TestType.HIV, TestType.HCV_ANTIBODY):
        # A reactive screening test that a confirmatory test found negative does not
        # make the person positive: they are offered tests again like anyone else.
        refuted = Test.objects.filter(confirms=OuterRef("pk"), result=Result.NEGATIVE)
        positives = (
            Test.objects.filter(test=test_type, result=Result.POSITIVE)
            .exclude(Exists(refuted))
            .values("client")
        )
        # A laboratory test taken within the interval is a test, even before its result.
        awaited = Test.objects.filter(test=test_type, result="", date__gt=limit).values("client")
        last = (
            Test.objects.filter(client__in=clients, test=test_type, result=Result.NEGATIVE)
            .exclude(client__in=positives)
            .exclude(client__in=awaited)
            .values("client")
            .annotate(last=Max("date"))
            .filter(last__lte=limit)
        )
        for row in last:
            rows.append({"client_id": row["client"], "test": test_type, "last": row["last"]})
    codes = dict(
        Client.objects.filter(pk__in=[r["client_id"] for r in rows]).values_list("pk", "code")
    )
    for r in rows:
        r["code"] = codes.get(r["client_id"], "")
        r["label"] = TestType(r["test"]).label
    return sorted(rows, key=lambda r: (r["last"], r["code"]))


def awaiting_confirmation(clients: QuerySet[Client]) -> QuerySet[Test]:
    return Test.objects.filter(client__in=clients, needs_confirmation=True).select_related("client")


def off_treatment(clients: QuerySet[Client]) -> QuerySet[Treatment]:
    """People who stopped treatment or were lost, for outreach (latest episode per condition)."""
    later = Treatment.objects.filter(
        client=OuterRef("client"),
        condition=OuterRef("condition"),
        start_date__gt=OuterRef("start_date"),
    )
    return (
        Treatment.objects.filter(client__in=clients, outcome__in=[Outcome.STOPPED, Outcome.LOST])
        .exclude(Exists(later))
        .select_related("client")
        .order_by("-end_date")
    )
