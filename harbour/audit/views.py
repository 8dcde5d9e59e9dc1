from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from harbour.accounts.access import Cap, requires
from harbour.audit.models import AuditEvent
from harbour.audit.services import record, verify_chain
from harbour.sites.models import Site


class AuditFilter(forms.Form):
    actor = forms.CharField(required=False, label="Who (username)")
    action = forms.CharField(required=False, label="Action, e.g. client.view")
    object_id = forms.CharField(required=False, label="Record (client code or id)")
    site = forms.ModelChoiceField(Site.objects.all(), required=False, empty_label="Any site")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _filtered(request: HttpRequest) -> tuple[AuditFilter, QuerySet[AuditEvent]]:
    form = AuditFilter(request.GET or None)
    events = AuditEvent.objects.select_related("site").order_by("-id")
    if form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        if data["actor"]:
            events = events.filter(actor_name__iexact=data["actor"].strip())
        if data["action"]:
            events = events.filter(action__startswith=data["action"].strip())
        if data["object_id"]:
            term = data["object_id"].strip()
            from harbour.clients.models import Client

            ids = [term] + [
                str(pk)
                for pk in Client.objects.filter(code=term.upper()).values_list("pk", flat=True)
            ]
            events = events.filter(object_id__in=ids)
        if data["site"]:
            events = events.filter(site=data["site"])
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
    return form, events


@requires(Cap.AUDIT_VIEW)
def event_list(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@requires(Cap.AUDIT_VIEW)
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    _, events = _filtered(request)
    record(request.user, "audit.export", object_type="audit", detail={"filter": request.GET.dict()})
    writer = csv.writer(_Echo())

    def rows() -> Any:
        yield writer.writerow(
            [
                "id",
                "at",
                "actor",
                "site",
                "action",
                "object_type",
                "object_id",
                "detail",
                "prev_hash",
                "hash",
            ]
        )
        for e in events.order_by("id").iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.id,
                    e.at.isoformat(),
                    e.actor_name,
                    e.site.code if e.site else "",
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.detail,
                    e.prev_hash,
                    e.hash,
                ]
            )

    stamp = dt.date.today().isoformat()
    return StreamingHttpResponse(
        rows(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="harbour-audit-{stamp}.csv"'},
    )


@requires(Cap.AUDIT_VIEW)
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    problems = verify_chain()
    record(request.user, "audit.verify", object_type="audit", detail={"problems": len(problems)})
    return render(
        request,
        "audit/verify.html",
        {"problems": problems, "count": AuditEvent.objects.count()},
    )
