"""The DHIS2 pages: the mapping and a period's values, downloads, a dry run and a push.

Counts only, no client records: every page needs Cap.AGGREGATES. What is sent covers
the whole programme and every site, so all but the overview also need that capability
for the whole programme (a membership with no site); a site manager sees the overview
and why the rest is not theirs. A narrower capability for configuring and sending is
proposed in docs/dhis2.md.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.dhis2 import figures, services
from harbour.dhis2.forms import MappingFormSet, PeriodForm, PushForm, ServerForm
from harbour.dhis2.models import Dhis2Server, Level, Mapping
from harbour.dhis2.payload import Payload, PayloadError, build, ordered_mappings
from harbour.sites.models import Organisation

RESULT_KEY = "dhis2_result"
WHOLE_PROGRAMME = (
    "DHIS2 reporting sends the figures of the whole programme and of every site, so it "
    "needs a role held for the whole programme (an M&E officer or an administrator)."
)


def whole_programme(request: HttpRequest, cap: Cap = Cap.AGGREGATES) -> bool:
    return access.scope(request.user, cap).everywhere


def require_whole_programme(request: HttpRequest, cap: Cap = Cap.AGGREGATES) -> None:
    if not whole_programme(request, cap):
        raise PermissionDenied(WHOLE_PROGRAMME)


def last_quarter(today: dt.date) -> str:
    """The last quarter that has ended: what a programme usually reports next."""
    quarter = (today.month - 1) // 3  # 0-based index of this quarter
    year = today.year if quarter else today.year - 1
    return f"{year}Q{quarter or 4}"


def mapping_rows() -> list[dict[str, Any]]:
    return [
        {
            "mapping": m,
            "label": figures.label(m.indicator, m.part, m.group),
            "level": Level(m.level).label,
        }
        for m in ordered_mappings()
    ]


def _home(
    request: HttpRequest,
    form: PeriodForm,
    payload: Payload | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    server = Dhis2Server.get()
    result = None
    stored = request.session.pop(RESULT_KEY, None)
    if stored and payload is not None and stored.get("period") == payload.period.code:
        result = stored
    by_unit: list[dict[str, Any]] = []
    if payload is not None:
        for unit in payload.org_units:
            values = [v for v in payload.values if v.org_unit == unit]
            left_out = [x for x in payload.left_out if x.org_unit == unit]
            if values or left_out:
                by_unit.append({"unit": unit, "values": values, "left_out": left_out})
    return render(
        request,
        "dhis2/home.html",
        {
            "whole_programme": whole_programme(request),
            "whole_programme_text": WHOLE_PROGRAMME,
            "server": server,
            "missing": server.missing(),
            "programme_org_unit": Organisation.get().dhis2_org_unit,
            "rows": mapping_rows(),
            "form": form,
            "payload": payload,
            "by_unit": by_unit,
            "push_form": PushForm(initial={"period": payload.period.code}) if payload else None,
            "result": result,
        },
        status=status,
    )


@requires(Cap.AGGREGATES)
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The mapping, and for a chosen period the values that would go to DHIS2."""
    if not whole_programme(request):
        return _home(request, PeriodForm())
    if "period" not in request.GET:
        return _home(request, PeriodForm(initial={"period": last_quarter(timezone.localdate())}))
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _home(request, form, status=400)
    return _home(request, form, build(form.cleaned_data["period"]))


def _export(request: HttpRequest) -> Payload | HttpResponse:
    """The payload for the period asked for, or the page that says what is wrong."""
    require_whole_programme(request)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _home(request, form, status=400)
    try:
        payload = build(form.cleaned_data["period"])
    except PayloadError as exc:  # pragma: no cover - the form checked the period
        form.add_error("period", str(exc))
        return _home(request, form, status=400)
    if not payload.values:
        messages.error(
            request,
            f"There is nothing to download for {payload.period.code}: no mapped figure "
            "has a value.",
        )
        return redirect(f"{reverse('dhis2:home')}?period={payload.period.code}")
    return payload


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Cap.AGGREGATES)
def export_json(request: HttpRequest) -> HttpResponse:
    """The period's values as a ``dataValueSets`` JSON file, to import by hand."""
    found = _export(request)
    if isinstance(found, HttpResponse):
        return found
    services.record_export(request.user, found, "json")
    body = json.dumps(found.data_value_sets(), indent=2).encode("utf-8")
    return _attachment(body, "application/json", f"harbour-dhis2-{found.period.code}.json")


