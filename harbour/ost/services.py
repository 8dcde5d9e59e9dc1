"""OST state changes: enrolment, prescriptions, dispensing and its safety rules.

The safety rules clinicians rely on live here, once, so every path (screen, API,
import of live data) obeys them:

1. A second dose on the same day is refused unless a reason is given.
2. A dose never exceeds the current prescription.
3. After three or more consecutive missed doses the next dose is blocked until a
   clinician reviews the person: tolerance falls within days and the old dose can kill.
4. A dose change larger than the configured step needs a clinician.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from harbour.accounts import access
from harbour.accounts.access import Cap
from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.ost.models import DayClosed, Dose, Episode, Phase, Prescription, Review
from harbour.sites.models import Site

MISSED_BEFORE_REVIEW = 3
ADEQUATE_MG = {"methadone": Decimal("60"), "buprenorphine": Decimal("8")}


class OSTError(ValueError):
    def __init__(self, message: str, field: str = "", code: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def mg(value: Decimal) -> str:
    """60.00 -> "60", 7.50 -> "7.5": doses as people write them."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def dose_step(medication: str) -> Decimal:
    steps: dict[str, Decimal] = settings.OST_DOSE_STEP_MG
    return steps.get(medication, steps["other"])


@transaction.atomic
def enrol(
    actor: Any,
    client: Client,
    site: Site,
    *,
    medication: str,
    start_date: dt.date,
    consent_on: dt.date,
    dose_mg: Decimal,
    phase: str = Phase.INDUCTION,
    start_context: str = "new",
    linked_service: str = "",
    prescriber: Any = None,
) -> Episode:
    # Lock the person: "Start treatment" pressed twice must not open two episodes.
    Client.objects.select_for_update().get(pk=client.pk)
    if Episode.objects.filter(client=client, end_date__isnull=True).exists():
        raise OSTError("This person already has an ongoing OST episode.", "client")
    if start_date > timezone.localdate():
        raise OSTError("Treatment cannot start in the future.", "start_date")
    if consent_on > start_date:
        raise OSTError("Consent is given before treatment starts.", "consent_on")
    episode = Episode.objects.create(
        client=client,
        site=site,
        medication=medication,
        start_date=start_date,
        consent_on=consent_on,
        start_context=start_context,
        linked_service=linked_service,
        prescriber=prescriber or actor,
        created_by=actor,
    )
    Prescription.objects.create(
        episode=episode,
        dose_mg=dose_mg,
        phase=phase,
        valid_from=start_date,
        reason="Starting dose",
        author=actor,
    )
    record(
        actor,
        "ost.enrol",
        episode,
        site=site,
        detail={"client": client.code, "medication": medication, "dose_mg": str(dose_mg)},
    )
    return episode


def current_prescription(episode: Episode, on: dt.date | None = None) -> Prescription | None:
    on = on or timezone.localdate()
    return (
        episode.prescriptions.filter(valid_from__lte=on)
        .exclude(valid_to__lt=on)
        .order_by("-valid_from", "-created_at")
        .first()
    )


@transaction.atomic
def prescribe(
    actor: Any,
    episode: Episode,
    *,
    dose_mg: Decimal,
    phase: str,
    valid_from: dt.date,
    reason: str,
    take_home_days: list[int] | None = None,
) -> Prescription:
    """Change the dose or take-home schedule from a date, keeping its reason and author."""
    if not episode.ongoing:
        raise OSTError("This episode has ended.", "episode")
    if not reason.strip():
        raise OSTError("Say why the prescription changes.", "reason")
    if dose_mg <= 0:
        raise OSTError("A dose is more than 0 mg.", "dose_mg")
    previous = current_prescription(episode, valid_from)
    # The step is measured from the dose of the day before, so several small changes
    # on one day cannot add up to a change no clinician saw.
    baseline = current_prescription(episode, valid_from - dt.timedelta(days=1)) or previous
    is_clinician = access.has(actor, Cap.OST_PRESCRIBE, episode.site)
    days = sorted({int(d) for d in (take_home_days or [])})
    if previous is None or baseline is None:
        if not is_clinician:
            raise OSTError("Only a clinician starts a prescription.", "dose_mg", "needs_clinician")
    elif not is_clinician:
        change = abs(dose_mg - baseline.dose_mg)
        if change > dose_step(episode.medication):
            raise OSTError(
                f"A change of {mg(change)} mg is more than the {mg(dose_step(episode.medication))}"
                " mg step a nurse may make: a clinician must prescribe it.",
                "dose_mg",
                code="needs_clinician",
            )
        if phase != previous.phase:
            raise OSTError("A change of phase needs a clinician.", "phase", "needs_clinician")
        if days != sorted(previous.take_home_days or []):
            raise OSTError(
                "Take-home days are decided by a clinician with the person.",
                "take_home_days",
                "needs_clinician",
            )
    if any(d < 0 or d > 6 for d in days):
        raise OSTError("Take-home days are weekdays 0 (Monday) to 6 (Sunday).", "take_home_days")
    if days and phase == Phase.INDUCTION:
        raise OSTError("No take-home doses during induction.", "take_home_days")
    episode.prescriptions.filter(valid_to__isnull=True, valid_from__lt=valid_from).update(
        valid_to=valid_from - dt.timedelta(days=1)
    )
    episode.prescriptions.filter(valid_from__gte=valid_from).update(
        valid_to=valid_from - dt.timedelta(days=1)
    )
    new = Prescription.objects.create(
        episode=episode,
        dose_mg=dose_mg,
        phase=phase,
        valid_from=valid_from,
        take_home_days=days,
        reason=reason.strip()[:300],
        author=actor,
    )
    record(
        actor,
        "ost.prescribe",
        episode,
        site=episode.site,
        detail={
            "client": episode.client.code,
            "dose_mg": str(dose_mg),
            "previous_mg": str(previous.dose_mg) if previous else None,
            "phase": phase,
            "take_home_days": days,
        },
    )
    return new


