from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from harbour.accounts import access
from harbour.accounts.access import Cap


def harbour(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from harbour.accounts.views import current_site

    return {
        "current_site": current_site(request),
        "working_sites": access.working_sites(user),
        "can": {cap.name.lower(): access.has(user, cap) for cap in Cap},
    }