@requires(Cap.AGGREGATES)
def export_adx(request: HttpRequest) -> HttpResponse:
    """The period's values as an ADX XML file (ISO 8601 periods, idScheme UID)."""
    found = _export(request)
    if isinstance(found, HttpResponse):
        return found
    if not found.data_set:
        messages.error(request, "ADX needs the data set id: set it under DHIS2 server settings.")
        return redirect(f"{reverse('dhis2:home')}?period={found.period.code}")
    services.record_export(request.user, found, "adx")
    return _attachment(
        found.adx(timezone.now()),
        "application/adx+xml",
        f"harbour-dhis2-{found.period.code}.adx.xml",
    )


@requires(Cap.DHIS2_REPORT)
@require_POST
def push(request: HttpRequest) -> HttpResponse:
    """Check the period's values with DHIS2 (dry run) or send them; the summary follows."""
    require_whole_programme(request, Cap.DHIS2_REPORT)
    form = PushForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            said = " ".join(map(str, errors))
            messages.error(request, f"{label}: {said}" if label else said)
        return redirect("dhis2:home")
    dry_run = form.cleaned_data["mode"] == "dry_run"
    outcome = services.push_period(request.user, form.cleaned_data["period"], dry_run=dry_run)
    request.session[RESULT_KEY] = outcome.for_page()
    return redirect(f"{reverse('dhis2:home')}?period={outcome.period}#result")


@requires(Cap.DHIS2_REPORT)
def mapping(request: HttpRequest) -> HttpResponse:
    """Which DHIS2 data element and category option combo each Harbour figure fills."""
    require_whole_programme(request, Cap.DHIS2_REPORT)
    formset = MappingFormSet(request.POST or None, queryset=ordered_queryset())
    if request.method == "POST" and formset.is_valid():
        counts = services.save_mapping(request.user, formset)
        if any(counts.values()):
            messages.success(
                request,
                f"Saved the mapping: {counts['added']} added, {counts['changed']} changed, "
                f"{counts['removed']} removed.",
            )
        else:
            messages.info(request, "Nothing changed.")
        return redirect("dhis2:mapping")
    return render(
        request,
        "dhis2/mapping.html",
        {"formset": formset},
        status=422 if request.method == "POST" else 200,
    )


def ordered_queryset() -> QuerySet[Mapping]:
    """The mapping rows in the order of the definitions, as the formset lists them."""
    ids = [m.pk for m in ordered_mappings()]
    order = Case(
        *[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)],
        default=Value(len(ids)),
        output_field=IntegerField(),
    )
    return Mapping.objects.order_by(order, "pk") if ids else Mapping.objects.all()


@requires(Cap.DHIS2_REPORT)
@sensitive_post_parameters("new_password")
@never_cache
def server(request: HttpRequest) -> HttpResponse:
    """Where DHIS2 is, who Harbour signs in as, and the data set it reports in."""
    require_whole_programme(request, Cap.DHIS2_REPORT)
    current = Dhis2Server.get()
    org = Organisation.get()
    form = ServerForm(request.POST or None, instance=current, org_unit=org.dhis2_org_unit)
    if request.method == "POST" and form.is_valid():
        changed = form.changed()
        services.save_server(
            request.user, form.apply(), changed, org_unit=form.cleaned_data["org_unit"]
        )
        if changed:
            messages.success(request, "Saved the DHIS2 server settings.")
        else:
            messages.info(request, "Nothing changed.")
        if form.uses_plain_http:
            messages.warning(
                request,
                "The address starts with http://: the password and the figures travel "
                "unencrypted. Use https:// unless DHIS2 is on this computer.",
            )
        return redirect("dhis2:home")
    return render(
        request,
        "dhis2/server.html",
        {"form": form, "server": current},
        status=422 if request.method == "POST" else 200,
    )
