"""The dashboards of the programme and of each site, their charts, and the report files.

Every view needs Cap.AGGREGATES and shows only sites in the user's scope: a site
manager at North sees North and the sites below it; the programme's dashboard is for
those whose scope is the whole programme. Downloads are audited.

A page's charts are separate SVG responses (see charts.py). So that they need not
compute every figure again, the page leaves its Dashboard in the cache for a few
minutes under a key made of the user, their session, the period and the site: no other
person, and no other sign-in of the same person, can read it. A chart whose page was
not remembered (another server process, an expired entry) computes the figures itself.
Files are always computed afresh.
"""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from csp.constants import NONE, UNSAFE_INLINE
from csp.decorators import csp
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from harbour.accounts import access
from harbour.accounts.access import Cap, Scope, requires
from harbour.audit.services import record
from harbour.lib.periods import Period
from harbour.reports import charts, targets
from harbour.reports.dashboard import (
    BY_KEY,
    CASCADES,
    ChoiceError,
    Dashboard,
    Figure,
    build,
    choosable_periods,
    chosen_period,
    last_complete_quarter,
    shifted,
)
from harbour.reports.report_pdf import report_pdf as make_pdf
from harbour.reports.report_xlsx import report_xlsx as make_xlsx
from harbour.sites.models import Site
from harbour.testing.cascade_views import tree_order

REMEMBER_SECONDS = 300

# A chart is an SVG document with its own <style>: allowed there, and nothing else.
CHART_POLICY = {
    "default-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [NONE],
}

CSV_TABLES = ("indicators", "trend", "stock")


# --- who sees what ------------------------------------------------------------------


def _scope(request: HttpRequest) -> Scope:
    return access.scope(request.user, Cap.AGGREGATES)


def top_sites(scope: Scope) -> list[Site]:
    """The highest sites of a scope: those whose parent the scope does not cover."""
    sites = list(scope.filter(Site.objects.filter(active=True), field="id"))
    return [site for site in sites if not scope.covers(site.parent_id)]


def _place(request: HttpRequest, code: str | None) -> Site | None:
    """The site of ``code``, if the user covers it; None (the programme) without a code."""
    if code:
        site = Site.objects.filter(code=code.strip()).first()
        if site is None:
            raise Http404("No site has this code.")
        access.require(request.user, Cap.AGGREGATES, site)
        return site
    if not _scope(request).everywhere:
        raise PermissionDenied(
            "The whole programme's figures are for people who work for the whole "
            "programme: choose one of your sites."
        )
    return None


def _memory_key(request: HttpRequest, period: Period, site: Site | None) -> str | None:
    session = request.session.session_key
    if not session:
        return None
    where = site.code if site is not None else "*"
    # The session key is a credential: only its digest goes into the cache's keys.
    digest = hashlib.sha256(session.encode()).hexdigest()[:32]
    return f"harbour:dashboard:{request.user.pk}:{digest}:{period.code}:{where}"


def _remember(request: HttpRequest, dashboard: Dashboard, site: Site | None) -> None:
    key = _memory_key(request, dashboard.period, site)
    if key is not None:
        cache.set(key, dashboard, REMEMBER_SECONDS)


def _dashboard_for_chart(request: HttpRequest, period: Period, site: Site | None) -> Dashboard:
    key = _memory_key(request, period, site)
    found = cache.get(key) if key is not None else None
    if isinstance(found, Dashboard):
        return found
    dashboard = build(period, site)
    _remember(request, dashboard, site)
    return dashboard


def _query(period: Period, site: Site | None, **more: str) -> str:
    params = {"period": period.code}
    if site is not None:
        params["site"] = site.code
    params.update(more)
    return urlencode(params)


def _bad_request(request: HttpRequest, error: ChoiceError) -> HttpResponse:
    return render(
        request,
        "reports/dashboard_error.html",
        {"error": str(error), "field": error.field},
        status=400,
    )


# --- the pages ----------------------------------------------------------------------


@requires(Cap.AGGREGATES)
@never_cache
def programme(request: HttpRequest) -> HttpResponse:
    """The whole programme's dashboard; others are sent to their own site's."""
    keep = {"period": request.GET["period"]} if request.GET.get("period") else {}
    code = request.GET.get("site", "").strip()
    if code:
        target = reverse("dashboards:site", args=[code])
        return redirect(f"{target}?{urlencode(keep)}" if keep else target)
    scope = _scope(request)
    if not scope.everywhere:
        tops = top_sites(scope)
        if len(tops) == 1:
            target = reverse("dashboards:site", args=[tops[0].code])
            return redirect(f"{target}?{urlencode(keep)}" if keep else target)
        return render(
            request,
            "reports/dashboard_choose.html",
            {"sites": sorted(tops, key=lambda s: (s.name.lower(), s.code))},
        )
    return _page(request, None)


