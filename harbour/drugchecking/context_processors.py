from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from harbour.accounts import access
from harbour.accounts.access import Cap
from harbour.drugchecking.models import Alert, AlertStatus
from harbour.drugchecking.services import active_alerts


def alerts(request: HttpRequest) -> dict[str, Any]:
    """Sent drug alerts for the banner on every page; drafts waiting for a reviewer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context: dict[str, Any] = {"drug_alerts": active_alerts()}
    if access.has(user, Cap.ALERT_REVIEW):
        context["drug_alerts_waiting"] = Alert.objects.filter(status=AlertStatus.DRAFT).count()
    return context
