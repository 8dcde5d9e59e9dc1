"""The reports pages: coverage targets, and a population estimate by capture–recapture."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.clients.services import scheme
from harbour.reports import services
from harbour.reports.capture import Estimate, Match, chapman, match, whole
from harbour.reports.forms import (
    CaptureForm,
    ListInMemory,
    SaveEstimateForm,
    TargetForm,
    sign_counts,
)
from harbour.reports.targets import DEFAULTS, MEASURES, shown, thresholds
from harbour.sites.models import Site

# --- targets ------------------------------------------------------------------------


@requires(Cap.SITE_MANAGE)
def targets(request: HttpRequest) -> HttpResponse:
    """The coverage bands and targets of each indicator: administrators set them."""
    forms: list[TargetForm] = []
    for key, measure in MEASURES.items():
        current = thresholds(key) or DEFAULTS[key]
        # A threshold of 100 reads "100", not "100.00" (nor "1E+2", as normalize() gives).
        initial = {
            name: None if value is None else shown(value)
            for name, value in (
                ("low", current.low),
                ("high", current.high),
                ("target", current.target),
            )
        }
        forms.append(TargetForm(measure, DEFAULTS[key], request.POST or None, initial=initial))
    if request.method == "POST" and all(form.is_valid() for form in forms):
        wanted = {
            form.measure.key: services.Thresholds(
                form.cleaned_data["low"], form.cleaned_data["high"], form.cleaned_data["target"]
            )
            for form in forms
        }
        changed = services.save_targets(request.user, wanted)
        if changed:
            messages.success(request, f"Saved the bands of {', '.join(changed)}.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("reports:targets")
    rows = [
        {"form": form, "measure": form.measure, "source": DEFAULTS[form.measure.key].source}
        for form in forms
    ]
    return render(
        request,
        "reports/targets.html",
        {"rows": rows, "has_errors": any(form.errors for form in forms)},
        status=422 if request.method == "POST" else 200,
    )


# --- capture–recapture ----------------------------------------------------------------


def _save_places(request: HttpRequest) -> tuple[list[Site], bool]:
    """The sites the user may keep an estimate for, and whether the whole programme too."""
    scope = access.scope(request.user, Cap.AGGREGATES)
    sites = list(scope.filter(Site.objects.filter(active=True), field="id").order_by("name"))
    return sites, scope.everywhere


# The lists are read by an upload handler that keeps them in memory, and handlers can
# only be set before the request's body is read, which the CSRF check does: so that
# check is turned off for the view and made inside it, after the handlers are set
# (Django's documented pattern for per-view upload handlers).
@requires(Cap.AGGREGATES)
@csrf_exempt
@never_cache
def capture(request: HttpRequest) -> HttpResponse:
    """Match two lists of UICs and estimate how many people inject drugs (Chapman)."""
    handler = ListInMemory(request)
    request.upload_handlers = [handler]
    return _capture(request, handler)


@csrf_protect
@sensitive_post_parameters("list1", "list2")
def _capture(request: HttpRequest, handler: ListInMemory) -> HttpResponse:
    sites, everywhere = _save_places(request)
    context: dict[str, Any] = {"scheme_length": sum(c.length for c in scheme().components)}
    status = 200
    if request.method == "POST" and request.POST.get("action") == "save":
        save_form = SaveEstimateForm(sites, everywhere, request.POST)
        if save_form.is_valid():
            n1, n2, m = save_form.cleaned_data["counts"]
            site = save_form.chosen_site()
            year = save_form.cleaned_data["year"]
            saved, previous = services.save_population_estimate(
                request.user, year=year, site=site, estimate=chapman(n1, n2, m)
            )
            where = site.name if site is not None else "the whole programme"
            said = (
                f"Saved {saved.estimate:,} as the number of people who inject drugs "
                f"in {year}, for {where}"
            )
            if previous is not None and previous != saved.estimate:
                said += f", in place of {previous:,}"
            messages.success(request, said + ".")
            return redirect("reports:capture")
        # The result is shown again from its signed counts, with the form's errors.
        counts = save_form.cleaned_data.get("counts")
        if counts:
            context["result"] = _result(chapman(*counts))
        context["form"] = CaptureForm(scheme())
        context["save_form"] = save_form
        status = 422
    elif request.method == "POST":
        form = CaptureForm(scheme(), request.POST, request.FILES, too_big=handler.too_big)
        if form.is_valid():
            found = match(form.people["1"], form.people["2"])
            services.record_capture_run(
                request.user, found.estimate, (form.people["1"].lines, form.people["2"].lines)
            )
            estimate = found.estimate
            context["result"] = _result(estimate, found)
            # A new, empty form: the lists are not sent back to the browser.
            context["form"] = CaptureForm(scheme())
            context["save_form"] = SaveEstimateForm(
                sites,
                everywhere,
                initial={"counts": sign_counts(estimate.n1, estimate.n2, estimate.m)},
            )
        else:
            context["form"] = form
            status = 422
    else:
        context["form"] = CaptureForm(scheme())
    return render(request, "reports/capture.html", context, status=status)


def _result(estimate: Estimate, found: Match | None = None) -> dict[str, Any]:
    """What the page shows of a result: whole people, halves rounded up."""
    return {
        "estimate": estimate,
        "n": whole(estimate.n),
        "lower": whole(estimate.lower),
        "upper": whole(estimate.upper),
        "match": found,
        "near_n": whole(found.if_near_match.n) if found and found.if_near_match else None,
    }
