from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import working_site
from harbour.clients import pseudonym as ps
from harbour.clients.models import Client
from harbour.sites.models import Site, SiteKind
from harbour.stock.services import levels
from harbour.visits import services
from harbour.visits.forms import ContactForm, OverdoseForm
from harbour.visits.models import Contact, Distribution, Overdose

OVERDOSE_WINDOW_DAYS = 14


@requires(Cap.CLIENT_FIND)
def contact(request: HttpRequest, client_pk: uuid.UUID | None = None) -> HttpResponse:
    """The whole contact on one screen: what was handed out and what else was done."""
    site = working_site(request)
    client = None
    if client_pk is not None:
        client = get_object_or_404(Client, pk=client_pk, merged_into__isnull=True)
        access.require_client(request.user, Cap.CLIENT_FIND, client)
    initial = {"contact_id": uuid.uuid4(), "session": services.current_session(site)}
    form = ContactForm(site, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved, created = services.record_contact(
                request.user,
                site,
                client,
                contact_id=form.cleaned_data["contact_id"],
                date=form.cleaned_data["date"],
                lines=form.lines(),
                services=form.services(),
            )
        except services.ContactConflict as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            if created:
                handed = sum(d.quantity for d in saved.distributions.all())
                who = client.code if client else "an anonymous person"
                items = (
                    "nothing handed out"
                    if not handed
                    else ("1 item handed out" if handed == 1 else f"{handed} items handed out")
                )
                messages.success(request, f"Contact saved for {who}: {items}.")
            else:
                messages.info(request, "This contact was already saved.")
            if client is not None:
                return redirect("clients:profile", pk=client.pk)
            return redirect("clients:find")
    return render(
        request,
        "visits/contact.html",
        {"form": form, "client": client, "site": site},
        status=422 if request.method == "POST" else 200,
    )


@requires(Cap.CLIENT_FIND)
def overdose(request: HttpRequest) -> HttpResponse:
    site = working_site(request)
    form = OverdoseForm(request.POST or None, initial={"overdose_id": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        client = None
        if data["client_code"]:
            code = ps.normalise_code(data["client_code"])
            client = access.client_scope(request.user, Cap.CLIENT_FIND).filter(code=code).first()
            if client is None:
                form.add_error("client_code", "No client with that code at your sites.")
        if not form.errors:
            services.report_overdose(
                request.user,
                site,
                date=data["date"],
                client=client,
                naloxone_doses=data["naloxone_doses"],
                outcome=data["outcome"],
                ems_called=data["ems_called"],
                source=data["source"],
                overdose_id=data["overdose_id"],
            )
            messages.success(request, "Overdose report saved. Thank you for responding.")
            return redirect("visits:site")
    return render(
        request,
        "visits/overdose.html",
        {"form": form, "site": site},
        status=422 if request.method == "POST" else 200,
    )


def _overview_site(request: HttpRequest, pk: int | None) -> Site:
    if pk is None:
        return working_site(request, Cap.SITE_OVERVIEW)
    site = get_object_or_404(Site, pk=pk)
    access.require(request.user, Cap.SITE_OVERVIEW, site)
    return site


@requires(Cap.SITE_OVERVIEW)
def site_overview(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A site's day at a glance: contacts, what left the shelf, overdoses, stock."""
    site = _overview_site(request, pk)
    today = timezone.localdate()
    since = today - dt.timedelta(days=OVERDOSE_WINDOW_DAYS - 1)
    contacts = Contact.objects.filter(site=site, date=today).aggregate(
        total=Count("id"), anonymous=Count("id", filter=Q(client__isnull=True))
    )
    handed = (
        Distribution.objects.filter(contact__site=site, contact__date=today)
        .values("item__name")
        .annotate(total=Sum("quantity"))
        .order_by("item__sort_order")
    )
    per_day = dict(
        Overdose.objects.filter(site=site, date__gte=since)
        .values("date")
        .annotate(n=Count("id"))
        .values_list("date", "n")
    )
    days = [since + dt.timedelta(days=i) for i in range(OVERDOSE_WINDOW_DAYS)]
    peak = max(per_day.values(), default=0)
    overdose_days: list[dict[str, Any]] = [
        {
            "date": d,
            "count": per_day.get(d, 0),
            "height": round(100 * per_day.get(d, 0) / peak) if peak else 0,
        }
        for d in days
    ]
    recent = Overdose.objects.filter(site=site, date__gte=since)
    sites = access.scope(request.user, Cap.SITE_OVERVIEW).filter(
        Site.objects.filter(active=True).exclude(kind=SiteKind.REGION), field="id"
    )
    return render(
        request,
        "visits/site_overview.html",
        {
            "site": site,
            "today": today,
            "contacts": contacts,
            "handed": handed,
            "overdose_days": overdose_days,
            "overdose_total": sum(per_day.values()),
            "overdose_deaths": recent.filter(outcome=Overdose.Outcome.DIED).count(),
            "overdose_reversed": recent.filter(
                naloxone_doses__gt=0, outcome=Overdose.Outcome.SURVIVED
            ).count(),
            "window": OVERDOSE_WINDOW_DAYS,
            "stock": levels(site, today),
            "sites": sites,
        },
    )
