"""Setting up what a programme hands out and when its sites hold special sessions."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import working_site
from harbour.audit.services import record
from harbour.visits.admin_forms import CatalogueItemForm, SiteSessionForm
from harbour.visits.models import CatalogueItem, SiteSession


@requires(Cap.CATALOGUE_MANAGE)
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "visits/catalogue.html", {"items": CatalogueItem.objects.all()})


@requires(Cap.CATALOGUE_MANAGE)
def catalogue_item(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    item = get_object_or_404(CatalogueItem, pk=pk) if pk else CatalogueItem()
    form = CatalogueItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            record(request.user, "catalogue.save", saved, detail={"code": saved.code})
        messages.success(request, f"Saved {saved.name}.")
        return redirect("visits:catalogue")
    return render(
        request,
        "visits/catalogue_item.html",
        {"form": form, "item": item},
        status=422 if request.method == "POST" else 200,
    )


@requires(Cap.SESSION_MANAGE)
def sessions(request: HttpRequest) -> HttpResponse:
    site = working_site(request, Cap.SESSION_MANAGE)
    form = SiteSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            session = form.save(commit=False)
            session.site = site
            session.save()
            record(
                request.user,
                "session.create",
                session,
                site=site,
                detail={"name": session.name, "women_only": session.women_only},
            )
        messages.success(request, f"Session “{session.name}” added.")
        return redirect("visits:sessions")
    return render(
        request,
        "visits/sessions.html",
        {"site": site, "form": form, "sessions": SiteSession.objects.filter(site=site)},
        status=422 if request.method == "POST" else 200,
    )


@requires(Cap.SESSION_MANAGE)
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(SiteSession, pk=pk)
    access.require(request.user, Cap.SESSION_MANAGE, session.site)
    form = SiteSessionForm(request.POST or None, instance=session)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            record(
                request.user,
                "session.update",
                session,
                site=session.site,
                detail={"fields": form.changed_data},
            )
        messages.success(request, "Session saved.")
        return redirect("visits:sessions")
    return render(
        request,
        "visits/session_edit.html",
        {"form": form, "session": session},
        status=422 if request.method == "POST" else 200,
    )
