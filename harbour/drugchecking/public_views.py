"""What drug checking tells the public, without signing in: an alert's card (printable,
shareable by its address and a QR code) and the board of recent results.

Nothing here is finer than a region or a week: never a sample number, a site, a
person, or the day a sample was collected. A draft or an alert decided against never
shows: it is a 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass
from typing import Any

import segno
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from harbour.accounts.access import public
from harbour.audit.models import AuditEvent
from harbour.drugchecking.advice import UNEXPECTED
from harbour.drugchecking.alert_forms import BoardFilterForm
from harbour.drugchecking.feeds import CACHE_CONTROL, withdrawn_notice
from harbour.drugchecking.models import (
    Alert,
    AlertStatus,
    Method,
    Sample,
    SamplePhoto,
    StripOutcome,
    Substance,
)
from harbour.drugchecking.rules import STRIP_SUBSTANCE, is_expected
from harbour.drugchecking.wording import BACKGROUND, explain
from harbour.sites.models import Organisation

SHOWN = (AlertStatus.PUBLISHED, AlertStatus.WITHDRAWN)
BOARD_WEEKS = 12


def _shown_alert(pk: uuid.UUID) -> Alert:
    return get_object_or_404(
        Alert.objects.select_related("substance", "photo_sample"), pk=pk, status__in=SHOWN
    )


@dataclass
class Block:
    kind: str  # "p", "h" (a heading such as "What to do:") or "ul"
    text: str = ""
    items: list[str] | None = None


def message_blocks(message: str) -> list[Block]:
    """An alert's message as paragraphs, headings and lists: lines starting with "- "
    are list items, and a line ending with ":" just before them is their heading."""
    blocks: list[Block] = []
    for raw in message.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line[:2] in ("- ", "* ", "• "):
            if not blocks or blocks[-1].kind != "ul":
                blocks.append(Block("ul", items=[]))
            assert blocks[-1].items is not None
            blocks[-1].items.append(line[2:].strip())
        else:
            blocks.append(Block("h" if line.endswith(":") else "p", text=line))
    # A heading with no list after it was a sentence after all.
    for i, block in enumerate(blocks):
        if block.kind == "h" and (i + 1 == len(blocks) or blocks[i + 1].kind != "ul"):
            block.kind = "p"
    return blocks


def _last_update(alert: Alert) -> dt.datetime | None:
    """When the words were last revised (not when a picture or a sample was added)."""
    if alert.revision <= 1:
        return None
    event = (
        AuditEvent.objects.filter(
            object_type="alert", object_id=str(alert.pk), action="alert.updated"
        )
        .order_by("-at")
        .first()
    )
    return event.at if event else alert.updated_at


def photo_of(alert: Alert) -> SamplePhoto | None:
    """The picture the card shows: of the latest sample behind the alert that has one."""
    if alert.photo_sample_id is None:
        return None
    return SamplePhoto.objects.filter(sample_id=alert.photo_sample_id).first()


@public
def alert_card(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    alert = _shown_alert(pk)
    url = request.build_absolute_uri(reverse("public:alert", args=[alert.pk]))
    return render(
        request,
        "public/alert_card.html",
        {
            "alert": alert,
            "blocks": message_blocks(alert.message),
            "withdrawn": alert.status == AlertStatus.WITHDRAWN,
            "withdrawn_notice": withdrawn_notice(alert),
            "updated": _last_update(alert),
            "programme": Organisation.get().name,
            "card_url": url,
            "has_photo": photo_of(alert) is not None,
        },
    )


@public
def alert_qr(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    alert = _shown_alert(pk)
    url = request.build_absolute_uri(reverse("public:alert", args=[alert.pk]))
    out = io.BytesIO()
    # A viewBox and no fixed size: the page (and the printed card) chooses how large.
    segno.make(url, error="m").save(
        out, kind="svg", scale=4, omitsize=True, xmldecl=False, dark="#000", light="#fff"
    )
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = CACHE_CONTROL
    return response


@public
def alert_photo(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    alert = _shown_alert(pk)
    photo = photo_of(alert)
    if photo is None:
        raise Http404("This alert has no picture.")
    # Re-encoded when it was taken in (services.attach_photo): no place, no device.
    response = HttpResponse(bytes(photo.jpeg), content_type="image/jpeg")
    response["Cache-Control"] = CACHE_CONTROL
    return response


# -- the public results board -------------------------------------------------------


@dataclass
class BoardRow:
    week: dt.date
    region: str
    form: str
    expected: str
    found: list[tuple[str, bool, bool]]  # name, trace, unexpected
    background: list[str]
    methods: str
    unexpected: bool
    nothing_found: bool


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _expected(sample: Sample) -> str:
    names = [s.label for s in sample.expected.all()]
    if names:
        return ", ".join(names)
    if sample.expected_unknown:
        return "Did not know"
    # The person's own words stay off the board: free text can say too much.
    return "Something else" if sample.expected_as_said else "Not recorded"


def _row(sample: Sample) -> BoardRow:
    result = explain(sample)
    expected = list(sample.expected.all())
    found: list[tuple[str, bool, bool]] = [
        (line.name, line.role != "Main component", bool(expected) and line.unexpected)
        for line in result.main
    ]
    names = {name for name, _, _ in found}
    for analysis in sample.analyses.all():
        if analysis.method != Method.STRIP or analysis.strip_outcome != StripOutcome.POSITIVE:
            continue
        family = Substance.objects.filter(name=STRIP_SUBSTANCE.get(analysis.strip_target)).first()
        label = family.label if family else analysis.get_strip_target_display().lower()
        if label not in names:
            surprise = bool(expected) and family is not None and not is_expected(family, expected)
            found.append((f"{label} (test strip)", False, surprise))
            names.add(label)
    methods = sorted({a.get_method_display() for a in sample.analyses.all()})
    assert sample.date is not None
    return BoardRow(
        week=_monday(sample.date),
        region=sample.region or "Not recorded",
        form=sample.get_form_display() or "Not recorded",
        expected=_expected(sample),
        found=found,
        background=[line.name for line in result.background],
        methods=", ".join(methods),
        unexpected=bool(expected) and (UNEXPECTED in result.advice or any(u for *_, u in found)),
        nothing_found=not found,
    )


def _board_samples(start: dt.date, today: dt.date) -> QuerySet[Sample]:
    return Sample.objects.filter(
        date__gte=start, date__lte=today, analyses__isnull=False
    ).distinct()


def _found_choices(samples: QuerySet[Sample]) -> list[Substance]:
    found = (
        Substance.objects.filter(findings__analysis__sample__in=samples)
        .exclude(drug_class__in=BACKGROUND)
        .distinct()
    )
    chosen = {s.pk: s for s in found}
    targets = (
        samples.filter(analyses__method=Method.STRIP, analyses__strip_outcome=StripOutcome.POSITIVE)
        .order_by()
        .values_list("analyses__strip_target", flat=True)
        .distinct()
    )
    names = [STRIP_SUBSTANCE[t] for t in targets if t in STRIP_SUBSTANCE]
    for s in Substance.objects.filter(name__in=names):
        chosen[s.pk] = s
    return sorted(chosen.values(), key=lambda s: s.label)


def _holding(substance: Substance) -> Q:
    q = Q(analyses__findings__substance=substance)
    for target, name in STRIP_SUBSTANCE.items():
        if name == substance.name:
            q |= Q(
                analyses__method=Method.STRIP,
                analyses__strip_target=target,
                analyses__strip_outcome=StripOutcome.POSITIVE,
            )
    return q


@public
def board(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    start = _monday(today) - dt.timedelta(weeks=BOARD_WEEKS - 1)
    window = _board_samples(start, today)
    regions = sorted(
        r for r in window.exclude(region="").order_by().values_list("region", flat=True).distinct()
    )
    form = BoardFilterForm(request.GET or None, regions=regions, substances=_found_choices(window))
    samples = window
    if form.is_valid():
        if form.cleaned_data["region"]:
            samples = samples.filter(region=form.cleaned_data["region"])
        if form.cleaned_data["found"]:
            substance = Substance.objects.get(pk=int(form.cleaned_data["found"]))
            ids = Sample.objects.filter(_holding(substance)).values("pk")
            samples = samples.filter(pk__in=ids)
    # Within a week the order is the random id's: the day a sample came in stays unsaid.
    ordered = (
        Sample.objects.filter(pk__in=samples.values("pk"))
        .annotate(week=TruncWeek("date"))
        .order_by("-week", "region", "pk")
        .prefetch_related("expected", "analyses__findings__substance")
    )
    page = Paginator(ordered, 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    alerts = (
        Alert.objects.filter(status=AlertStatus.PUBLISHED)
        .select_related("substance")
        .order_by("-published_at")
    )
    context: dict[str, Any] = {
        "alerts": alerts,
        "form": form,
        "rows": [_row(s) for s in page.object_list],
        "page": page,
        "query": params.urlencode(),
        "weeks": BOARD_WEEKS,
        "since": start,
        "filtered": bool(form.is_bound and form.is_valid() and any(form.cleaned_data.values())),
        "programme": Organisation.get().name,
    }
    return render(request, "public/board.html", context)
