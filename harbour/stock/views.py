from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import working_site
from harbour.stock import services
from harbour.stock.forms import MovementForm
from harbour.stock.models import Movement


@requires(Cap.SITE_OVERVIEW)
def stock(request: HttpRequest) -> HttpResponse:
    site = working_site(request, Cap.SITE_OVERVIEW)
    can_manage = access.has(request.user, Cap.STOCK_MANAGE, site)
    form = MovementForm(site, request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Your role does not record stock movements.")
        if form.is_valid():
            data = form.cleaned_data
            item, qty, reason = data["item"], data["quantity"], data.get("reason", "")
            try:
                if data["action"] == "delivery":
                    services.deliver(request.user, site, item, qty, reason)
                elif data["action"] == "transfer":
                    services.transfer(request.user, site, data["target"], item, qty, reason)
                elif data["action"] == "adjustment":
                    services.adjust(request.user, site, item, qty, reason)
                else:
                    services.count(request.user, site, item, qty, reason)
            except services.StockError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, f"Stock of {item.name} updated.")
                return redirect("stock:levels")
    movements = (
        Movement.objects.filter(site=site)
        .exclude(kind=Movement.Kind.DISTRIBUTION)
        .select_related("item", "other_site", "created_by")[:30]
    )
    return render(
        request,
        "stock/levels.html",
        {
            "site": site,
            "lines": services.levels(site),
            "form": form,
            "can_manage": can_manage,
            "movements": movements,
        },
        status=422 if request.method == "POST" else 200,
    )
