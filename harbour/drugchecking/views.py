"""Drug checking screens: take in a sample, record what strips, FTIR or a laboratory
found, and give the result back in plain words.

Everyone who checks drugs (``SAMPLE_RECORD``: peers in outreach, site staff,
clinicians, site managers, alert reviewers) sees the samples of their own sites only.
A sample carries no identity; when it is linked to a client for follow-up, opening it
is audited, because it says what that person uses.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import current_site
from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.drugchecking import rules, services, wording
from harbour.drugchecking.dictionary import Lookup
from harbour.drugchecking.forms import (
    MAX_COMPONENTS,
    AnalysisForm,
    BaseComponentFormSet,
    ComponentFormSet,
    IntakeForm,
    PhotoForm,
    StripForm,
    dictionary_names,
)
from harbour.drugchecking.models import (
    Analysis,
    FindingRole,
    Method,
    Sample,
    SamplePhoto,
    StripOutcome,
    StripTarget,
    Substance,
)

PER_PAGE = 25

# How the result page says which methods were used.
METHOD_WORDS = {
    Method.STRIP: "test strips",
    Method.FTIR: "an FTIR spectrometer",
    Method.LAB: "a laboratory",
    Method.OTHER: "another method",
}

# The list's tabs: (key, label).
WAITING, READY, ALL = "waiting", "ready", "all"
TABS = [(WAITING, "Awaiting a result"), (READY, "Result ready to give back"), (ALL, "All")]


def _sample(request: HttpRequest, pk: uuid.UUID) -> Sample:
    """The sample, if it was taken in at one of the user's sites (403 otherwise)."""
    sample = get_object_or_404(
        Sample.objects.select_related("site", "client").prefetch_related(
            "expected", "analyses__findings__substance"
        ),
        pk=pk,
    )
    access.require(request.user, Cap.SAMPLE_RECORD, sample.site)
    return sample


def _opened(request: HttpRequest, sample: Sample, what: str) -> None:
    # A sample linked to a person says what that person uses: reading it is audited
    # like reading their record. An anonymous sample says nothing about anyone.
    if sample.client_id is not None:
        record(request.user, "sample.viewed", sample, site=sample.site_id, detail={"page": what})


def _failed(form: forms.Form, exc: services.DrugCheckingError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


def _to_sample(sample: Sample) -> HttpResponse:
    return redirect("drugchecking:sample", pk=sample.pk)


def status(sample: Sample, has_result: bool | None = None) -> tuple[str, str]:
    """Where the sample is: ``(key, words)``."""
    if sample.given_back_at is not None:
        return "given", "Result given back"
    if has_result is None:
        has_result = bool(sample.analyses.all())
    if has_result:
        return READY, "Result ready to give back"
    return WAITING, "Awaiting a result"


def found_summary(sample: Sample) -> str:
    """A few words for the list: main components, traces, strips; no cuts or by-products."""
    parts: list[str] = []
    analyses = list(sample.analyses.all())
    for a in analyses:
        if a.method == Method.STRIP:
            outcome = StripOutcome(a.strip_outcome).name.lower() if a.strip_outcome else ""
            parts.append(f"{StripTarget(a.strip_target).label.lower()} strip {outcome}".strip())
            continue
        for f in a.findings.all():
            if f.substance.drug_class in wording.BACKGROUND:
                continue
            trace = " (trace)" if f.role == FindingRole.TRACE else ""
            parts.append(f"{f.substance.label}{trace}")
    if analyses and not parts:
        return "Nothing found"
    return ", ".join(dict.fromkeys(parts))


def client_samples(user: Any, client: Client) -> QuerySet[Sample]:
    """The samples linked to ``client`` at the user's sites, for the client's profile."""
    if not access.has(user, Cap.SAMPLE_RECORD):
        return Sample.objects.none()
    has_result = Exists(Analysis.objects.filter(sample=OuterRef("pk")))
    return access.scope(user, Cap.SAMPLE_RECORD).filter(
        client.samples.annotate(has_result=has_result)
    )


# -- the list ------------------------------------------------------------------------


@requires(Cap.SAMPLE_RECORD)
def samples(request: HttpRequest) -> HttpResponse:
    """The samples of the user's sites, newest first."""
    has_result = Exists(Analysis.objects.filter(sample=OuterRef("pk")))
    visible: QuerySet[Sample] = access.scope(request.user, Cap.SAMPLE_RECORD).filter(
        Sample.objects.annotate(has_result=has_result)
    )
    query = request.GET.get("q", "").strip()
    if query:
        visible = visible.filter(number__icontains=query)
        # The number read off a bag opens that sample at once.
        matches = list(visible[:2])
        if len(matches) == 1 and matches[0].number.lower() == query.lower():
            return _to_sample(matches[0])
    subsets = {
        WAITING: visible.filter(~has_result, given_back_at__isnull=True),
        READY: visible.filter(has_result, given_back_at__isnull=True),
        ALL: visible,
    }
    tab = request.GET.get("show", ALL)
    if tab not in subsets:
        tab = ALL
    rows = subsets[tab].select_related("site").prefetch_related("analyses__findings__substance")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for s in page:
        s.status = status(s, s.has_result)  # type: ignore[attr-defined]
        s.found = found_summary(s)  # type: ignore[attr-defined]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "drugchecking/sample_list.html",
        {
            "page": page,
            "tabs": [(key, label, subsets[key].count()) for key, label in TABS],
            "tab": tab,
            "q": query,
            "query": params.urlencode(),
        },
    )


