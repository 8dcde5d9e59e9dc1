from __future__ import annotations

from typing import Any

import segno
from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from harbour.accounts import access
from harbour.accounts.access import Cap, public, requires
from harbour.accounts.forms import (
    MembershipFormSet,
    TokenForm,
    UserForm,
    memberships_initial,
    save_memberships,
)
from harbour.accounts.models import User
from harbour.audit.services import record
from harbour.sites.models import Site


@public
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponseBase:
    view = auth_views.LoginView.as_view(
        template_name="accounts/login.html", redirect_authenticated_user=True
    )
    response = view(request)
    if request.method == "POST" and request.user.is_authenticated:
        record(request.user, "user.login", request.user, object_type="user")
    return response


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LogoutView.as_view()(request)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@requires(Cap.SELF)
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up TOTP on first use, then ask for a code at every sign-in."""
    user = request.user
    next_url = _safe_next(request, reverse("home"))
    enrolled = user_has_device(user, confirmed=True)
    device: TOTPDevice | None
    if enrolled:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    else:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    assert device is not None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, why = device.verify_is_allowed()
        if not allowed:
            wait = ""
            if why and why.get("locked_until"):
                seconds = max(1, int((why["locked_until"] - timezone.now()).total_seconds()))
                wait = f" Try again in {seconds} second{'s' if seconds != 1 else ''}."
            form.add_error("token", "Too many wrong codes in a row." + wait)
        elif device.verify_token(form.cleaned_data["token"]):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record(user, "user.two_factor_enrolled", user, object_type="user")
            otp_login(request, device)
            return HttpResponseRedirect(next_url)
        else:
            form.add_error(
                "token", "That code is not right, or it has expired. Try the newest one."
            )
    qr_svg = None
    secret = None
    if not enrolled:
        qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1b1b1b")
        secret = device.config_url.split("secret=")[1].split("&")[0]
    return render(
        request,
        "accounts/two_factor.html",
        {"form": form, "enrolled": enrolled, "qr_svg": qr_svg, "secret": secret, "next": next_url},
    )


@requires(Cap.SELF)
@require_POST
def choose_site(request: HttpRequest) -> HttpResponse:
    site_id = request.POST.get("site", "")
    allowed = {s.pk: s for s in access.working_sites(request.user)}
    if site_id.isdigit() and int(site_id) in allowed:
        request.session["site_id"] = int(site_id)
        messages.success(request, f"You are now working at {allowed[int(site_id)].name}.")
    else:
        messages.error(request, "You do not work at that site.")
    return redirect(_safe_next(request, reverse("home")))


@requires(Cap.SELF)
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if access.has(user, Cap.CLIENT_FIND):
        return redirect("clients:find")
    if access.has(user, Cap.AGGREGATES):
        return redirect("sites:summary")
    if access.has(user, Cap.USER_MANAGE):
        return redirect("accounts:user_list")
    if access.has(user, Cap.ALERT_REVIEW):
        return redirect("alerts:list")
    return render(request, "accounts/no_role.html")


# -- user administration --------------------------------------------------------


@requires(Cap.USER_MANAGE)
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.order_by("username").prefetch_related("memberships__site")
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(username__icontains=query)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page, "q": query})


@requires(Cap.USER_MANAGE)
@sensitive_post_parameters("password")
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = get_object_or_404(User, pk=pk) if pk else User()
    form = UserForm(request.POST or None, instance=user)
    formset = MembershipFormSet(request.POST or None, initial=memberships_initial(user), prefix="m")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        creating = user.pk is None
        with transaction.atomic():
            saved = form.save()
            roles = save_memberships(saved, formset)
            record(
                request.user,
                "user.create" if creating else "user.update",
                saved,
                object_type="user",
                detail={"username": saved.username, "roles": roles, "fields": form.changed_data},
            )
        messages.success(request, f"Saved {saved.username}.")
        return redirect("accounts:user_list")
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "formset": formset, "edited": user, "sites": Site.objects.all()},
    )


@requires(Cap.USER_MANAGE)
@require_POST
def user_reset_two_factor(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    TOTPDevice.objects.filter(user=user).delete()
    record(request.user, "user.two_factor_reset", user, object_type="user")
    messages.success(request, f"{user.username} will set up two-factor again at next sign-in.")
    return redirect("accounts:user_edit", pk=pk)


@requires(Cap.USER_MANAGE)
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    axes_reset(username=user.username)
    record(request.user, "user.unlock", user, object_type="user")
    messages.success(request, f"{user.username} can sign in again.")
    return redirect("accounts:user_edit", pk=pk)


def current_site(request: HttpRequest, cap: Cap = Cap.CLIENT_FIND) -> Site | None:
    """The site the user is working at now (chosen in the header), if any."""
    sites = access.working_sites(request.user, cap)
    chosen = request.session.get("site_id")
    for site in sites:
        if site.pk == chosen:
            return site
    return sites[0] if sites else None


def working_site(request: HttpRequest, cap: Cap = Cap.CLIENT_FIND) -> Site:
    """The current site, or 403 for a user with no site where ``cap`` applies."""
    site = current_site(request, cap)
    if site is None:
        raise PermissionDenied("You are not assigned to a site where this is done.")
    return site


def context(request: HttpRequest) -> dict[str, Any]:
    return {"current_site": current_site(request)}
