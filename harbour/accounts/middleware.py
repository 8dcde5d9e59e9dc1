from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from harbour.accounts import access

Handler = Callable[[HttpRequest], HttpResponse]


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class IdleTimeoutMiddleware:
    """Ends a session after SESSION_IDLE_SECONDS without a request.

    Counter computers are shared; a record left open is a record anyone can read.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen")
            if last is not None and now - int(last) > settings.SESSION_IDLE_SECONDS:
                logout(request)
                if _is_api(request):
                    return JsonResponse(
                        {"detail": "Your session ended after inactivity."}, status=401
                    )
                messages.info(request, "You were signed out after 30 minutes without activity.")
                return redirect_to_login(request.get_full_path())
            # Write at most once a minute: every request would otherwise save the session.
            if last is None or now - int(last) >= 60:
                request.session["last_seen"] = now
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Site managers, M&E officers and administrators must pass a TOTP check."""

    ALLOWED_PREFIXES = ("/account/two-factor/", "/account/logout/", "/static/")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "needs_two_factor", False)
            and not getattr(user, "is_verified", lambda: False)()
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            if _is_api(request):
                return JsonResponse(
                    {"detail": "Two-factor verification is required for your role."}, status=403
                )
            return redirect(reverse("accounts:two_factor") + f"?next={request.get_full_path()}")
        return self.get_response(request)


class AccessMiddleware:
    """Deny by default: a view must declare the capability it needs, and the user hold it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        cap = access.declared_capability(view)
        if cap == "public":
            return None
        if cap is None:
            raise PermissionDenied("This page declares no access rule, so it is closed.")
        if not request.user.is_authenticated:
            if _is_api(request):
                return JsonResponse({"detail": "Sign in first."}, status=401)
            return redirect_to_login(request.get_full_path())
        if not access.has(request.user, access.Cap(cap)):
            if _is_api(request):
                return JsonResponse({"detail": "Your role does not allow this."}, status=403)
            raise PermissionDenied("Your role does not allow this page.")
        return None
