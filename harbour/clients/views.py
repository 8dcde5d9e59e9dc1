from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from harbour.accounts import access
from harbour.accounts.access import Cap, requires
from harbour.accounts.views import current_site, working_site
from harbour.clients import pseudonym as ps
from harbour.clients import services
from harbour.clients.forms import ClientEditForm, CodeForm, MergeForm, RegistrationForm, UICForm
from harbour.clients.models import Client, ClientPartial, Merge
from harbour.drugchecking.views import client_samples
from harbour.sites.models import Site
from harbour.visits import services as visits
from harbour.visits.models import Contact


@requires(Cap.CLIENT_FIND)
@sensitive_post_parameters()
def find(request: HttpRequest) -> HttpResponse:
    """The counter's first screen: find a returning client, or register a new one.

    UIC components travel by POST only, so they never land in a URL, a server log
    or the browser history, and the response never repeats them once a record
    is found or made.
    """
    site = working_site(request)
    scheme = services.scheme()
    data = request.POST if request.method == "POST" else None
    uic_form = UICForm(scheme, data, prefix=None)
    registering = bool(data and "register" in data)
    reg_form = RegistrationForm(data if registering else None)
    context: dict[str, object] = {
        "uic_form": uic_form,
        "reg_form": reg_form,
        "code_form": CodeForm(),
        "contact_id": uuid.uuid4(),
        "site": site,
        "searched": False,
        "duplicates": [],
    }
    if data is not None and uic_form.is_valid() and "parts" in uic_form.cleaned_data:
        parts = uic_form.cleaned_data["parts"]
        found = services.find(parts)
        if found.client is not None:
            return _open(request, found.client, site)
        in_scope = access.client_scope(request.user, Cap.CLIENT_VIEW)
        context["duplicates"] = [
            c for c in found.possible_duplicates if in_scope.filter(pk=c.pk).exists()
        ]
        context["searched"] = True
        if registering and reg_form.is_valid():
            profile = {k: reg_form.cleaned_data[k] for k in services.PROFILE_FIELDS}
            try:
                client, _ = services.register(
                    request.user,
                    site,
                    parts,
                    phone=reg_form.cleaned_data["phone"],
                    reminders=reg_form.cleaned_data["reminders"],
                    **profile,
                )
            except services.AlreadyRegistered as exc:
                return _open(request, exc.client, site)
            messages.success(request, f"Registered. Client code: {client.code}")
            return redirect("clients:profile", pk=client.pk)
    status = (
        200
        if data is None or (uic_form.is_valid() and (not registering or reg_form.is_valid()))
        else 422
    )
    return render(request, "clients/find.html", context, status=status)


def _open(request: HttpRequest, client: Client, site: Site) -> HttpResponse:
    """The person gave their UIC in person: open their record, linking this site if new."""
    if not access.client_scope(request.user, Cap.CLIENT_VIEW).filter(pk=client.pk).exists():
        services.link(request.user, client, site)
        messages.info(
            request, "This client was registered at another site; they are now linked here too."
        )
    return redirect("clients:profile", pk=client.pk)


