"""Voluntary testing, treatment and viral loads: a person's page and the morning lists.

Peers and site staff record tests (``TEST_RECORD``); clinicians and case managers
manage treatment (``TREATMENT_MANAGE``). Both read the person's page and the lists,
so those two views declare ``CLIENT_VIEW`` and then require one of the two for the
person or site concerned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import current_site, working_site
from harbour.clients import services as clients
from harbour.clients.models import Client
from harbour.testing import services
from harbour.testing.forms import (
    EndTreatmentForm,
    RecordTestForm,
    ResultForm,
    SupportForm,
    TreatmentForm,
    ViralLoadForm,
)
from harbour.testing.models import Outcome, Result, Test, TestType, Treatment

EITHER = (Cap.TEST_RECORD, Cap.TREATMENT_MANAGE)


def _may(user: Any, cap: Cap, client: Client) -> bool:
    return access.client_scope(user, cap).filter(pk=client.pk).exists()


def _client(request: HttpRequest, pk: uuid.UUID, *caps: Cap) -> Client:
    """The person, if the user holds one of ``caps`` for them (403 otherwise)."""
    client = get_object_or_404(Client, pk=pk)
    if client.merged_into_id is not None:
        raise Http404("This record was merged into another one.")
    if len(caps) == 1:
        access.require_client(request.user, caps[0], client)
    elif not any(_may(request.user, cap, client) for cap in caps):
        raise PermissionDenied("This client's record is not at one of your sites.")
    return client


def _test(request: HttpRequest, pk: uuid.UUID, cap: Cap) -> Test:
    t = get_object_or_404(Test.objects.select_related("client", "site"), pk=pk)
    access.require_client(request.user, cap, t.client)
    return t


def _treatment(request: HttpRequest, pk: uuid.UUID, *caps: Cap) -> Treatment:
    t = get_object_or_404(Treatment.objects.select_related("client", "site"), pk=pk)
    _client(request, t.client.pk, *caps)
    return t


# -- the person's page -----------------------------------------------------------


@dataclass
class TestRow:
    test: Test
    result_form: forms.Form | None = None
    refer: bool = False  # a positive TB screen: refer for a confirmatory test
    confirm_with: str = ""


@dataclass
class TreatmentRow:
    treatment: Treatment
    end_form: forms.Form | None = None
    support_form: forms.Form | None = None
    svr12: dict[str, Any] | None = None
    support: list[Any] = field(default_factory=list)


# The form re-shown with its errors: (which, the test or treatment it is about, form).
Bound = tuple[str, uuid.UUID | None, forms.Form]


def _pick(bound: Bound | None, which: str, pk: uuid.UUID | None, fresh: forms.Form) -> forms.Form:
    if bound is not None and bound[0] == which and bound[1] == pk:
        return bound[2]
    return fresh


def _unshown_errors(bound: Bound | None, shown: list[forms.Form]) -> list[str]:
    """Errors of a form the page no longer shows (the test has its result, the
    treatment has ended since): said at the top instead of lost."""
    if bound is None or any(form is bound[2] for form in shown):
        return []
    form = bound[2]
    return [str(e) for errors in form.errors.values() for e in errors]


def _page(
    request: HttpRequest, client: Client, *, bound: Bound | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    may_test = _may(user, Cap.TEST_RECORD, client)
    may_treat = _may(user, Cap.TREATMENT_MANAGE, client)
    site = current_site(request, Cap.TEST_RECORD if may_test else Cap.TREATMENT_MANAGE)
    clients.viewed(user, client, site, what="testing")

    treatments = list(client.treatments.select_related("site").prefetch_related("support__by"))
    tests = list(client.tests.select_related("site", "confirms").prefetch_related("confirmations"))
    # A positive TB screen asks for a referral until TB treatment starts or a later screen.
    tb_starts = [tr.start_date for tr in treatments if tr.condition == "tb"]
    tb_screens = [t.date for t in tests if t.test == TestType.TB_SCREEN]
    test_rows = []
    shown: list[forms.Form] = []
    for t in tests:
        row = TestRow(t)
        if t.needs_confirmation:
            row.confirm_with = services.confirmed_by_label(t.test)
        if t.test == TestType.TB_SCREEN and t.result == Result.POSITIVE:
            row.refer = not any(d >= t.date for d in tb_starts) and not any(
                d > t.date for d in tb_screens
            )
        if may_test and not t.result:
            row.result_form = _pick(bound, "result", t.pk, ResultForm(auto_id=f"result_{t.pk}_%s"))
            shown.append(row.result_form)
        test_rows.append(row)

    treatment_rows = []
    for tr in treatments:
        episode = TreatmentRow(tr, svr12=services.svr12(tr), support=list(tr.support.all()))
        if tr.outcome == Outcome.ONGOING:
            if may_treat:
                end = EndTreatmentForm(auto_id=f"end_{tr.pk}_%s")
                episode.end_form = _pick(bound, "end", tr.pk, end)
                shown.append(episode.end_form)
            given = SupportForm(auto_id=f"support_{tr.pk}_%s")
            episode.support_form = _pick(bound, "support", tr.pk, given)
            shown.append(episode.support_form)
        treatment_rows.append(episode)

    fresh = RecordTestForm(initial={"test_id": uuid.uuid4()}, client=client, auto_id="test_%s")
    test_form = _pick(bound, "test", None, fresh)
    treatment_form = _pick(bound, "treatment", None, TreatmentForm(auto_id="treatment_%s"))
    viral_load_form = _pick(bound, "viral_load", None, ViralLoadForm(auto_id="viral_load_%s"))
    shown += [test_form, treatment_form, viral_load_form]
    return render(
        request,
        "testing/client.html",
        {
            "client": client,
            "may_test": may_test,
            "may_treat": may_treat,
            "tests": test_rows,
            "to_confirm": [r for r in test_rows if r.test.needs_confirmation],
            "to_refer": [r for r in test_rows if r.refer],
            "treatments": treatment_rows,
            "viral_loads": client.viral_loads.all(),
            "bound": bound[0] if bound else "",
            "test_form": test_form,
            "treatment_form": treatment_form,
            "viral_load_form": viral_load_form,
            "unshown_errors": _unshown_errors(bound, shown),
        },
        status=status,
    )


@requires(Cap.CLIENT_VIEW)
def client_page(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk, *EITHER)
    return _page(request, client)


def _failed(form: forms.Form, exc: services.TestingError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


def _done(request: HttpRequest, client: Client, message: str) -> HttpResponse:
    messages.success(request, message)
    # The form posted to "…#its-form", so that its errors show in view; a redirect
    # keeps that fragment unless it names one, and the message is at the top.
    return redirect(reverse("testing:client", kwargs={"pk": client.pk}) + "#main")


def _test_message(t: Test) -> str:
    what = f"{t.get_test_display()} {t.get_kind_display().lower()}"
    if not t.result:
        return f"{what} recorded: the result is awaited."
    if t.needs_confirmation:
        confirm_with = services.confirmed_by_label(t.test)
        return f"{what} recorded: reactive. It needs a confirmatory test ({confirm_with})."
    if t.test == TestType.TB_SCREEN and t.result == Result.POSITIVE:
        return f"{what} recorded: positive. Refer the person for a confirmatory test."
    return f"{what} recorded: {t.get_result_display().lower()}."


@requires(Cap.TEST_RECORD)
@require_POST
def record_test(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk, Cap.TEST_RECORD)
    site = working_site(request, Cap.TEST_RECORD)
    form = RecordTestForm(request.POST, client=client, auto_id="test_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            t, _ = services.record_test(
                request.user,
                client,
                site,
                test=data["test"],
                kind=data["kind"],
                date=data["date"],
                result=data["result"],
                consent=data["consent"],
                counselling=data["counselling"],
                confirms=data.get("confirms"),
                test_id=data["test_id"],
            )
        except services.TestingError as exc:
            _failed(form, exc)
        else:
            return _done(request, client, _test_message(t))
    return _page(request, client, bound=("test", None, form), status=422)


@requires(Cap.TEST_RECORD)
@require_POST
def enter_result(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    t = _test(request, pk, Cap.TEST_RECORD)
    form = ResultForm(request.POST, auto_id=f"result_{t.pk}_%s")
    if form.is_valid():
        try:
            services.enter_result(request.user, t, form.cleaned_data["result"])
        except services.TestingError as exc:
            _failed(form, exc)
        else:
            return _done(request, t.client, _test_message(t))
    return _page(request, t.client, bound=("result", t.pk, form), status=422)


@requires(Cap.TREATMENT_MANAGE)
@require_POST
def start_treatment(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk, Cap.TREATMENT_MANAGE)
    site = working_site(request, Cap.TREATMENT_MANAGE)
    form = TreatmentForm(request.POST, auto_id="treatment_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            t = services.start_treatment(
                request.user,
                client,
                site,
                condition=data["condition"],
                start_date=data["start_date"],
                provider=form.provider(),
            )
        except services.TestingError as exc:
            _failed(form, exc)
        else:
            return _done(request, client, f"{t.get_condition_display()} treatment started.")
    return _page(request, client, bound=("treatment", None, form), status=422)


@requires(Cap.TREATMENT_MANAGE)
@require_POST
def end_treatment(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    t = _treatment(request, pk, Cap.TREATMENT_MANAGE)
    form = EndTreatmentForm(request.POST, auto_id=f"end_{t.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.end_treatment(
                request.user,
                t,
                end_date=data["end_date"],
                outcome=data["outcome"],
                reason=data["reason"],
            )
        except services.TestingError as exc:
            _failed(form, exc)
        else:
            outcome = Outcome(data["outcome"]).label.lower()
            return _done(request, t.client, f"{t.get_condition_display()} treatment: {outcome}.")
    return _page(request, t.client, bound=("end", t.pk, form), status=422)


@requires(Cap.TREATMENT_MANAGE)
@require_POST
def viral_load(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    client = _client(request, pk, Cap.TREATMENT_MANAGE)
    form = ViralLoadForm(request.POST, auto_id="viral_load_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            _, created = services.record_viral_load(
                request.user,
                client,
                condition=data["condition"],
                date=data["date"],
                copies_per_ml=data["copies_per_ml"],
            )
        except services.TestingError as exc:
            _failed(form, exc)
        else:
            message = "Viral load recorded." if created else "This viral load was already recorded."
            return _done(request, client, message)
    return _page(request, client, bound=("viral_load", None, form), status=422)


# Peers give most adherence support, so whoever tests may record it too.
@requires(Cap.CLIENT_VIEW)
@require_POST
def support(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    t = _treatment(request, pk, *EITHER)
    form = SupportForm(request.POST, auto_id=f"support_{t.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.support(
                request.user, t, date=data["date"], peer=data["peer"], note=data["note"]
            )
        except services.TestingError as exc:
            _failed(form, exc)
        else:
            return _done(request, t.client, "Adherence support recorded.")
    return _page(request, t.client, bound=("support", t.pk, form), status=422)


# -- the morning lists -------------------------------------------------------------


def _site_clients(user: Any, site: Any) -> QuerySet[Client]:
    """The people this user may see who are registered at or linked to ``site``."""
    visible = access.client_scope(user, Cap.CLIENT_VIEW).values("pk")
    return Client.objects.filter(pk__in=visible).filter(Q(site=site) | Q(links__site=site))


@requires(Cap.CLIENT_VIEW)
def lists(request: HttpRequest) -> HttpResponse:
    """Who to offer a test, whose reactive result awaits confirmation, who left treatment."""
    user = request.user
    cap = next((c for c in EITHER if access.has(user, c)), None)
    if cap is None:
        raise PermissionDenied("Your role does not allow this page.")
    site = working_site(request, cap)
    people = _site_clients(user, site)
    today = timezone.localdate()
    due = services.due_for_test(people, today)
    for row in due:
        row["days"] = (today - row["last"]).days
    return render(
        request,
        "testing/lists.html",
        {
            "site": site,
            "today": today,
            "interval": _interval_label(),
            "due": due,
            "awaiting": [
                (t, services.confirmed_by_label(t.test))
                for t in services.awaiting_confirmation(people).order_by("date")
            ],
            "off": services.off_treatment(people),
        },
    )


def _interval_label() -> str:
    days: int = settings.RETEST_INTERVAL_DAYS
    months = round(days / 30.4)
    if days >= 60 and abs(months * 30.4 - days) < 5:
        return f"{months} months"
    return f"{days} days"