@requires(Cap.AGGREGATES)
@never_cache
def site(request: HttpRequest, code: str) -> HttpResponse:
    found = get_object_or_404(Site, code=code)
    access.require(request.user, Cap.AGGREGATES, found)
    return _page(request, found)


def _page(request: HttpRequest, place: Site | None) -> HttpResponse:
    today = timezone.localdate()
    error = ""
    try:
        period = chosen_period(request.GET.get("period"), today)
    except ChoiceError as exc:
        error = f"{exc} Showing {last_complete_quarter(today).code}, the last complete quarter."
        period = last_complete_quarter(today)
    dashboard = build(period, place, today=today)
    _remember(request, dashboard, place)

    scope = _scope(request)
    chart_url = reverse("dashboards:chart", args=["SLUG"]).replace("SLUG", "{}")

    def chart_block(spec: charts.ChartSpec) -> dict[str, Any]:
        query = _query(period, place)
        url = chart_url.format(spec.slug)
        return {
            "spec": spec,
            "wide": f"{url}?{query}",
            "small": f"{url}?{query}&size=small",
            "alt": spec.alt(dashboard),
            "table": spec.table(dashboard),
        }

    later = shifted(period, 1)
    options = choosable_periods(today)
    if not any(period.code == code for _group, items in options for code, _label in items):
        options.insert(0, ("Chosen", [(period.code, period.code)]))
    context = {
        "dashboard": dashboard,
        "place": place,
        "tiles": dashboard.tiles(),
        "trends": [chart_block(spec) for spec in charts.TRENDS if spec.drawn(dashboard)],
        "cascades": [chart_block(spec) for spec in charts.CASCADE_CHARTS],
        "indicator_table": dashboard.indicator_table(),
        "disaggregation": dashboard.disaggregation_table(),
        "stock_table": dashboard.stock_table(),
        "error": error,
        "options": options,
        "earlier": shifted(period, -1),
        "later": later if later.start <= today else None,
        "query": _query(period, place),
        "below": _below(scope, place),
        "above": _above(scope, place),
        "everywhere": scope.everywhere,
    }
    return render(request, "reports/dashboard.html", context)


def _below(scope: Scope, place: Site | None) -> list[tuple[int, Site]]:
    """The sites under ``place`` (all, for the programme) that the user covers, as a tree."""
    sites = scope.filter(Site.objects.filter(active=True), field="id")
    if place is not None:
        sites = sites.exclude(pk=place.pk).filter(pk__in=_descendants(place))
    return tree_order(list(sites))


def _descendants(place: Site) -> set[int]:
    from harbour.sites.models import descendants_map

    return descendants_map().get(place.pk, {place.pk})


def _above(scope: Scope, place: Site | None) -> list[Site]:
    """The sites above ``place`` that the user covers, from the top down."""
    if place is None:
        return []
    return [site for site in reversed(place.ancestors()) if scope.covers(site.pk)]


# --- charts -------------------------------------------------------------------------


