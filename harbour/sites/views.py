from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.sites.forms import SiteForm
from harbour.sites.models import Site, SiteKind
from harbour.visits.models import Contact


@requires(Cap.SITE_MANAGE)
def site_list(request: HttpRequest) -> HttpResponse:
    sites = list(Site.objects.select_related("parent"))
    children: dict[int | None, list[Site]] = {}
    for site in sites:
        children.setdefault(site.parent_id, []).append(site)
    rows: list[tuple[int, Site]] = []

    def walk(parent: int | None, depth: int) -> None:
        for site in children.get(parent, []):
            rows.append((depth, site))
            walk(site.pk, depth + 1)

    walk(None, 0)
    return render(request, "sites/site_list.html", {"rows": rows})


@requires(Cap.SITE_MANAGE)
def site_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    site = get_object_or_404(Site, pk=pk) if pk else Site()
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        creating = site.pk is None
        with transaction.atomic():
            saved = form.save()
            record(
                request.user,
                "site.create" if creating else "site.update",
                saved,
                site=saved,
                detail={"code": saved.code, "fields": form.changed_data},
            )
        messages.success(request, f"Saved {saved.name}.")
        return redirect("sites:list")
    return render(request, "sites/site_form.html", {"form": form, "site": site})


@requires(Cap.AGGREGATES)
def summary(request: HttpRequest) -> HttpResponse:
    """Counts per site for the last 30 days: what an M&E officer may see, no records."""
    scope = access.scope(request.user, Cap.AGGREGATES)
    since = timezone.localdate() - dt.timedelta(days=30)
    sites = scope.filter(Site.objects.exclude(kind=SiteKind.REGION), field="id")
    contacts: dict[int, tuple[int, int]] = {
        site_id: (total, anon)
        for site_id, total, anon in Contact.objects.filter(date__gte=since, site__in=sites)
        .values("site")
        .annotate(total=Count("id"), anon=Count("id", filter=Q(client__isnull=True)))
        .values_list("site", "total", "anon")
    }
    registered = dict(
        Client.objects.filter(merged_into__isnull=True, site__in=sites)
        .values("site")
        .annotate(n=Count("id"))
        .values_list("site", "n")
    )
    rows = [
        {
            "site": site,
            "clients": registered.get(site.pk, 0),
            "contacts": contacts.get(site.pk, (0, 0))[0],
            "anonymous": contacts.get(site.pk, (0, 0))[1],
        }
        for site in sites
    ]
    return render(request, "sites/summary.html", {"rows": rows, "since": since})
