"""Case management screens: the morning lists, a client's case, the partner directory.

Writes go through harbour.casework.services; a form that fails comes back with its
errors under the field they are about, with status 422.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import working_site
from harbour.casework import services
from harbour.casework.forms import (
    AppointmentForm,
    AssignForm,
    AttendanceForm,
    PartnerForm,
    ReferralForm,
    ReferralStatusForm,
    RemindersForm,
)
from harbour.casework.models import Appointment, PartnerService, Referral, ServiceKind
from harbour.clients import services as clients
from harbour.clients.models import Client

# The buttons of a referral's next steps, in the order a case manager meets them.
STEP_LABELS = {
    Referral.Status.ACCEPTED: "Accepted",
    Referral.Status.ATTENDED: "Attended",
    Referral.Status.NOT_ATTENDED: "Did not attend",
    Referral.Status.DECLINED: "Declined by the service",
    Referral.Status.WITHDRAWN: "Changed their mind",
}


def _scope(request: HttpRequest) -> QuerySet[Client]:
    return access.client_scope(request.user, Cap.CASEWORK)


def _client(request: HttpRequest, pk: object) -> Client:
    client = get_object_or_404(Client, pk=pk)
    if client.merged_into_id is not None:
        raise Http404("This record was merged into another one.")
    access.require_client(request.user, Cap.CASEWORK, client)
    return client


def _add_error(form: Any, exc: services.CaseworkError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


def _back(client: Client, anchor: str) -> HttpResponse:
    return redirect(reverse("casework:client", args=[client.pk]) + f"#{anchor}")


# -- the morning page -------------------------------------------------------------------


@requires(Cap.CASEWORK)
def morning(request: HttpRequest) -> HttpResponse:
    """What a case manager opens first: today, what is overdue, who is slipping away."""
    site = working_site(request, Cap.CASEWORK)
    today = timezone.localdate()
    visible = _scope(request)
    # A case manager who moved on keeps no view of clients at sites no longer theirs.
    mine = services.caseload(request.user).filter(pk__in=visible.values("pk"))
    appointments = (
        services.todays_appointments(mine, today)
        | services.todays_appointments(visible, today).filter(site=site)
    ).order_by("at")
    stale = (
        services.stale_referrals(mine, today)
        | services.stale_referrals(visible, today).filter(site=site)
    ).order_by("made_on")
    now = timezone.now()
    caseload = mine.annotate(
        open_referrals=Count(
            "referrals", filter=Q(referrals__status__in=Referral.OPEN), distinct=True
        ),
        next_appointment=Min(
            "appointments__at",
            filter=Q(appointments__at__gte=now, appointments__attended__isnull=True),
        ),
    ).order_by("code")
    mine_ids = set(mine.values_list("pk", flat=True))
    return render(
        request,
        "casework/morning.html",
        {
            "site": site,
            "today": today,
            "appointments": appointments,
            "stale": stale,
            "lost": services.lost_to_follow_up(mine, today),
            "caseload": caseload,
            "mine_ids": mine_ids,
            "follow_up_days": settings.REFERRAL_FOLLOW_UP_DAYS,
            "lost_after_days": services.LOST_AFTER_DAYS,
        },
    )


# -- a client's case --------------------------------------------------------------------


@dataclass
class ReferralRow:
    referral: Referral
    form: ReferralStatusForm
    steps: list[tuple[str, str]]


@dataclass
class AppointmentRow:
    appointment: Appointment
    form: AttendanceForm
    day_has_come: bool  # whether the person came is recorded from the day itself


def _page(
    request: HttpRequest,
    client: Client,
    *,
    status: int = 200,
    bound: dict[object, Any] | None = None,
    **forms: Any,
) -> HttpResponse:
    """The case page. ``bound`` holds a failed form of one referral or appointment."""
    site = working_site(request, Cap.CASEWORK)
    bound = bound or {}
    today = timezone.localdate()
    rows = []
    for r in client.referrals.select_related("service", "made_by", "site"):
        allowed = services.NEXT.get(Referral.Status(r.status), set())
        steps = [(s.value, label) for s, label in STEP_LABELS.items() if s in allowed]
        form = bound.get(r.pk) or ReferralStatusForm(auto_id=f"ref-{r.pk.hex[:8]}-%s")
        rows.append(ReferralRow(r, form, steps))
    start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    upcoming = client.appointments.filter(at__gte=start_of_today).select_related("site")
    past = client.appointments.filter(at__lt=start_of_today).select_related("site")
    appointments = []
    for a in [*upcoming, *past.order_by("-at")[:10]]:
        day_has_come = timezone.localtime(a.at).date() <= today
        appointments.append(AppointmentRow(a, bound.get(a.pk) or AttendanceForm(), day_has_come))
    open_referrals = client.referrals.filter(status__in=Referral.OPEN).select_related("service")
    assignment = services.current_assignment(client)
    can_edit_phone = (
        access.client_scope(request.user, Cap.CLIENT_CONTACT_DETAILS).filter(pk=client.pk).exists()
    )
    context = {
        "client": client,
        "site": site,
        "referrals": rows,
        "appointments": appointments,
        "assignment": assignment,
        "is_mine": assignment is not None and assignment.case_manager_id == request.user.pk,
        "referral_form": forms.get("referral_form")
        or ReferralForm(initial={"referral_id": uuid.uuid4()}),
        "appointment_form": forms.get("appointment_form")
        or AppointmentForm(referrals=open_referrals),
        "assign_form": forms.get("assign_form")
        or AssignForm(
            candidates=services.case_managers(site),
            initial={"case_manager": assignment.case_manager_id if assignment else None},
        ),
        "has_phone": bool(client.phone),
        "can_edit_phone": can_edit_phone,
        "follow_up_days": settings.REFERRAL_FOLLOW_UP_DAYS,
    }
    return render(request, "casework/client.html", context, status=status)


@requires(Cap.CASEWORK)
def client_case(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk)
    clients.viewed(request.user, client, working_site(request, Cap.CASEWORK), what="casework")
    return _page(request, client)


@requires(Cap.CASEWORK)
@require_POST
def refer(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk)
    site = working_site(request, Cap.CASEWORK)
    form = ReferralForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            referral, created = services.refer(
                request.user,
                client,
                site,
                kind=data["kind"],
                service=data["service"],
                made_on=data["made_on"],
                referral_id=data["referral_id"],
            )
        except services.CaseworkError as exc:
            _add_error(form, exc)
        else:
            what = referral.service.name if referral.service else referral.get_kind_display()
            if created:
                messages.success(request, f"Referral to {what} recorded.")
            else:
                messages.info(request, "This referral was already recorded.")
            return _back(client, "referrals")
    return _page(request, client, status=422, referral_form=form)


@requires(Cap.CASEWORK)
@require_POST
def referral_status(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    referral = get_object_or_404(Referral.objects.select_related("client"), pk=pk)
    client = _client(request, referral.client_id)
    form = ReferralStatusForm(request.POST, auto_id=f"ref-{referral.pk.hex[:8]}-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_referral(
                request.user,
                referral,
                status=data["status"],
                on=data["status_on"],
                reason=data["reason"],
            )
        except services.CaseworkError as exc:
            _add_error(form, exc)
        else:
            label = Referral.Status(data["status"]).label.lower()
            messages.success(request, f"Referral ({referral.get_kind_display()}): {label}.")
            return _back(client, "referrals")
    return _page(request, client, status=422, bound={referral.pk: form})


@requires(Cap.CASEWORK)
@require_POST
def book(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk)
    site = working_site(request, Cap.CASEWORK)
    open_referrals = client.referrals.filter(status__in=Referral.OPEN)
    form = AppointmentForm(request.POST, referrals=open_referrals)
    if form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.book(
                request.user,
                client,
                site,
                at=data["at"],
                purpose=data["purpose"],
                referral=data.get("referral"),
            )
        except services.CaseworkError as exc:
            _add_error(form, exc)
        else:
            when = timezone.localtime(appointment.at).strftime("%a %d %b at %H:%M")
            messages.success(request, f"Appointment booked for {when}.")
            return _back(client, "appointments")
    return _page(request, client, status=422, appointment_form=form)


@requires(Cap.CASEWORK)
@require_POST
def attendance(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    appointment = get_object_or_404(Appointment, pk=pk)
    client = _client(request, appointment.client_id)
    form = AttendanceForm(request.POST)
    if form.is_valid():
        try:
            services.record_attendance(
                request.user, appointment, attended=form.cleaned_data["attended"]
            )
        except services.CaseworkError as exc:
            _add_error(form, exc)
        else:
            came = "came" if form.cleaned_data["attended"] else "did not come"
            messages.success(request, f"Recorded: the person {came}.")
            return _back(client, "appointments")
    return _page(request, client, status=422, bound={appointment.pk: form})


@requires(Cap.CASEWORK)
@require_POST
def assign(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk)
    site = working_site(request, Cap.CASEWORK)
    form = AssignForm(request.POST, candidates=services.case_managers(site))
    if form.is_valid():
        manager = form.cleaned_data["case_manager"]
        current = services.current_assignment(client)
        if current is not None and current.case_manager_id == manager.pk:
            messages.info(request, f"{client.code} is already with {manager.get_username()}.")
            return _back(client, "case-manager")
        try:
            services.assign(request.user, client, manager)
        except services.CaseworkError as exc:
            _add_error(form, exc)
        else:
            who = "you" if manager.pk == request.user.pk else manager.get_username()
            messages.success(request, f"{client.code} is now in the caseload of {who}.")
            return _back(client, "case-manager")
    return _page(request, client, status=422, assign_form=form)


@requires(Cap.CASEWORK)
@require_POST
def reminders(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk)
    form = RemindersForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Reminders: choose whether the person agrees.")
        return _page(request, client, status=422)
    agrees = form.cleaned_data["agrees"]
    services.set_reminders(
        request.user, client, agrees=agrees, site=working_site(request, Cap.CASEWORK)
    )
    if agrees and not client.phone:
        messages.info(request, "Recorded. Add the person's number so reminders can be sent.")
    elif agrees:
        messages.success(request, "Recorded: the person gets text reminders.")
    else:
        messages.success(request, "Recorded: no text reminders for this person.")
    return _back(client, "reminders")


# -- the directory of partner services --------------------------------------------------


def _may_read_directory(user: Any) -> bool:
    return access.has(user, Cap.CASEWORK) or access.has(user, Cap.PARTNER_MANAGE)


# Case managers read the directory, site managers and administrators keep it: two
# capabilities, and a view declares one, so this view declares the signed-in one and
# checks the two itself.
@requires(Cap.SELF)
def partners(request: HttpRequest) -> HttpResponse:
    if not _may_read_directory(request.user):
        raise PermissionDenied("Your role does not allow this page.")
    can_manage = access.has(request.user, Cap.PARTNER_MANAGE)
    shown = PartnerService.objects.all()
    if not can_manage:
        shown = shown.filter(active=True)
    groups: dict[str, list[PartnerService]] = {}
    for p in shown:
        groups.setdefault(ServiceKind(p.kind).label, []).append(p)
    return render(
        request,
        "casework/partners.html",
        {"groups": list(groups.items()), "can_manage": can_manage},
    )


@requires(Cap.PARTNER_MANAGE)
def partner_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    partner = get_object_or_404(PartnerService, pk=pk) if pk else PartnerService()
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        saved = services.save_partner(request.user, form.save(commit=False), form.changed_data)
        messages.success(request, f"Saved {saved.name}.")
        return redirect("casework:partners")
    return render(
        request,
        "casework/partner_form.html",
        {"form": form, "partner": partner},
        status=422 if request.method == "POST" else 200,
    )
