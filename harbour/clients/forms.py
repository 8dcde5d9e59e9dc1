from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils import timezone

from harbour.clients.models import Client, Gender, YesNoUnknown
from harbour.clients.uic import Scheme, UICError

_NO_MEMORY = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}


class UICForm(forms.Form):
    """The UIC components, one input each. Their values are never stored."""

    def __init__(self, scheme: Scheme, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        for c in scheme.components:
            name = f"uic_{c.key}"
            if c.kind == "choice":
                self.fields[name] = forms.ChoiceField(
                    label=c.label,
                    choices=[("", "—"), *c.choices],
                    help_text=c.help,
                )
            else:
                attrs = {**_NO_MEMORY, "maxlength": str(c.length), "size": str(c.length + 2)}
                if c.kind == "digits":
                    attrs["inputmode"] = "numeric"
                    attrs["pattern"] = f"[0-9]{{{c.length}}}"
                self.fields[name] = forms.CharField(
                    label=c.label,
                    max_length=c.length,
                    help_text=c.help,
                    widget=forms.TextInput(attrs=attrs),
                )
        first = next(iter(self.fields.values()), None)
        if first is not None:
            first.widget.attrs["autofocus"] = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        values = {c.key: data.get(f"uic_{c.key}", "") for c in self.scheme.components}
        if all(values.values()):
            try:
                data["parts"] = self.scheme.parts(values)
            except UICError as exc:
                self.add_error(f"uic_{exc.component}", exc.message)
        return data


def _year_choices() -> list[tuple[str, str]]:
    this_year = timezone.localdate().year
    return [("", "Not given")] + [(str(y), str(y)) for y in range(this_year - 12, 1919, -1)]


class ProfileForm(forms.Form):
    gender = forms.ChoiceField(choices=Gender.choices, initial=Gender.UNKNOWN)
    birth_year = forms.TypedChoiceField(
        choices=_year_choices, coerce=int, empty_value=None, required=False, label="Year of birth"
    )
    injects = forms.ChoiceField(
        choices=YesNoUnknown.choices, initial=YesNoUnknown.UNKNOWN, label="Injects drugs"
    )
    opioid_dependent = forms.ChoiceField(
        choices=YesNoUnknown.choices, initial=YesNoUnknown.UNKNOWN, label="Opioid-dependent"
    )


class RegistrationForm(ProfileForm):
    consent = forms.BooleanField(
        required=True,
        error_messages={
            "required": "Ask the person for consent, or record the contact as anonymous."
        },
        label="The person agrees that Harbour keeps this record",
        help_text=(
            "Without consent, record the contact as anonymous: the person gets every service."
        ),
    )
    phone = forms.CharField(
        required=False,
        max_length=30,
        label="Phone for reminders",
        help_text="Only if the person wants reminders. Stored encrypted, never shown in lists.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    reminders = forms.BooleanField(
        required=False,
        label="The person wants text reminders",
        help_text="A reminder gives the date and time of an appointment, nothing else.",
    )

    def clean_phone(self) -> str:
        return clean_phone_number(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reminders") and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", "Give a number for the reminders, or leave them unticked.")
        return data


def clean_phone_number(value: str) -> str:
    value = (value or "").strip()
    if value and not re.fullmatch(r"\+?[0-9 ()-]{6,25}", value):
        raise forms.ValidationError("Use digits, spaces and an optional leading +.")
    return value


class ClientEditForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Client
        fields = [
            "gender",
            "birth_year",
            "injects",
            "opioid_dependent",
            "consent_on",
            "phone",
            "reminders",
        ]
        widgets = {"consent_on": forms.DateInput(attrs={"type": "date"})}
        labels = {
            "birth_year": "Year of birth",
            "opioid_dependent": "Opioid-dependent",
            "consent_on": "Consent given on",
            "phone": "Phone for reminders",
        }

    def __init__(self, *args: Any, show_phone: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not show_phone:
            del self.fields["phone"]
            del self.fields["reminders"]
        else:
            self.fields["phone"].widget = forms.TextInput(attrs={"inputmode": "tel"})
        self.fields["birth_year"].widget = forms.Select(choices=_year_choices())

    def clean_birth_year(self) -> int | None:
        year = self.cleaned_data.get("birth_year")
        if year is not None and not (1900 <= year <= timezone.localdate().year):
            raise forms.ValidationError("Give a year between 1900 and this year.")
        return year

    def clean_consent_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["consent_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Consent cannot be given in the future.")
        return day

    def clean_phone(self) -> str:
        return clean_phone_number(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reminders") and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", "Give a number for the reminders, or untick them.")
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Client code from the card",
        max_length=13,
        widget=forms.TextInput(attrs={**_NO_MEMORY, "placeholder": "XXXXX-XXXXX"}),
    )


class MergeForm(forms.Form):
    duplicate = forms.CharField(label="Code of the duplicate record", max_length=13)
    reason = forms.CharField(required=False, max_length=200, label="Why")
    confirm = forms.BooleanField(
        label="I checked that both records are the same person", required=True
    )
