from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from harbour.ost.models import EndReason, Medication, Phase, StartContext

WEEKDAYS = [
    ("0", "Mon"),
    ("1", "Tue"),
    ("2", "Wed"),
    ("3", "Thu"),
    ("4", "Fri"),
    ("5", "Sat"),
    ("6", "Sun"),
]


def _date(**attrs: Any) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **attrs)


def _mg(label: str = "Dose (mg)") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.01"),
        max_value=Decimal("2000"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


class EnrolForm(forms.Form):
    medication = forms.ChoiceField(choices=Medication.choices, help_text="Chosen with the person.")
    dose_mg = _mg("Starting dose (mg)")
    phase = forms.ChoiceField(choices=Phase.choices, initial=Phase.INDUCTION)
    start_date = _date(initial=timezone.localdate)
    start_context = forms.ChoiceField(choices=StartContext.choices, label="How treatment starts")
    linked_service = forms.CharField(
        required=False,
        max_length=200,
        label="Service or prison the person comes from",
    )
    consent = forms.BooleanField(
        label="The person chooses this treatment and agrees to it",
        error_messages={"required": "Treatment starts only with the person's consent."},
    )


class PrescriptionForm(forms.Form):
    dose_mg = _mg()
    phase = forms.ChoiceField(choices=Phase.choices)
    valid_from = _date(initial=timezone.localdate, label="From")
    take_home_days = forms.MultipleChoiceField(
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Take-home days",
        help_text="Once the person is stable, and as they wish.",
    )
    reason = forms.CharField(
        max_length=300,
        label="Why this change",
        help_text="Kept with the prescription, with your name.",
    )

    def clean_valid_from(self) -> dt.date:
        day: dt.date = self.cleaned_data["valid_from"]
        if day < timezone.localdate() - dt.timedelta(days=7):
            raise forms.ValidationError("A prescription cannot start more than a week ago.")
        return day


class DispenseForm(forms.Form):
    taken = forms.ChoiceField(
        choices=[("observed", "Observed"), ("take_home", "Taken home")], initial="observed"
    )
    justification = forms.CharField(
        required=False, max_length=300, label="Reason for a second dose today"
    )


class TakeHomeForm(forms.Form):
    start = _date(label="First take-home date")
    days = forms.IntegerField(min_value=1, max_value=14, initial=1, label="Number of days")


class ReviewForm(forms.Form):
    note = forms.CharField(
        max_length=300,
        label="What the review found",
        help_text="E.g. tolerance checked, restarting at a lower dose.",
    )


class EndForm(forms.Form):
    end_date = _date(initial=timezone.localdate, label="Last day on treatment")
    reason = forms.ChoiceField(choices=EndReason.choices)
    linked_service = forms.CharField(
        required=False, max_length=200, label="Service or prison taking over (for continuity)"
    )
