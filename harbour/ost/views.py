from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import working_site
from harbour.audit.services import record
from harbour.clients import services as clients
from harbour.clients.models import Client
from harbour.ost import board, services
from harbour.ost.forms import (
    DispenseForm,
    EndForm,
    EnrolForm,
    PrescriptionForm,
    ReviewForm,
    TakeHomeForm,
)
from harbour.ost.letter import travel_letter
from harbour.ost.models import Episode
from harbour.sites.models import Organisation


def _episode(request: HttpRequest, pk: uuid.UUID, cap: Cap) -> Episode:
    episode = get_object_or_404(Episode.objects.select_related("client", "site"), pk=pk)
    access.require(request.user, cap, episode.site)
    return episode


@requires(Cap.OST_DISPENSE)
def dispensing(request: HttpRequest) -> HttpResponse:
    """Today's expected people at this site, one key to confirm an observed dose."""
    site = working_site(request, Cap.OST_DISPENSE)
    today = timezone.localdate()
    services.close_past_days(site, today)
    rows = board.build(site, today)
    due = [r for r in rows if r.status == "due"]
    return render(
        request,
        "ost/dispensing.html",
        {
            "site": site,
            "today": today,
            "rows": rows,
            "due": len(due),
            "given": sum(1 for r in rows if r.status == "given"),
            "blocked": sum(1 for r in rows if r.status == "blocked"),
        },
    )


@requires(Cap.OST_DISPENSE)
@require_POST
def dispense(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    episode = _episode(request, pk, Cap.OST_DISPENSE)
    site = working_site(request, Cap.OST_DISPENSE)
    form = DispenseForm(request.POST)
    back = reverse("ost:dispensing")
    if not form.is_valid():
        messages.error(request, "That dose could not be recorded: " + form.errors.as_text())
        return redirect(back)
    try:
        dose = services.dispense(
            request.user,
            episode,
            site=site,
            taken=form.cleaned_data["taken"],
            justification=form.cleaned_data["justification"],
        )
    except services.OSTError as exc:
        messages.error(request, f"{episode.client.code}: {exc}")
        if exc.code in {"second_dose", "needs_review"}:
            return redirect("ost:episode", pk=episode.pk)
        return redirect(back)
    given = f"{services.mg(dose.dose_mg)} mg {dose.get_taken_display().lower()}"
    messages.success(request, f"{episode.client.code}: {given}.")
    return redirect(back)


@requires(Cap.OST_VIEW)
def episode_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    episode = _episode(request, pk, Cap.OST_VIEW)
    clients.viewed(request.user, episode.client, episode.site, what="ost")
    today = timezone.localdate()
    # As on the board: the missed doses a clinician reviews must be on the page.
    services.close_past_days(episode.site, today)
    current = services.current_prescription(episode, today)
    initial: dict[str, Any] = {}
    if current is not None:
        initial = {
            "dose_mg": current.dose_mg,
            "phase": current.phase,
            "take_home_days": [str(d) for d in current.take_home_days],
        }
    return render(
        request,
        "ost/episode.html",
        {
            "episode": episode,
            "current": current,
            "prescriptions": episode.prescriptions.select_related("author"),
            "doses": episode.doses.select_related("recorded_by")[:30],
            "reviews": episode.reviews.select_related("by"),
            "missed": services.consecutive_missed(episode, today + dt.timedelta(days=1)),
            "prescription_form": PrescriptionForm(initial=initial, auto_id="prescribe_%s"),
            "review_form": ReviewForm(auto_id="review_%s"),
            "end_form": EndForm(auto_id="end_%s"),
            "take_home_form": TakeHomeForm(
                initial={"start": today + dt.timedelta(days=1)}, auto_id="take_home_%s"
            ),
            "dispense_form": DispenseForm(auto_id="give_%s"),
            "can_prescribe": access.has(request.user, Cap.OST_PRESCRIBE, episode.site),
            "can_dispense": access.has(request.user, Cap.OST_DISPENSE, episode.site),
            "adequate": services.ADEQUATE_MG.get(episode.medication),
        },
    )


def _post_action(request: HttpRequest, episode: Episode, form: Any, action: Any) -> HttpResponse:
    if form.is_valid():
        try:
            message = action(form.cleaned_data)
        except services.OSTError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, message)
            return redirect("ost:episode", pk=episode.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label or 'Error'}: {error}")
    return redirect("ost:episode", pk=episode.pk)