# -- intake --------------------------------------------------------------------------


def _follow_up(request: HttpRequest) -> Client | None:
    """The client named by ``?client=``, when the person wants their result followed up."""
    raw = request.GET.get("client", "")
    if not raw:
        return None
    try:
        pk = uuid.UUID(raw)
    except ValueError as error:
        raise Http404("No such client.") from error
    client = get_object_or_404(Client, pk=pk)
    if client.merged_into_id is not None:
        client = get_object_or_404(Client, pk=client.merged_into_id)
    access.require_client(request.user, Cap.CLIENT_VIEW, client)
    return client


@requires(Cap.SAMPLE_RECORD)
def intake(request: HttpRequest) -> HttpResponse:
    """Take in a sample in seconds: what the person expected and what it looks like."""
    site = current_site(request, Cap.SAMPLE_RECORD)
    if site is None:
        raise PermissionDenied("You are not assigned to a site where samples are taken in.")
    sites = access.working_sites(request.user, Cap.SAMPLE_RECORD)
    client = _follow_up(request)
    lookup = Lookup.load()
    initial = {
        "sample_id": uuid.uuid4(),
        "site": site.pk,
        "region": services.region_of(site),
        "date": timezone.localdate(),
    }
    posted = request.method == "POST"
    form = IntakeForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial=initial,
        sites=sites,
        lookup=lookup,
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            # A picture Harbour cannot read undoes the intake, so nothing is half-saved.
            with transaction.atomic():
                sample, created = services.take_sample(
                    request.user,
                    data["site"],
                    date=data["date"],
                    expected=form.substances,
                    expected_as_said=data["expected"],
                    expected_unknown=data["expected_unknown"],
                    form=data["form"],
                    colour=data["colour"],
                    markings=data["markings"],
                    region=data["region"],
                    used_already=data["used_already"],
                    effects=data["effects"],
                    overdose=data["overdose"],
                    client=client,
                    sample_id=data["sample_id"],
                )
                if created and data.get("photo"):
                    services.attach_photo(request.user, sample, data["photo"])
        except services.DrugCheckingError as exc:
            _failed(form, exc)
        else:
            if created:
                messages.success(
                    request,
                    format_html(
                        "Sample taken in. Write this number on the bag: "
                        '<strong class="bag-number">{}</strong>',
                        sample.number,
                    ),
                )
            else:
                messages.info(request, f"This sample was already taken in: {sample.number}.")
            return _to_sample(sample)
    return render(
        request,
        "drugchecking/sample_intake.html",
        {
            "form": form,
            "client": client,
            "site": site,
            "names": dictionary_names(lookup),
        },
        status=422 if posted else 200,
    )


