"""Drug alerts for staff: the list everyone signed in reads, and the reviewer's screens
(review an alert and its evidence, the rules' settings, the substance dictionary).

Reading sent alerts is for everyone who works in the programme (``SELF``): a peer in
outreach needs the warning most. Sending, updating, withdrawing and changing what the
rules do is for the alert reviewer only (``ALERT_REVIEW``), who signs in with two factors.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.audit.models import AuditEvent
from harbour.drugchecking import services, settings_services
from harbour.drugchecking.alert_forms import (
    AlertSettingsForm,
    AlertWordsForm,
    CloseForm,
    SubstanceFilterForm,
    SubstanceForm,
)
from harbour.drugchecking.models import (
    Alert,
    AlertSettings,
    AlertStatus,
    Rule,
    Sample,
    Substance,
    SubstanceClass,
)
from harbour.drugchecking.public_views import photo_of
from harbour.drugchecking.wording import FoundLine, explain, sentence_case

# Closed alerts stay on the list this long, so a withdrawal is seen, not only missed.
RECENT = dt.timedelta(days=90)


def _failed(form: forms.Form, error: services.DrugCheckingError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


# -- the list -------------------------------------------------------------------------


@requires(Cap.SELF)
def alert_list(request: HttpRequest) -> HttpResponse:
    reviewer = access.has(request.user, Cap.ALERT_REVIEW)
    since = timezone.now() - RECENT
    alerts = Alert.objects.select_related("substance")
    context: dict[str, Any] = {
        "reviewer": reviewer,
        "sent": alerts.filter(status=AlertStatus.PUBLISHED).order_by("-published_at"),
        "withdrawn": alerts.filter(status=AlertStatus.WITHDRAWN, closed_at__gte=since).order_by(
            "-closed_at"
        ),
    }
    if reviewer:
        context["drafts"] = list(alerts.filter(status=AlertStatus.DRAFT).order_by("created_at"))
        context["dismissed"] = alerts.filter(
            status=AlertStatus.DISMISSED, closed_at__gte=since
        ).order_by("-closed_at")
    return render(request, "drugchecking/alert_list.html", context)


# -- review -----------------------------------------------------------------------------


def why(alert: Alert, rules: AlertSettings) -> str:
    """Why the rule fired, in the words a reviewer checks it against."""
    name = alert.substance.label
    where = f"in {alert.region}" if alert.region else "with no region recorded"
    rule = Rule(alert.rule)
    if rule == Rule.UNEXPECTED:
        return (
            f"{sentence_case(name)} is marked noteworthy in the substance dictionary, and it "
            f"was found in samples people expected to be something else."
        )
    if rule == Rule.NEW_SUBSTANCE:
        return (
            f"No earlier sample of the programme held {name}, and the programme had already "
            f"analysed at least {rules.new_substance_after} samples, enough to know what is "
            f"usual."
        )
    if rule == Rule.CONCENTRATION:
        return (
            f"Samples held more than {alert.substance.alert_percent} % {name}, the threshold "
            f"set for it in the substance dictionary."
        )
    return (
        f"{rules.cluster_samples} or more samples {where} held {name} unexpectedly or above "
        f"its threshold, collected within {rules.cluster_days} days of each other."
    )


@dataclass
class Evidence:
    sample: Sample
    expected: str
    found: list[FoundLine]
    background: list[FoundLine]
    strips: list[tuple[str, str, str]]
    new: bool  # arrived after the alert was sent
    href: str = field(default="")


def _evidence(alert: Alert) -> list[Evidence]:
    rows = []
    for signal in services.evidence(alert):
        sample = signal.sample
        result = explain(sample)
        rows.append(
            Evidence(
                sample=sample,
                expected=result.expected,
                found=result.main,
                background=result.background,
                strips=result.strips,
                new=alert.published_at is not None and signal.created_at > alert.published_at,
                # The sample page belongs to the sample screens; its name may not exist yet.
                href=f"/drug-checking/samples/{sample.pk}/",
            )
        )
    return rows


def _history(alert: Alert) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="alert", object_id=str(alert.pk)).order_by("at")
    )


def _photo_data(alert: Alert) -> str:
    """The picture the public card shows, inline: a draft's card is not public yet."""
    photo = photo_of(alert)
    if photo is None:
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(bytes(photo.jpeg)).decode("ascii")


