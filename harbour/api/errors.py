from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler


def _join(prefix: str, key: Any) -> str:
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return f"{prefix}[{key}]"  # an item of a list: distributions[1].option
    if key in ("non_field_errors", ""):
        return prefix
    return f"{prefix}.{key}" if prefix else str(key)


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            out += _flatten(value, _join(prefix, key))
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            # A list of dicts holds one entry per submitted item (empty when it was fine).
            out += _flatten(item, _join(prefix, index) if isinstance(item, dict) else prefix)
        return out
    return [{"field": prefix, "message": str(detail)}]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error names the field it is about: {"errors": [{"field", "message"}]}."""
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and set(response.data) == {"detail"}:
        response.data = {"errors": [{"field": "", "message": str(response.data["detail"])}]}
    else:
        response.data = {"errors": _flatten(response.data)}
    return response
