from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from harbour.accounts import access


class HasCapability(BasePermission):
    """The API's side of the same rule the AccessMiddleware enforces for every view."""

    def has_permission(self, request: Any, view: Any) -> bool:
        cap = access.declared_capability(view)
        if cap == "public":
            return True
        if cap is None:
            return False
        return access.has(request.user, access.Cap(cap))