@requires(Cap.OST_DISPENSE)
@require_POST
def prescribe(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    episode = _episode(request, pk, Cap.OST_DISPENSE)

    def act(data: dict[str, Any]) -> str:
        services.prescribe(
            request.user,
            episode,
            dose_mg=data["dose_mg"],
            phase=data["phase"],
            valid_from=data["valid_from"],
            reason=data["reason"],
            take_home_days=[int(d) for d in data["take_home_days"]],
        )
        return f"Prescription saved: {services.mg(data['dose_mg'])} mg from {data['valid_from']}."

    return _post_action(request, episode, PrescriptionForm(request.POST), act)


@requires(Cap.OST_PRESCRIBE)
@require_POST
def review(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    episode = _episode(request, pk, Cap.OST_PRESCRIBE)

    def act(data: dict[str, Any]) -> str:
        services.review(request.user, episode, data["note"])
        return "Review recorded: the next dose can be given."

    return _post_action(request, episode, ReviewForm(request.POST), act)


@requires(Cap.OST_PRESCRIBE)
@require_POST
def end(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    episode = _episode(request, pk, Cap.OST_PRESCRIBE)

    def act(data: dict[str, Any]) -> str:
        services.end_episode(
            request.user,
            episode,
            end_date=data["end_date"],
            reason=data["reason"],
            linked_service=data["linked_service"],
        )
        return "The episode has ended."

    return _post_action(request, episode, EndForm(request.POST), act)


@requires(Cap.OST_DISPENSE)
@require_POST
def take_homes(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    episode = _episode(request, pk, Cap.OST_DISPENSE)
    site = working_site(request, Cap.OST_DISPENSE)

    def act(data: dict[str, Any]) -> str:
        dates = [data["start"] + dt.timedelta(days=i) for i in range(data["days"])]
        doses = services.issue_take_homes(request.user, episode, site=site, dates=dates)
        return f"{len(doses)} take-home dose(s) issued: " + ", ".join(
            d.date.strftime("%a %d %b") for d in doses
        )

    return _post_action(request, episode, TakeHomeForm(request.POST), act)


@requires(Cap.OST_PRESCRIBE)
def enrol(request: HttpRequest, client_pk: uuid.UUID) -> HttpResponse:
    client = get_object_or_404(Client, pk=client_pk, merged_into__isnull=True)
    access.require_client(request.user, Cap.CLIENT_VIEW, client)
    site = working_site(request, Cap.OST_PRESCRIBE)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            episode = services.enrol(
                request.user,
                client,
                site,
                medication=data["medication"],
                start_date=data["start_date"],
                consent_on=data["start_date"],
                dose_mg=data["dose_mg"],
                phase=data["phase"],
                start_context=data["start_context"],
                linked_service=data["linked_service"],
            )
        except services.OSTError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, "Treatment started.")
            return redirect("ost:episode", pk=episode.pk)
    return render(
        request,
        "ost/enrol.html",
        {"form": form, "client": client, "site": site},
        status=422 if request.method == "POST" else 200,
    )


@requires(Cap.OST_VIEW)
def dose_review(request: HttpRequest) -> HttpResponse:
    """People in maintenance below an adequate dose: under-dosing drives people away."""
    site = working_site(request, Cap.OST_VIEW)
    return render(
        request,
        "ost/dose_review.html",
        {"site": site, "rows": services.below_adequate(site), "limits": services.ADEQUATE_MG},
    )


@requires(Cap.OST_PRESCRIBE)
def letter(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    episode = _episode(request, pk, Cap.OST_PRESCRIBE)
    today = timezone.localdate()
    current = services.current_prescription(episode, today)
    if current is None or not episode.ongoing:
        messages.error(request, "A travel letter needs an ongoing episode with a prescription.")
        return redirect("ost:episode", pk=episode.pk)
    user = request.user
    name = getattr(user, "get_full_name", lambda: "")() or user.get_username()
    pdf = travel_letter(
        episode,
        current,
        issued_by=name,
        valid_until=today + dt.timedelta(days=30),
        programme=Organisation.get().name,
    )
    record(
        request.user,
        "ost.travel_letter",
        episode,
        site=episode.site,
        detail={"client": episode.client.code},
    )
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="travel-letter-{episode.client.code}.pdf"'
        },
    )