def consecutive_missed(episode: Episode, before: dt.date) -> int:
    """Missed doses in a row up to ``before``, since the last dose taken or review."""
    last_review = episode.reviews.order_by("-at").values_list("at", flat=True).first()
    count = 0
    for taken, recorded_at in (
        episode.doses.filter(date__lt=before)
        .order_by("-date", "-recorded_at")
        .values_list("taken", "recorded_at")[:30]
    ):
        if taken != Dose.Taken.MISSED:
            break
        if last_review is not None and recorded_at <= last_review:
            break
        count += 1
    return count


def dispense(
    actor: Any,
    episode: Episode,
    *,
    site: Site,
    on: dt.date | None = None,
    dose_mg: Decimal | None = None,
    taken: str = Dose.Taken.OBSERVED,
    justification: str = "",
) -> Dose:
    """Give today's dose (observed) or hand out a take-home dose for a date."""
    # Day end first, in its own transaction: rule 3 counts missed doses, which exist
    # only once their day is closed, and a dose given from the episode screen before
    # anyone opened the board must not skip them. They stay recorded when it is refused.
    close_past_days(episode.site)
    return _dispense(
        actor,
        episode,
        site=site,
        on=on,
        dose_mg=dose_mg,
        taken=taken,
        justification=justification,
    )