@requires(Cap.AGGREGATES)
@never_cache
@csp(CHART_POLICY)  # type: ignore[arg-type]  # django-csp types views as (request) only
def chart(request: HttpRequest, slug: str) -> HttpResponse:
    """One chart of a dashboard, as an SVG document."""
    spec = charts.BY_SLUG.get(slug)
    if spec is None:
        raise Http404("No chart has this name.")
    place = _place(request, request.GET.get("site"))
    try:
        period = chosen_period(request.GET.get("period"), timezone.localdate())
    except ChoiceError as exc:
        return HttpResponse(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    size = request.GET.get("size", "wide")
    dashboard = _dashboard_for_chart(request, period, place)
    return HttpResponse(charts.render(spec, dashboard, size), content_type="image/svg+xml")


# --- CSV: one table of plain rows each ---------------------------------------------


def csv_table(dashboard: Dashboard, name: str) -> tuple[list[str], list[list[Any]]]:
    """The ``indicators``, ``trend`` or ``stock`` table as CSV headers and rows."""
    site = dashboard.site_code or ""
    if name == "trend":
        headers = ["period", "site", "key", "indicator", "numerator", "denominator", "value"]
        rows = [
            [period.code, site, key, BY_KEY[key].name, *_parts(obj)]
            for period, report in zip(dashboard.periods, dashboard.reports, strict=True)
            for key, obj in report["indicators"].items()
            if key in BY_KEY
        ]
        return headers, rows
    if name == "stock":
        headers = [
            "day",
            "site",
            "item",
            "on_hand",
            "handed_out_a_week",
            "weeks_left",
            "sites_holding_it",
            "sites_running_low",
        ]
        rows = [
            [
                dashboard.stock_day.isoformat(),
                site,
                row.item,
                row.on_hand,
                round(row.per_week, 1),
                "" if row.weeks_left is None else round(row.weeks_left, 1),
                row.sites,
                "; ".join(row.low_sites),
            ]
            for row in dashboard.stock
        ]
        return headers, rows
    return INDICATOR_HEADERS, indicator_rows(dashboard)


def indicator_rows(dashboard: Dashboard) -> list[list[Any]]:
    """One row per indicator and disaggregation, and per step of each cascade."""
    period, site = dashboard.period.code, dashboard.site_code or ""
    rows: list[list[Any]] = []
    for tile in dashboard.tiles():
        indicator = tile.indicator
        band = tile.band
        banded = _blank_band()
        if band is not None:
            banded = [
                band.level or "",
                _plain(band.annualised_value),
                _plain(band.target),
                band.unit,
            ]
        obj = dashboard.current[indicator.key]
        rows.append(
            [period, site, indicator.key, indicator.name, "all", "all", *_parts(obj), *banded]
        )
        for dimension, groups in obj.get("by", {}).items():
            for group, cell in groups.items():
                rows.append(
                    [
                        period,
                        site,
                        indicator.key,
                        indicator.name,
                        dimension,
                        group,
                        *_parts(cell),
                        *_blank_band(),
                    ]
                )
    for key, (title, steps) in CASCADES.items():
        counts = dashboard.current.get(key, {})
        for step, _label in steps:
            value = counts.get(step)
            rows.append(
                [period, site, key, title, "step", step, "", "", _csv(value), *_blank_band()]
            )
    return rows


INDICATOR_HEADERS = [
    "period",
    "site",
    "key",
    "indicator",
    "dimension",
    "group",
    "numerator",
    "denominator",
    "value",
    "band",
    "band_figure",
    "target",
    "band_unit",
]


def _csv(value: Figure) -> Any:
    return "" if value is None else value


def _plain(value: Decimal | None) -> str:
    return "" if value is None else targets.shown(value)


def _parts(obj: dict[str, Any]) -> list[Any]:
    """numerator, denominator and value of an indicator's object, blank where it has none."""
    return [_csv(obj.get("numerator")), _csv(obj.get("denominator")), _csv(obj.get("value"))]


def _blank_band() -> list[str]:
    return ["", "", "", ""]


# --- files --------------------------------------------------------------------------


def _for_file(request: HttpRequest) -> tuple[Dashboard, Site | None] | ChoiceError:
    place = _place(request, request.GET.get("site"))
    try:
        period = chosen_period(request.GET.get("period"), timezone.localdate())
    except ChoiceError as exc:
        return exc
    suppressed = request.GET.get("suppress", "") in ("1", "yes", "on")
    return build(period, place, suppressed=suppressed), place


def _download(
    request: HttpRequest,
    dashboard: Dashboard,
    place: Site | None,
    body: bytes,
    *,
    form: str,
    content_type: str,
    name: str,
    table: str = "",
) -> HttpResponse:
    detail: dict[str, Any] = {
        "format": form,
        "period": dashboard.period.code,
        "site": place.code if place is not None else None,
        "suppressed": dashboard.suppressed,
    }
    if table:
        detail["table"] = table
    record(
        request.user,
        "report.download",
        object_type="report",
        object_id=f"{dashboard.period.code}:{place.code if place else 'programme'}",
        site=place,
        detail=detail,
    )
    response = HttpResponse(body, content_type=content_type)
    where = place.code if place is not None else "programme"
    copy = "-suppressed" if dashboard.suppressed else ""
    response["Content-Disposition"] = (
        f'attachment; filename="harbour-{name}-{where}-{dashboard.period.code}{copy}.{form}"'
    )
    return response


@requires(Cap.AGGREGATES)
@never_cache
def report_pdf(request: HttpRequest) -> HttpResponse:
    found = _for_file(request)
    if isinstance(found, ChoiceError):
        return _bad_request(request, found)
    dashboard, place = found
    return _download(
        request,
        dashboard,
        place,
        make_pdf(dashboard),
        form="pdf",
        content_type="application/pdf",
        name="report",
    )


@requires(Cap.AGGREGATES)
@never_cache
def report_xlsx(request: HttpRequest) -> HttpResponse:
    found = _for_file(request)
    if isinstance(found, ChoiceError):
        return _bad_request(request, found)
    dashboard, place = found
    return _download(
        request,
        dashboard,
        place,
        make_xlsx(dashboard),
        form="xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        name="report",
    )


@requires(Cap.AGGREGATES)
@never_cache
def indicators_csv(request: HttpRequest) -> HttpResponse:
    """A table of the dashboard as CSV: ``table`` is indicators (default), trend or stock."""
    table = request.GET.get("table", "indicators") or "indicators"
    if table not in CSV_TABLES:
        return _bad_request(
            request,
            ChoiceError("table", f"Table: choose one of {', '.join(CSV_TABLES)}."),
        )
    found = _for_file(request)
    if isinstance(found, ChoiceError):
        return _bad_request(request, found)
    dashboard, place = found
    headers, rows = csv_table(dashboard, table)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return _download(
        request,
        dashboard,
        place,
        out.getvalue().encode("utf-8"),
        form="csv",
        content_type="text/csv; charset=utf-8",
        name=table,
        table=table,
    )
