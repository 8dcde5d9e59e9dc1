from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from harbour.clients.models import YesNoUnknown
from harbour.sites.models import Site, SiteKind
from harbour.visits.models import CatalogueItem, Overdose, SiteSession
from harbour.visits.services import DROPIN_SERVICES, INFO_TOPICS, Line, Services

MAX_QUANTITY = 2000  # more than this in one contact is a typing error


def _qty(label: str, first: bool = False) -> forms.IntegerField:
    attrs = {"inputmode": "numeric", "min": "0", "max": str(MAX_QUANTITY), "class": "qty"}
    if first:
        attrs["autofocus"] = "autofocus"
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs=attrs),
    )


class ContactForm(forms.Form):
    """One contact, every service: equipment first, because that is most contacts."""

    contact_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, site: Site, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.items = list(CatalogueItem.objects.filter(active=True))
        for index, item in enumerate(self.items):
            self.fields[f"qty_{item.code}"] = _qty(item.name, first=index == 0)
            if item.options:
                self.fields[f"option_{item.code}"] = forms.ChoiceField(
                    label=f"{item.name}: size",
                    choices=[(o, o) for o in item.options],
                    required=False,
                )
        for item in self.items:
            self.fields[f"secondary_{item.code}"] = _qty(f"{item.name} for others")
        self.fields["returned_equipment"] = forms.IntegerField(
            label="Used equipment brought back (if offered)",
            required=False,
            min_value=0,
            max_value=100000,
            widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
            help_text="Never a condition for new equipment.",
        )
        self.fields["info_topics"] = forms.MultipleChoiceField(
            label="Information or education given",
            choices=INFO_TOPICS,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["naloxone_training"] = forms.BooleanField(
            label="Naloxone training given", required=False
        )
        self.fields["dropin_services"] = forms.MultipleChoiceField(
            label="Drop-in services used",
            choices=DROPIN_SERVICES,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["referral_note"] = forms.CharField(
            label="Referral note",
            required=False,
            max_length=300,
            help_text="Where the person was referred and why. No names.",
        )
        sessions = SiteSession.objects.filter(site=site, active=True)
        self.fields["session"] = forms.ModelChoiceField(
            sessions, required=False, empty_label="No particular session", label="Session"
        )
        self.fields["date"] = forms.DateField(
            initial=timezone.localdate,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text="Today, unless you are entering an earlier contact.",
        )
        if site.kind == SiteKind.DCR:
            self.fields["dcr_started"] = forms.TimeField(
                label="Consumption session started",
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
            self.fields["dcr_ended"] = forms.TimeField(
                label="Ended", required=False, widget=forms.TimeInput(attrs={"type": "time"})
            )
            self.fields["dcr_overdose"] = forms.BooleanField(
                label="Overdose during the session", required=False
            )
            self.fields["dcr_response"] = forms.CharField(
                label="Response (oxygen, naloxone, ambulance…)", required=False, max_length=200
            )

    # -- groups for the template ---------------------------------------------
    def equipment_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "item": item,
                "qty": self[f"qty_{item.code}"],
                "option": self[f"option_{item.code}"] if item.options else None,
            }
            for item in self.items
        ]

    def secondary_fields(self) -> list[Any]:
        return [self[f"secondary_{item.code}"] for item in self.items]

    def dcr_fields(self) -> list[Any]:
        names = ["dcr_started", "dcr_ended", "dcr_overdose", "dcr_response"]
        return [self[n] for n in names if n in self.fields]

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError("A contact cannot be in the future.")
        if day < timezone.localdate() - dt.timedelta(days=365):
            raise forms.ValidationError("More than a year ago: use an import for old records.")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("dcr_ended") and not data.get("dcr_started"):
            self.add_error("dcr_started", "Give the start time when you give an end time.")
        if (
            data.get("dcr_started")
            and data.get("dcr_ended")
            and data["dcr_ended"] < data["dcr_started"]
        ):
            self.add_error("dcr_ended", "The session cannot end before it started.")
        return data

    def lines(self) -> list[Line]:
        data = self.cleaned_data
        out = []
        for item in self.items:
            option = data.get(f"option_{item.code}", "") or ""
            own = data.get(f"qty_{item.code}") or 0
            others = data.get(f"secondary_{item.code}") or 0
            if own:
                out.append(Line(item, own, option))
            if others:
                out.append(Line(item, others, option, secondary=True))
        return out

    def services(self) -> Services:
        data = self.cleaned_data
        consumption = None
        if data.get("dcr_started"):
            consumption = {
                "started": data["dcr_started"],
                "ended": data.get("dcr_ended"),
                "overdose": bool(data.get("dcr_overdose")),
                "response": data.get("dcr_response", ""),
            }
        return Services(
            session=data.get("session"),
            returned_equipment=data.get("returned_equipment"),
            info_topics=list(data.get("info_topics") or []),
            naloxone_training=bool(data.get("naloxone_training")),
            dropin_services=list(data.get("dropin_services") or []),
            referral_note=data.get("referral_note", ""),
            consumption=consumption,
        )


class OverdoseForm(forms.Form):
    overdose_id = forms.UUIDField(widget=forms.HiddenInput)
    date = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.ChoiceField(choices=Overdose.Source.choices, label="How we know")
    client_code = forms.CharField(
        label="Client code, if the person is registered",
        required=False,
        max_length=13,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "XXXXX-XXXXX"}),
    )
    naloxone_doses = forms.IntegerField(
        label="Naloxone doses given",
        min_value=0,
        max_value=50,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
    )
    outcome = forms.ChoiceField(choices=Overdose.Outcome.choices)
    ems_called = forms.ChoiceField(choices=YesNoUnknown.choices, label="Ambulance called")

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError("An overdose cannot be reported for a future date.")
        return day
