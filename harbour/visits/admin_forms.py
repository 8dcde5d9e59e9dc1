from __future__ import annotations

from typing import Any

from django import forms

from harbour.visits.models import CatalogueItem, SiteSession

WEEKDAYS = [
    ("", "Any day"),
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


class CatalogueItemForm(forms.ModelForm):  # type: ignore[type-arg]
    options_text = forms.CharField(
        label="Options (sizes, gauges…)",
        required=False,
        help_text="One per line; the first is the usual choice.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = CatalogueItem
        fields = ["code", "name", "sort_order", "active"]
        help_texts = {"code": "Lower-case code used in imports and exports, e.g. needle_syringe."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["options_text"].initial = "\n".join(self.instance.options or [])
        if self.instance.pk:
            # Codes are the key of imports, exports and reports: fixed once in use.
            self.fields["code"].disabled = True

    def clean_options_text(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data.get("options_text", "").splitlines()]
        options = [line for line in lines if line]
        if any(len(o) > 40 for o in options):
            raise forms.ValidationError("Keep each option under 40 characters.")
        if len(set(options)) != len(options):
            raise forms.ValidationError("An option is listed twice.")
        return options

    def save(self, commit: bool = True) -> CatalogueItem:
        item: CatalogueItem = super().save(commit=False)
        item.options = self.cleaned_data["options_text"]
        if commit:
            item.save()
        return item


class SiteSessionForm(forms.ModelForm):  # type: ignore[type-arg]
    weekday = forms.TypedChoiceField(
        choices=WEEKDAYS, coerce=int, empty_value=None, required=False, label="Day"
    )

    class Meta:
        model = SiteSession
        fields = ["name", "weekday", "starts", "ends", "women_only", "active"]
        widgets = {
            "starts": forms.TimeInput(attrs={"type": "time"}),
            "ends": forms.TimeInput(attrs={"type": "time"}),
        }
        labels = {"women_only": "Women only"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            self.add_error("ends", "The session must end after it starts.")
        return data