def _review_page(
    request: HttpRequest,
    alert: Alert,
    *,
    words: AlertWordsForm | None = None,
    close: CloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rules = AlertSettings.get()
    evidence = _evidence(alert)
    if words is None and alert.is_open:
        words = AlertWordsForm(
            initial={"title": alert.title, "message": alert.message}, auto_id="words_%s"
        )
    if close is None and alert.is_open:
        close = CloseForm(auto_id="close_%s")
    new_samples = len({row.sample.pk for row in evidence if row.new})
    history = _history(alert)
    sent_by = next((e.actor_name for e in history if e.action == "alert.published"), "")
    return render(
        request,
        "drugchecking/alert_review.html",
        {
            "alert": alert,
            "why": why(alert, rules),
            "evidence": evidence,
            "new_samples": new_samples,
            "history": history,
            "sent_by": sent_by,
            "photo": _photo_data(alert),
            "words": words,
            "close": close,
            "rules": rules,
            "card_url": request.build_absolute_uri(reverse("public:alert", args=[alert.pk])),
        },
        status=status,
    )


@requires(Cap.ALERT_REVIEW)
def review(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("substance", "reviewed_by"), pk=pk)
    if request.method != "POST":
        return _review_page(request, alert)
    action = request.POST.get("action", "")
    if action == "close":
        close = CloseForm(request.POST, auto_id="close_%s")
        if close.is_valid():
            was_draft = alert.status == AlertStatus.DRAFT
            try:
                services.close(request.user, alert, reason=close.cleaned_data["reason"])
            except services.DrugCheckingError as error:
                _failed(close, error)
            else:
                messages.success(
                    request,
                    "The alert will not be sent." if was_draft else "The alert is withdrawn.",
                )
                return redirect("alerts:list")
        alert.refresh_from_db()  # another reviewer may have acted meanwhile
        return _review_page(request, alert, close=close, status=422)
    if action in ("publish", "revise"):
        words = AlertWordsForm(request.POST, auto_id="words_%s")
        if words.is_valid():
            act = services.publish if action == "publish" else services.revise
            try:
                done = act(request.user, alert, **words.cleaned_data)
            except services.DrugCheckingError as error:
                _failed(words, error)
            else:
                if action == "publish":
                    messages.success(request, "The alert is sent: every page now shows it.")
                elif done.revision == alert.revision:
                    messages.info(request, "Nothing changed, so the alert was not updated.")
                else:
                    messages.success(request, f"The alert is updated (revision {done.revision}).")
                return redirect("alerts:review", pk=alert.pk)
        alert.refresh_from_db()
        return _review_page(request, alert, words=words, status=422)
    messages.error(request, "Choose what to do with the alert.")
    return redirect("alerts:review", pk=alert.pk)


# -- the rules --------------------------------------------------------------------------


@requires(Cap.ALERT_REVIEW)
def rules(request: HttpRequest) -> HttpResponse:
    row = AlertSettings.get()
    initial = {
        "include_traces": row.include_traces,
        "new_substance_classes": row.new_substance_classes,
        "new_substance_after": row.new_substance_after,
        "cluster_samples": row.cluster_samples,
        "cluster_days": row.cluster_days,
    }
    if request.method == "POST":
        form = AlertSettingsForm(request.POST, auto_id="rules_%s")
        if form.is_valid():
            try:
                settings_services.update_alert_settings(request.user, **form.cleaned_data)
            except services.DrugCheckingError as error:
                _failed(form, error)
            else:
                messages.success(
                    request, "The rules are saved. They apply to results recorded from now on."
                )
                return redirect("alerts:rules")
        status = 422
    else:
        form = AlertSettingsForm(initial=initial, auto_id="rules_%s")
        status = 200
    noteworthy = Substance.objects.filter(noteworthy=True).order_by("name")
    thresholds = Substance.objects.filter(alert_percent__isnull=False).order_by("name")
    return render(
        request,
        "drugchecking/rules.html",
        {
            "form": form,
            "settings": row,
            "noteworthy": noteworthy,
            "thresholds": thresholds,
        },
        status=status,
    )


# -- the substance dictionary ----------------------------------------------------------


@requires(Cap.ALERT_REVIEW)
def substances(request: HttpRequest) -> HttpResponse:
    form = SubstanceFilterForm(request.GET or None)
    qs = Substance.objects.all()
    query, chosen = "", ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        chosen = form.cleaned_data["drug_class"]
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(names__name__icontains=query.lower()))
    if chosen:
        qs = qs.filter(drug_class=chosen)
    unclassified = Substance.objects.filter(drug_class=SubstanceClass.UNCLASSIFIED).count()
    # Imports add names nobody has sorted yet: those come first, to be classified.
    qs = (
        qs.distinct()
        .annotate(
            later=Case(
                When(drug_class=SubstanceClass.UNCLASSIFIED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("later", "name")
        .prefetch_related("names")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "drugchecking/substance_list.html",
        {
            "form": form,
            "page": page,
            "query": params.urlencode(),
            "unclassified": unclassified,
            "filtered": bool(query or chosen),
        },
    )


def _substance_initial(substance: Substance) -> dict[str, Any]:
    return {
        "name": substance.name,
        "drug_class": substance.drug_class,
        "generic": substance.generic,
        "noteworthy": substance.noteworthy,
        "alert_percent": substance.alert_percent,
        "advice": substance.advice,
        "pubchem_cid": substance.pubchem_cid,
        "cas": substance.cas,
        "synonyms": "\n".join(substance.names.values_list("name", flat=True)),
    }


@requires(Cap.ALERT_REVIEW)
def substance_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    substance = get_object_or_404(Substance, pk=pk) if pk is not None else None
    if request.method == "POST":
        form = SubstanceForm(request.POST, substance=substance, auto_id="substance_%s")
        if form.is_valid():
            try:
                saved = settings_services.save_substance(
                    request.user, substance, **form.cleaned_data
                )
            except services.DrugCheckingError as error:
                _failed(form, error)
            else:
                verb = "added to" if substance is None else "saved in"
                messages.success(request, f"{saved.name} is {verb} the dictionary.")
                return redirect("alerts:substances")
        status = 422
    else:
        initial = _substance_initial(substance) if substance else {}
        form = SubstanceForm(initial=initial, substance=substance, auto_id="substance_%s")
        status = 200
    alerts = (
        Alert.objects.filter(substance=substance).order_by("-created_at")[:10] if substance else []
    )
    return render(
        request,
        "drugchecking/substance_form.html",
        {"form": form, "substance": substance, "alerts": alerts},
        status=status,
    )
