"""Drug checking actions: take in a sample, record what each method found, give the
result back, and review, send, update or withdraw alerts. Each one is audited."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from harbour.audit.services import record
from harbour.clients.models import Client, YesNoUnknown
from harbour.drugchecking import rules
from harbour.drugchecking.models import (
    Alert,
    AlertStatus,
    Analysis,
    Finding,
    FindingRole,
    Method,
    Sample,
    SampleForm,
    SamplePhoto,
    Signal,
    StripOutcome,
    StripTarget,
    Substance,
)
from harbour.sites.models import Site

PHOTO_MAX_SIDE = 1280
PHOTO_MAX_BYTES = 10 * 1024 * 1024


class DrugCheckingError(ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _not_future(day: dt.date | None, field: str) -> None:
    if day is not None and day > timezone.localdate():
        raise DrugCheckingError("This date is in the future.", field)


def region_of(site: Site) -> str:
    """The region a site belongs to: the name people know, the finest place we publish."""
    for node in [site, *site.ancestors()]:
        if node.is_region:
            return node.name
    return ""


def next_number(site: Site, day: dt.date) -> str:
    prefix = f"{site.code}-{day:%y%m%d}-"
    taken = Sample.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


@transaction.atomic
def take_sample(
    actor: Any,
    site: Site,
    *,
    date: dt.date | None,
    expected: Sequence[Substance] = (),
    expected_as_said: str = "",
    expected_unknown: bool = False,
    form: str = "",
    colour: str = "",
    markings: str = "",
    region: str | None = None,
    used_already: str = YesNoUnknown.UNKNOWN,
    effects: str = "",
    overdose: str = YesNoUnknown.UNKNOWN,
    client: Client | None = None,
    number: str = "",
    source: str = "harbour",
    sample_id: uuid.UUID | None = None,
) -> tuple[Sample, bool]:
    """Take in a sample. No identity is asked for; ``client`` only when the person wants
    their result followed up. Returns the sample and whether it was new."""
    if sample_id is not None:
        existing = Sample.objects.filter(pk=sample_id).first()
        if existing is not None:
            return existing, False  # a double submit
    if date is None and not number:
        # Only imported history may lack a date, and it brings its own numbers.
        raise DrugCheckingError("Say when the sample was taken.", "date")
    _not_future(date, "date")
    if form and form not in SampleForm.values:
        raise DrugCheckingError("Choose the form of the sample.", "form")
    if not expected and not expected_unknown and not expected_as_said.strip():
        raise DrugCheckingError(
            "Say what the person expected it to be, or tick that they did not know.", "expected"
        )
    if number and Sample.objects.filter(number=number).exists():
        raise DrugCheckingError(f"Sample number {number} is already in use.", "number")
    sample = Sample(
        id=sample_id or uuid.uuid4(),
        site=site,
        date=date,
        expected_as_said=expected_as_said.strip(),
        expected_unknown=expected_unknown,
        form=form,
        colour=colour.strip(),
        markings=markings.strip(),
        region=region_of(site) if region is None else region.strip(),
        used_already=used_already,
        effects=effects.strip(),
        overdose=overdose,
        client=client,
        source=source,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for attempt in range(5):
        sample.number = number or next_number(site, date or timezone.localdate())
        try:
            with transaction.atomic():
                sample.save(force_insert=True)
            break
        except IntegrityError as error:
            if number or attempt == 4:
                raise DrugCheckingError(
                    "That sample number was just taken; try again.", "number"
                ) from error
    sample.expected.set(expected)
    record(
        actor,
        "sample.taken",
        sample,
        site=site,
        detail={"number": sample.number, "followed_up": client is not None},
    )
    return sample, True


@dataclass(frozen=True)
class FoundIn:
    """A substance a method found, as entered or imported."""

    substance: Substance
    role: str = FindingRole.PRIMARY
    percent: Decimal | None = None
    reported_as: str = ""


@transaction.atomic
def record_strip(
    actor: Any,
    sample: Sample,
    *,
    target: str,
    outcome: str,
    date: dt.date | None = None,
    analysis_id: uuid.UUID | None = None,
) -> Analysis:
    """One strip's result. ``analysis_id`` makes a repeated submit record it once."""
    if analysis_id is not None:
        existing = Analysis.objects.filter(pk=analysis_id).first()
        if existing is not None:
            return existing
    if target not in StripTarget.values:
        raise DrugCheckingError("Choose what the strip tests for.", "target")
    if outcome not in StripOutcome.values:
        raise DrugCheckingError("Choose positive, negative or invalid.", "outcome")
    day = date or timezone.localdate()
    _not_future(day, "date")
    analysis = Analysis.objects.create(
        id=analysis_id or uuid.uuid4(),
        sample=sample,
        method=Method.STRIP,
        date=day,
        strip_target=target,
        strip_outcome=outcome,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(
        actor,
        "sample.strip",
        sample,
        site=sample.site_id,
        detail={"target": target, "outcome": outcome},
    )
    rules.evaluate(sample)
    return analysis


@transaction.atomic
def record_analysis(
    actor: Any,
    sample: Sample,
    *,
    method: str,
    found: Iterable[FoundIn],
    date: dt.date | None = None,
    technique: str = "",
    source_key: str = "",
    evaluate: bool = True,
) -> tuple[Analysis, bool]:
    """Record what FTIR or a laboratory found (nothing found is a result too).

    With ``source_key`` (an import's own key) a second call replaces the findings of
    the same analysis instead of adding one. Returns the analysis and whether anything
    changed.
    """
    if method not in (Method.FTIR, Method.LAB, Method.OTHER):
        raise DrugCheckingError("Choose FTIR, laboratory or another method.", "method")
    _not_future(date, "date")
    items = list(found)
    seen: set[int] = set()
    for item in items:
        if item.substance.pk in seen:
            raise DrugCheckingError(f"{item.substance.name} is listed twice.", "found")
        seen.add(item.substance.pk)
        if item.role not in FindingRole.values:
            raise DrugCheckingError("Choose main component or trace.", "found")
        if item.percent is not None and not Decimal(0) <= item.percent <= Decimal(100):
            raise DrugCheckingError("A percentage is between 0 and 100.", "found")
    if sum((i.percent or Decimal(0)) for i in items) > Decimal(100):
        raise DrugCheckingError("The percentages add up to more than 100.", "found")
    analysis = None
    if source_key:
        analysis = Analysis.objects.filter(sample=sample, source_key=source_key).first()
    changed = True
    if analysis is None:
        analysis = Analysis.objects.create(
            sample=sample,
            method=method,
            date=date,
            technique=technique,
            source_key=source_key,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    else:
        before = {
            (f.substance_id, f.role, f.percent, f.reported_as) for f in analysis.findings.all()
        }
        after = {(i.substance.pk, i.role, i.percent, i.reported_as) for i in items}
        same_head = (analysis.method, analysis.date, analysis.technique) == (
            method,
            date,
            technique,
        )
        if before == after and same_head:
            return analysis, False
        analysis.method, analysis.date, analysis.technique = method, date, technique
        analysis.save(update_fields=["method", "date", "technique"])
        analysis.findings.all().delete()
    Finding.objects.bulk_create(
        Finding(
            analysis=analysis,
            substance=i.substance,
            role=i.role,
            percent=i.percent,
            reported_as=i.reported_as[:120],
        )
        for i in items
    )
    record(
        actor,
        "sample.analysed",
        sample,
        site=sample.site_id,
        detail={"method": method, "substances": len(items)},
    )
    if evaluate:
        rules.evaluate(sample)
    return analysis, changed


@transaction.atomic
def give_back(actor: Any, sample: Sample) -> Sample:
    """The person has been told their result."""
    if not sample.analyses.exists():
        raise DrugCheckingError("There is no result to give back yet.")
    if sample.given_back_at is None:
        sample.given_back_at = timezone.now()
        sample.save(update_fields=["given_back_at"])
        record(actor, "sample.given_back", sample, site=sample.site_id)
    return sample


def attach_photo(actor: Any, sample: Sample, upload: Any) -> SamplePhoto:
    """Keep a picture of the sample, re-encoded: the camera's metadata (where and on what
    device it was taken) is dropped, because a picture's GPS tag could point to a home."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if getattr(upload, "size", 0) > PHOTO_MAX_BYTES:
        raise DrugCheckingError("The picture is larger than 10 MB.", "photo")
    try:
        opened = Image.open(upload)
        opened.load()
    except (UnidentifiedImageError, OSError) as error:
        raise DrugCheckingError("This file is not a picture Harbour can read.", "photo") from error
    image: Image.Image = ImageOps.exif_transpose(opened) or opened
    image = image.convert("RGB")
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)  # a new file: no EXIF, no GPS, no device
    with transaction.atomic():
        photo, _ = SamplePhoto.objects.update_or_create(
            sample=sample,
            defaults={"jpeg": out.getvalue(), "width": image.width, "height": image.height},
        )
        record(actor, "sample.photo", sample, site=sample.site_id)
        for alert in Alert.objects.filter(signals__sample=sample, photo_sample__isnull=True):
            alert.photo_sample = sample
            alert.save(update_fields=["photo_sample", "updated_at"])
    return photo


def link_client(actor: Any, sample: Sample, client: Client | None) -> Sample:
    with transaction.atomic():
        sample.client = client
        sample.save(update_fields=["client"])
        record(
            actor,
            "sample.followed_up" if client else "sample.unlinked",
            sample,
            site=sample.site_id,
        )
    return sample


# Alerts -------------------------------------------------------------------------------


def _words(title: str, message: str) -> tuple[str, str]:
    title, message = title.strip(), message.strip()
    if not title:
        raise DrugCheckingError("An alert needs a title.", "title")
    if len(title) > 160:
        raise DrugCheckingError("Keep the title under 160 characters.", "title")
    if not message:
        raise DrugCheckingError("An alert needs a message.", "message")
    return title, message


def _locked(alert: Alert) -> Alert:
    # Two reviewers acting at once: the second sees the first one's decision.
    return Alert.objects.select_for_update().get(pk=alert.pk)


@transaction.atomic
def publish(actor: Any, alert: Alert, *, title: str, message: str) -> Alert:
    """A reviewer agrees: the alert goes out to staff, peers, partners and the public board."""
    alert = _locked(alert)
    if alert.status != AlertStatus.DRAFT:
        raise DrugCheckingError("Only an alert awaiting review can be sent.")
    alert.title, alert.message = _words(title, message)
    alert.status = AlertStatus.PUBLISHED
    alert.published_at = timezone.now()
    alert.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
    alert.save()
    record(actor, "alert.published", alert, detail={"rule": alert.rule})
    return alert


@transaction.atomic
def revise(actor: Any, alert: Alert, *, title: str, message: str) -> Alert:
    """The picture changed: a sent alert gets new words and a new revision number."""
    alert = _locked(alert)
    if alert.status != AlertStatus.PUBLISHED:
        raise DrugCheckingError("Only a sent alert can be updated.")
    title, message = _words(title, message)
    if (title, message) == (alert.title, alert.message):
        return alert
    alert.title, alert.message = title, message
    alert.revision += 1
    alert.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
    alert.save()
    record(actor, "alert.updated", alert, detail={"revision": alert.revision})
    return alert


@transaction.atomic
def close(actor: Any, alert: Alert, *, reason: str) -> Alert:
    """Withdraw a sent alert, or decide not to send a draft. Both need a reason."""
    alert = _locked(alert)
    reason = reason.strip()
    if not reason:
        raise DrugCheckingError("Say why, so others understand the decision.", "reason")
    if alert.status == AlertStatus.DRAFT:
        alert.status = AlertStatus.DISMISSED
    elif alert.status == AlertStatus.PUBLISHED:
        alert.status = AlertStatus.WITHDRAWN
    else:
        raise DrugCheckingError("This alert is already closed.")
    alert.closed_at = timezone.now()
    alert.closed_reason = reason[:300]
    alert.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
    alert.save()
    record(actor, f"alert.{alert.status}", alert, detail={"rule": alert.rule})
    return alert


def active_alerts() -> list[Alert]:
    """Sent and not withdrawn: what every page's banner shows."""
    return list(
        Alert.objects.filter(status=AlertStatus.PUBLISHED)
        .select_related("substance")
        .order_by("-published_at")
    )


def evidence(alert: Alert) -> list[Signal]:
    return list(alert.signals.select_related("sample", "substance").order_by("-sample__date"))