@requires(Cap.CLIENT_FIND)
@require_POST
def find_by_code(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    code = ps.normalise_code(request.POST.get("code", "")) if form.is_valid() else ""
    client = access.client_scope(request.user, Cap.CLIENT_VIEW).filter(code=code).first()
    if client is None:
        merged = Client.objects.filter(code=code, merged_into__isnull=False).first()
        if (
            merged is not None
            and access.client_scope(request.user, Cap.CLIENT_VIEW)
            .filter(pk=merged.active_record.pk)
            .exists()
        ):
            client = merged.active_record
    if client is None:
        messages.error(
            request,
            "No client with that code at your sites. "
            "Check the code, or find the person by their UIC.",
        )
        return redirect("clients:find")
    return redirect("clients:profile", pk=client.pk)


def _posted_contact_id(request: HttpRequest) -> uuid.UUID | None:
    """Forms carry a fresh id, so a double click or a resent form records one contact."""
    try:
        return uuid.UUID(request.POST.get("contact_id", ""))
    except ValueError:
        return None


@requires(Cap.CLIENT_FIND)
@require_POST
def anonymous_contact(request: HttpRequest) -> HttpResponse:
    site = working_site(request)
    try:
        _, created = visits.record_contact(
            request.user, site, None, contact_id=_posted_contact_id(request)
        )
    except visits.ContactConflict:
        created = False
    if created:
        messages.success(request, "Anonymous contact recorded. Thank you.")
    else:
        messages.info(request, "This contact was already recorded.")
    return redirect("clients:find")


def _client_for(request: HttpRequest, pk: object, cap: Cap) -> Client:
    client = get_object_or_404(Client, pk=pk)
    if client.merged_into_id is not None:
        raise Http404("This record was merged into another one.")
    access.require_client(request.user, cap, client)
    return client


def _near_duplicates(request: HttpRequest, client: Client) -> list[Client]:
    mine = list(ClientPartial.objects.filter(client=client).values_list("position", "digest"))
    if not mine:
        return []
    from django.db.models import Q

    condition = Q()
    for position, digest in mine:
        condition |= Q(partials__position=position, partials__digest=digest)
    return list(
        access.client_scope(request.user, Cap.CLIENT_VIEW)
        .filter(condition)
        .exclude(pk=client.pk)
        .distinct()[:10]
    )


@requires(Cap.CLIENT_VIEW)
def profile(request: HttpRequest, pk: object) -> HttpResponse:
    client = _client_for(request, pk, Cap.CLIENT_VIEW)
    site = current_site(request)
    services.viewed(request.user, client, site)
    contacts = Contact.objects.filter(client=client).select_related("site")[:20]
    merges = Merge.objects.filter(survivor=client).select_related("merged", "by")
    return render(
        request,
        "clients/profile.html",
        {
            "client": client,
            "contacts": contacts,
            "contact_count": Contact.objects.filter(client=client).count(),
            "merges": merges,
            "ost_episodes": client.ost_episodes.select_related("site")
            if access.has(request.user, Cap.OST_VIEW)
            else None,
            "can_enrol": access.has(request.user, Cap.OST_PRESCRIBE),
            "drug_samples": client_samples(request.user, client),
            "contact_id": uuid.uuid4(),
            "duplicates": _near_duplicates(request, client),
            "show_phone": access.has(request.user, Cap.CLIENT_CONTACT_DETAILS, client.site)
            or access.client_scope(request.user, Cap.CLIENT_CONTACT_DETAILS)
            .filter(pk=client.pk)
            .exists(),
            "can_edit": access.client_scope(request.user, Cap.CLIENT_EDIT)
            .filter(pk=client.pk)
            .exists(),
            "can_merge": access.client_scope(request.user, Cap.CLIENT_MERGE)
            .filter(pk=client.pk)
            .exists(),
        },
    )


@requires(Cap.CLIENT_EDIT)
def edit(request: HttpRequest, pk: object) -> HttpResponse:
    client = _client_for(request, pk, Cap.CLIENT_EDIT)
    show_phone = (
        access.client_scope(request.user, Cap.CLIENT_CONTACT_DETAILS).filter(pk=client.pk).exists()
    )
    original = Client.objects.get(pk=client.pk)
    form = ClientEditForm(request.POST or None, instance=client, show_phone=show_phone)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.fields}
        changed = services.update(request.user, original, current_site(request), **changes)
        messages.success(request, "Saved." if changed else "Nothing changed.")
        return redirect("clients:profile", pk=client.pk)
    if request.method == "GET":
        services.viewed(request.user, client, current_site(request), what="edit")
    return render(
        request,
        "clients/edit.html",
        {"client": original, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@requires(Cap.CLIENT_FIND)
@require_POST
def record_contact(request: HttpRequest, pk: object) -> HttpResponse:
    client = _client_for(request, pk, Cap.CLIENT_FIND)
    try:
        _, created = visits.record_contact(
            request.user, working_site(request), client, contact_id=_posted_contact_id(request)
        )
    except visits.ContactConflict:
        created = False
    if created:
        messages.success(request, f"Contact recorded for {client.code}.")
    else:
        messages.info(request, "This contact was already recorded.")
    return redirect("clients:profile", pk=client.pk)


@requires(Cap.CLIENT_VIEW)
def card(request: HttpRequest, pk: object) -> HttpResponse:
    """A card with the client code, for a person who wants one. Nothing else on it."""
    client = _client_for(request, pk, Cap.CLIENT_VIEW)
    services.viewed(request.user, client, current_site(request), what="card")
    return render(request, "clients/card.html", {"client": client})


@requires(Cap.CLIENT_MERGE)
def merge(request: HttpRequest, pk: object) -> HttpResponse:
    client = _client_for(request, pk, Cap.CLIENT_MERGE)
    form = MergeForm(request.POST or None, initial={"duplicate": request.GET.get("duplicate", "")})
    duplicate = None
    if request.method == "POST" and form.is_valid():
        code = ps.normalise_code(form.cleaned_data["duplicate"])
        duplicate = access.client_scope(request.user, Cap.CLIENT_MERGE).filter(code=code).first()
        if duplicate is None:
            form.add_error("duplicate", "No record with that code at your sites.")
        else:
            try:
                services.merge(request.user, client, duplicate, form.cleaned_data["reason"])
            except services.ClientError as exc:
                form.add_error("duplicate", str(exc))
            else:
                messages.success(
                    request, f"{duplicate.code} was merged into {client.code}. This can be undone."
                )
                return redirect("clients:profile", pk=client.pk)
    return render(
        request,
        "clients/merge.html",
        {"client": client, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@requires(Cap.CLIENT_MERGE)
@require_POST
def undo_merge(request: HttpRequest, merge_pk: int) -> HttpResponse:
    m = get_object_or_404(Merge, pk=merge_pk)
    access.require_client(request.user, Cap.CLIENT_MERGE, m.survivor)
    try:
        services.undo_merge(request.user, m)
    except services.ClientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"The merge was undone: {m.merged.code} is a separate record again."
        )
    return redirect("clients:profile", pk=m.survivor_id)