# -- the sample ----------------------------------------------------------------------


def _page(
    request: HttpRequest,
    sample: Sample,
    photo_form: PhotoForm | None = None,
    status_code: int = 200,
) -> HttpResponse:
    _opened(request, sample, "sample")
    client_visible = (
        sample.client is not None
        and access.client_scope(request.user, Cap.CLIENT_VIEW).filter(pk=sample.client.pk).exists()
    )
    analyses = list(sample.analyses.all())
    return render(
        request,
        "drugchecking/sample_detail.html",
        {
            "sample": sample,
            "status": status(sample),
            "analyses": analyses,
            "explanation": wording.explain(sample),
            "client_visible": client_visible,
            "photo": SamplePhoto.objects.filter(sample=sample).only("width", "height").first(),
            "photo_form": photo_form or PhotoForm(auto_id="photo_%s"),
        },
        status=status_code,
    )


@requires(Cap.SAMPLE_RECORD)
def sample_page(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _page(request, _sample(request, pk))


# -- results -------------------------------------------------------------------------


@requires(Cap.SAMPLE_RECORD)
def strip(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """One or several test strips used at once: each one's result."""
    sample = _sample(request, pk)
    posted = request.method == "POST"
    form = StripForm(request.POST if posted else None)
    if posted and form.is_valid():
        done = form.strips_done(form.cleaned_data)
        submission = form.cleaned_data.get("submission")
        try:
            with transaction.atomic():
                for target, outcome in done:
                    services.record_strip(
                        request.user,
                        sample,
                        target=target,
                        outcome=outcome,
                        date=form.cleaned_data["date"],
                        analysis_id=uuid.uuid5(submission, target) if submission else None,
                    )
        except services.DrugCheckingError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            said = ", ".join(
                f"{StripTarget(t).label.lower()} {StripOutcome(o).name.lower()}" for t, o in done
            )
            messages.success(request, f"Strip results recorded: {said}.")
            return _to_sample(sample)
    return render(
        request,
        "drugchecking/sample_strip.html",
        {"sample": sample, "form": form},
        status=422 if posted else 200,
    )


def _row_errors(formset: Any) -> list[str]:
    """Each row's errors, said with the row and the field, for the top of the form."""
    said: list[str] = []
    for number, row in enumerate(formset.forms, start=1):
        for name, errors in row.errors.items():
            label = row.fields[name].label if name in row.fields else ""
            for error in errors:
                said.append(f"Row {number}, {label.lower()}: {error}" if label else error)
    said.extend(str(e) for e in formset.non_form_errors())
    return said


@requires(Cap.SAMPLE_RECORD)
def analysis(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """What FTIR or a laboratory found: up to eight substances, or nothing."""
    sample = _sample(request, pk)
    lookup = Lookup.load()
    posted = request.method == "POST"
    form = AnalysisForm(request.POST if posted else None)
    rows = cast(
        BaseComponentFormSet,
        ComponentFormSet(
            request.POST if posted else None, prefix="c", form_kwargs={"lookup": lookup}
        ),
    )
    if posted:
        head_ok, rows_ok = form.is_valid(), rows.is_valid()
        found = rows.found() if rows_ok else []
        if head_ok and rows_ok:
            if form.cleaned_data["nothing_found"] and found:
                form.add_error(
                    "nothing_found",
                    "Substances are listed below: untick “nothing detected”, or clear the rows.",
                )
            elif not form.cleaned_data["nothing_found"] and not found:
                form.add_error(
                    "nothing_found",
                    "Add at least one substance, or tick “nothing detected”.",
                )
        if head_ok and rows_ok and form.is_valid():
            data = form.cleaned_data
            try:
                services.record_analysis(
                    request.user,
                    sample,
                    method=data["method"],
                    found=found,
                    date=data["date"],
                    technique=data["technique"].strip(),
                )
            except services.DrugCheckingError as exc:
                _failed(form, exc)
            else:
                what = Method(data["method"]).label
                n = len(found)
                count = "nothing detected" if not n else f"{n} substance{'s' if n != 1 else ''}"
                messages.success(request, f"{what} result recorded: {count}.")
                return _to_sample(sample)
    row_list = list(rows.forms)
    return render(
        request,
        "drugchecking/sample_analysis.html",
        {
            "sample": sample,
            "form": form,
            "rows": rows,
            "first_rows": row_list[:3],
            "more_rows": row_list[3:],
            "more_open": posted and any(r.has_changed() or r.errors for r in row_list[3:]),
            "row_errors": _row_errors(rows) if posted else [],
            "names": dictionary_names(lookup),
            "max_rows": MAX_COMPONENTS,
        },
        status=422 if posted else 200,
    )


@requires(Cap.SAMPLE_RECORD)
def result(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The result as the person takes it away: on paper, or read on their phone."""
    sample = _sample(request, pk)
    _opened(request, sample, "result")
    explanation = wording.explain(sample)
    expected = list(sample.expected.all())
    strips = []
    for a in sample.analyses.all():
        if a.method != Method.STRIP:
            continue
        family = rules.STRIP_SUBSTANCE.get(a.strip_target, "")
        substance = Substance.objects.filter(name=family).first() if family else None
        # A positive strip for a family the person did not name is said in words too.
        unexpected = (
            a.strip_outcome == StripOutcome.POSITIVE
            and bool(expected)
            and substance is not None
            and not rules.is_expected(substance, expected)
        )
        strips.append((a.get_strip_target_display(), a.strip_outcome, unexpected))
    used = {a.method for a in sample.analyses.all()}
    methods = wording.join_names(words for method, words in METHOD_WORDS.items() if method in used)
    return render(
        request,
        "drugchecking/result.html",
        {"sample": sample, "explanation": explanation, "strips": strips, "methods": methods},
    )


@requires(Cap.SAMPLE_RECORD)
@require_POST
def given_back(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    sample = _sample(request, pk)
    already = sample.given_back_at is not None
    try:
        services.give_back(request.user, sample)
    except services.DrugCheckingError as exc:
        messages.error(request, str(exc))
    else:
        if already:
            messages.info(request, f"The result of {sample.number} was already given back.")
        else:
            messages.success(request, f"Result of {sample.number} given back.")
    return _to_sample(sample)


# -- the photo -----------------------------------------------------------------------


@requires(Cap.SAMPLE_RECORD)
@require_POST
def photo(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    sample = _sample(request, pk)
    form = PhotoForm(request.POST, request.FILES, auto_id="photo_%s")
    if form.is_valid():
        try:
            services.attach_photo(request.user, sample, form.cleaned_data["photo"])
        except services.DrugCheckingError as exc:
            form.add_error("photo", str(exc))
        else:
            messages.success(
                request, "Photo kept. Where and on what phone it was taken is removed."
            )
            return _to_sample(sample)
    return _page(request, sample, photo_form=form, status_code=422)


@requires(Cap.SAMPLE_RECORD)
def photo_image(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    sample = _sample(request, pk)
    picture = SamplePhoto.objects.filter(sample=sample).first()
    if picture is None:
        raise Http404("This sample has no photo.")
    response = HttpResponse(bytes(picture.jpeg), content_type="image/jpeg")
    # A picture of someone's drugs stays out of shared and browser caches.
    response["Cache-Control"] = "private, no-store"
    return response