@transaction.atomic
def _dispense(
    actor: Any,
    episode: Episode,
    *,
    site: Site,
    on: dt.date | None,
    dose_mg: Decimal | None,
    taken: str,
    justification: str,
) -> Dose:
    on = on or timezone.localdate()
    # Lock the episode: two nurses pressing at once must not both give a dose.
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if not episode.ongoing and episode.end_date is not None and on > episode.end_date:
        raise OSTError("This episode has ended.", "episode")
    prescription = current_prescription(episode, on)
    if prescription is None:
        raise OSTError("There is no prescription for this date.", "dose_mg", "no_prescription")
    dose_mg = prescription.dose_mg if dose_mg is None else dose_mg
    if dose_mg > prescription.dose_mg:
        raise OSTError(
            f"{mg(dose_mg)} mg is more than the prescribed {mg(prescription.dose_mg)} mg.",
            "dose_mg",
            "over_prescription",
        )
    if dose_mg <= 0:
        raise OSTError("A dose is more than 0 mg.", "dose_mg")
    if taken == Dose.Taken.TAKE_HOME and on.weekday() not in set(prescription.take_home_days):
        raise OSTError(
            f"{on:%A} is not a take-home day in the prescription.", "taken", "not_take_home_day"
        )
    missed = consecutive_missed(episode, on)
    if missed >= MISSED_BEFORE_REVIEW:
        raise OSTError(
            f"{missed} doses were missed in a row: tolerance may have fallen. A clinician "
            "must review the person before the next dose.",
            "episode",
            "needs_review",
        )
    second = episode.doses.filter(date=on).exclude(taken=Dose.Taken.MISSED).exists()
    if second and not justification.strip():
        raise OSTError(
            "A dose was already given for this day. A second dose needs a written reason.",
            "justification",
            "second_dose",
        )
    # The reason belongs to a second dose only: a first dose is never audited as one.
    justification = justification.strip()[:300] if second else ""
    # A missed mark from an earlier day-end is replaced when the dose is given late.
    episode.doses.filter(date=on, taken=Dose.Taken.MISSED).delete()
    dose = Dose.objects.create(
        episode=episode,
        client_id=episode.client_id,
        site=site,
        date=on,
        medication=episode.medication,
        dose_mg=dose_mg,
        phase=prescription.phase,
        taken=taken,
        justification=justification,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if second:
        record(
            actor,
            "ost.second_dose",
            dose,
            site=site,
            # The reason is clinical text about a person: it stays on the dose, which
            # only OST roles read; administrators browse the audit log.
            detail={"client": episode.client.code, "reason_given": True},
        )
    return dose


@transaction.atomic
def issue_take_homes(
    actor: Any, episode: Episode, *, site: Site, dates: list[dt.date]
) -> list[Dose]:
    prescription = current_prescription(episode, min(dates)) if dates else None
    if prescription is None:
        raise OSTError("There is no prescription for these dates.", "dates")
    allowed = set(prescription.take_home_days)
    refused = [d for d in dates if d.weekday() not in allowed]
    if refused:
        raise OSTError(
            "Not a take-home day in the prescription: " + ", ".join(d.isoformat() for d in refused),
            "dates",
        )
    return [dispense(actor, episode, site=site, on=d, taken=Dose.Taken.TAKE_HOME) for d in dates]


@transaction.atomic
def review(actor: Any, episode: Episode, note: str) -> Review:
    if not access.has(actor, Cap.OST_PRESCRIBE, episode.site):
        raise OSTError("Only a clinician can review after missed doses.", "note", "needs_clinician")
    if not note.strip():
        raise OSTError("Write what the review found (e.g. dose restarted at …).", "note")
    # Record the missed days before the review, which releases only the ones it saw:
    # were they closed after it, they would block the next dose again.
    close_past_days(episode.site)
    r = Review.objects.create(episode=episode, by=actor, note=note.strip()[:300])
    record(actor, "ost.review", episode, site=episode.site, detail={"client": episode.client.code})
    return r


@transaction.atomic
def end_episode(
    actor: Any, episode: Episode, *, end_date: dt.date, reason: str, linked_service: str = ""
) -> Episode:
    if not episode.ongoing:
        raise OSTError("This episode has already ended.", "end_date")
    if end_date < episode.start_date:
        raise OSTError("An episode cannot end before it started.", "end_date")
    episode.end_date = end_date
    episode.end_reason = reason
    if linked_service:
        episode.linked_service = linked_service[:200]
    episode.save(update_fields=["end_date", "end_reason", "linked_service"])
    episode.prescriptions.filter(valid_to__isnull=True).update(valid_to=end_date)
    record(
        actor,
        "ost.end",
        episode,
        site=episode.site,
        detail={"client": episode.client.code, "reason": reason},
    )
    return episode


def expected_on(site: Site, on: dt.date) -> list[tuple[Episode, Prescription]]:
    """Episodes at the site running on ``on``, each with its prescription that day.

    Two queries whatever the number of people: the board, day end and the adequacy
    list all start here.
    """
    episodes = list(
        Episode.objects.filter(site=site, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("client")
        .order_by("client__code")
    )
    current: dict[Any, Prescription] = {}
    for p in (
        Prescription.objects.filter(episode__in=[e.pk for e in episodes], valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("valid_from", "created_at")
    ):
        current[p.episode_id] = p  # the latest valid one wins
    return [(e, current[e.pk]) for e in episodes if e.pk in current]


def expected_today(site: Site, on: dt.date) -> list[Episode]:
    return [episode for episode, _ in expected_on(site, on)]


def close_day(site: Site, on: dt.date, actor: Any = "day end") -> int:
    """Record a missed dose for everyone expected on ``on`` who got none. Idempotent."""
    if on >= timezone.localdate():
        raise OSTError("A day is closed once it is over.", "date")
    try:
        with transaction.atomic():
            DayClosed.objects.create(site=site, date=on)
            expected = expected_on(site, on)
            # A dose recorded anywhere that day counts (a person may dose at another site).
            given = set(
                Dose.objects.filter(episode__in=[e.pk for e, _ in expected], date=on).values_list(
                    "episode_id", flat=True
                )
            )
            missed = []
            for episode, p in expected:
                if episode.pk in given:
                    continue
                missed.append(
                    Dose(
                        episode=episode,
                        client_id=episode.client_id,
                        site=site,
                        date=on,
                        medication=episode.medication,
                        dose_mg=p.dose_mg,
                        phase=p.phase,
                        taken=Dose.Taken.MISSED,
                    )
                )
            Dose.objects.bulk_create(missed)
    except IntegrityError:
        return 0  # already closed by someone else
    return len(missed)


def close_past_days(site: Site, today: dt.date | None = None, lookback: int = 14) -> int:
    """Close every unclosed day of the last ``lookback`` days: day end never depends on a cron."""
    today = today or timezone.localdate()
    closed = set(
        DayClosed.objects.filter(
            site=site, date__gte=today - dt.timedelta(days=lookback)
        ).values_list("date", flat=True)
    )
    total = 0
    for back in range(lookback, 0, -1):
        day = today - dt.timedelta(days=back)
        if day not in closed:
            total += close_day(site, day)
    return total


def below_adequate(site: Site, on: dt.date | None = None) -> list[tuple[Episode, Prescription]]:
    """People in maintenance below 60 mg methadone or 8 mg buprenorphine, for review."""
    on = on or timezone.localdate()
    out = []
    for episode, p in expected_on(site, on):
        limit = ADEQUATE_MG.get(episode.medication)
        if limit and p.phase == Phase.MAINTENANCE and p.dose_mg < limit:
            out.append((episode, p))
    return out
