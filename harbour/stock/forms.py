from __future__ import annotations

from typing import Any

from django import forms

from harbour.sites.models import Site, SiteKind
from harbour.visits.models import CatalogueItem


def _items() -> Any:
    return CatalogueItem.objects.filter(active=True)


class MovementForm(forms.Form):
    ACTIONS = [
        ("delivery", "Delivery received"),
        ("transfer", "Send to another site"),
        ("adjustment", "Adjustment (damaged, expired, found…)"),
        ("count", "Stock count"),
    ]
    action = forms.ChoiceField(choices=ACTIONS, label="What happened")
    item = forms.ModelChoiceField(queryset=CatalogueItem.objects.none(), label="Item")
    quantity = forms.IntegerField(
        label="Quantity",
        help_text="Units received or sent; for an adjustment, negative to remove; "
        "for a count, what is on the shelf.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        min_value=-1_000_000,
        max_value=1_000_000,
    )
    target = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, label="To site (for a transfer)"
    )
    reason = forms.CharField(required=False, max_length=200, label="Reason or note")

    def __init__(self, site: Site, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = _items()  # type: ignore[attr-defined]
        self.fields["item"].empty_label = "Choose an item"  # type: ignore[attr-defined]
        self.fields["target"].queryset = (  # type: ignore[attr-defined]
            Site.objects.filter(active=True).exclude(kind=SiteKind.REGION).exclude(pk=site.pk)
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action, quantity = data.get("action"), data.get("quantity")
        if action == "transfer" and not data.get("target"):
            self.add_error("target", "Choose the site the stock goes to.")
        if action in {"delivery", "transfer"} and quantity is not None and quantity <= 0:
            self.add_error("quantity", "Give a positive number of units.")
        if action == "count" and quantity is not None and quantity < 0:
            self.add_error("quantity", "A count cannot be negative.")
        if action == "adjustment":
            if quantity == 0:
                self.add_error("quantity", "An adjustment changes the stock by at least one unit.")
            if not (data.get("reason") or "").strip():
                self.add_error("reason", "Say why the stock is adjusted.")
        return data
