from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from harbour.clients.models import Client
from harbour.testing.models import Condition, Outcome, Result, Test, TestKind, TestType


def _date(**attrs: Any) -> forms.DateField:
    return forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate, **attrs
    )


class RecordTestForm(forms.Form):
    test = forms.ChoiceField(choices=[("", "Choose the test"), *TestType.choices])
    kind = forms.ChoiceField(
        choices=TestKind.choices,
        initial=TestKind.RAPID,
        label="How",
        help_text="A TB symptom screen is recorded as a rapid test.",
    )
    date = _date()
    result = forms.ChoiceField(
        choices=[("", "Awaited from the laboratory"), *Result.choices],
        required=False,
        help_text="A rapid or self-test has its result at once.",
    )
    confirms = forms.ModelChoiceField(
        queryset=Test.objects.none(),
        required=False,
        empty_label="No, a new test",
        label="Confirms an earlier reactive test",
    )
    consent = forms.BooleanField(
        label="The person chooses to be tested and agrees to it",
        error_messages={"required": "A test is only done with the person's consent."},
    )
    counselling = forms.BooleanField(
        required=False,
        label="Counselling given",
        help_text="Before the test, and with the result.",
    )
    # Sent again by a double tap or a retry: the same test, recorded once.
    test_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pending = Test.objects.filter(client=client, needs_confirmation=True)
        if pending.exists():
            field = self.fields["confirms"]
            field.queryset = pending  # type: ignore[attr-defined]
            field.label_from_instance = (  # type: ignore[attr-defined]
                lambda t: (
                    f"{t.get_test_display()}, {t.get_kind_display().lower()}, {t.date:%d %b %Y}"
                )
            )
        else:
            # Nothing awaits confirmation: the choice would only be noise.
            del self.fields["confirms"]


class ResultForm(forms.Form):
    result = forms.ChoiceField(choices=[("", "Choose the result"), *Result.choices])


ON_SITE, PARTNER = "on_site", "partner"


class TreatmentForm(forms.Form):
    condition = forms.ChoiceField(choices=[("", "Choose"), *Condition.choices])
    start_date = _date(label="Start date")
    where = forms.ChoiceField(
        choices=[(ON_SITE, "On site"), (PARTNER, "At a partner clinic")],
        initial=ON_SITE,
        label="Treated",
    )
    partner = forms.CharField(
        required=False, max_length=200, label="Partner clinic", help_text="When treated there."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("where") == PARTNER and not data.get("partner", "").strip():
            self.add_error("partner", "Name the partner clinic that treats the person.")
        return data

    def provider(self) -> str:
        """Blank for on site, as the model keeps it; else the partner clinic."""
        data = self.cleaned_data
        return data["partner"].strip() if data["where"] == PARTNER else ""


class EndTreatmentForm(forms.Form):
    end_date = _date(label="Date")
    outcome = forms.ChoiceField(
        choices=[("", "Choose"), *[c for c in Outcome.choices if c[0] != Outcome.ONGOING]]
    )
    reason = forms.CharField(
        required=False,
        max_length=200,
        label="Reason, when known",
        help_text="Helps outreach workers reconnect the person with treatment.",
    )


class ViralLoadForm(forms.Form):
    condition = forms.ChoiceField(choices=[("hiv", "HIV"), ("hcv", "Hepatitis C")])
    date = _date()
    copies_per_ml = forms.IntegerField(
        min_value=0,
        label="Copies per mL",
        help_text="0 when not detected.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class SupportForm(forms.Form):
    date = _date()
    peer = forms.BooleanField(required=False, initial=True, label="Given by a peer")
    note = forms.CharField(
        required=False,
        max_length=300,
        label="Note",
        help_text="What helped, e.g. a reminder, company at the clinic.",
    )
