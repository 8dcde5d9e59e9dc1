"""Forms of the drug checking screens: intake, test strips, FTIR or laboratory, a photo.

Names are checked against the substance dictionary here, so a typing error is pointed
out at the field (or the row) where it was made; the services check everything again.
"""

from __future__ import annotations

import difflib
import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone

from harbour.clients.models import YesNoUnknown
from harbour.drugchecking.dictionary import Lookup, split_expected
from harbour.drugchecking.models import (
    FindingRole,
    Method,
    Sample,
    SampleForm,
    StripOutcome,
    StripTarget,
    Substance,
)
from harbour.drugchecking.services import FoundIn
from harbour.sites.models import Site, SiteKind

NOT_SAID = ""  # the region choice "not said"
NOT_DONE = ""  # a strip not used
MAX_COMPONENTS = 8


def _date(**attrs: Any) -> forms.DateField:
    return forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate, **attrs
    )


def _not_future(form: forms.Form, name: str) -> Any:
    day = form.cleaned_data.get(name)
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError("This date is in the future.")
    return day


def _suggest(word: str, lookup: Lookup) -> str:
    close = difflib.get_close_matches(word.lower(), list(lookup.by_name), n=1, cutoff=0.75)
    if not close:
        return ""
    return f" Did you mean {lookup.by_name[close[0]].label}?"


def dictionary_names(lookup: Lookup) -> list[str]:
    """Every name the dictionary knows, for a <datalist>: substances, then other names."""
    names = sorted({s.label for s in lookup.by_name.values()}, key=str.lower)
    known = {n.lower() for n in names}
    others = sorted(n for n in lookup.by_name if n not in known)
    return names + others


def region_choices() -> list[tuple[str, str]]:
    """Regions only: the programme's regions and those already given on samples."""
    regions = set(Site.objects.filter(kind=SiteKind.REGION).values_list("name", flat=True))
    regions |= set(Sample.objects.exclude(region="").values_list("region", flat=True).distinct())
    return [(r, r) for r in sorted(regions, key=str.lower)] + [(NOT_SAID, "Not said")]


class IntakeForm(forms.Form):
    """A sample taken in. No name, no code: the person stays anonymous."""

    expected = forms.CharField(
        label="What the person expected it to be",
        required=False,
        max_length=200,
        help_text="Their words, e.g. heroin. Separate several with “;”.",
        widget=forms.TextInput(
            attrs={"list": "substance-names", "autocomplete": "off", "autofocus": "autofocus"}
        ),
    )
    expected_unknown = forms.BooleanField(label="They did not know what it is", required=False)
    form = forms.ChoiceField(
        label="Form",
        choices=SampleForm.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    colour = forms.CharField(label="Colour", max_length=60, required=False)
    markings = forms.CharField(
        label="Markings or logo",
        max_length=80,
        required=False,
        help_text="For pills and tablets.",
    )
    used_already = forms.ChoiceField(
        label="Has the person already used some of it?",
        choices=YesNoUnknown.choices,
        initial=YesNoUnknown.UNKNOWN,
        widget=forms.RadioSelect,
    )
    effects = forms.CharField(
        label="Unexpected effects",
        max_length=300,
        required=False,
        help_text="What they felt that they did not expect. No names.",
    )
    overdose = forms.ChoiceField(
        label="Involved in an overdose?",
        choices=YesNoUnknown.choices,
        initial=YesNoUnknown.UNKNOWN,
        widget=forms.RadioSelect,
    )
    region = forms.ChoiceField(
        label="Region where it was obtained",
        required=False,
        help_text="A region only — never a seller or an address.",
    )
    date = _date(label="Date taken in")
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None, label="Site")
    photo = forms.FileField(
        label="Photo of the sample",
        required=False,
        help_text="Where and on what phone it was taken is removed.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    # Sent again by a double tap or a retry: the same sample, taken in once.
    sample_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sites: list[Site], lookup: Lookup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lookup = lookup
        self.substances: list[Substance] = []
        self.sites = sites
        site_field = cast(forms.ModelChoiceField, self.fields["site"])  # type: ignore[type-arg]
        site_field.queryset = Site.objects.filter(pk__in=[s.pk for s in sites])
        if len(sites) == 1:
            site_field.widget = forms.HiddenInput()
        cast(forms.ChoiceField, self.fields["region"]).choices = region_choices()

    def clean_date(self) -> Any:
        return _not_future(self, "date")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("expected", "").strip()
        substances, unknown, did_not_know = split_expected(text, self.lookup)
        if unknown:
            words = ", ".join(f"“{w}”" for w in unknown)
            hint = _suggest(unknown[0], self.lookup) if len(unknown) == 1 else ""
            self.add_error(
                "expected",
                f"Not in the substance dictionary: {words}.{hint} Choose a name from the list, "
                "write “other” if it is none of them, or tick that they did not know.",
            )
        elif not text and not data.get("expected_unknown"):
            self.add_error(
                "expected",
                "Say what the person expected it to be, or tick that they did not know.",
            )
        self.substances = substances
        data["expected_unknown"] = bool(data.get("expected_unknown")) or did_not_know
        return data


class StripForm(forms.Form):
    """One or several test strips used on the sample at once."""

    date = _date(label="Date tested")
    # One id per form shown: a second tap on "Record" records each strip once.
    submission = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submission"].initial = uuid.uuid4()
        outcomes = [(NOT_DONE, "Not done"), *StripOutcome.choices]
        for target, label in StripTarget.choices:
            self.fields[target] = forms.ChoiceField(
                label=f"{label} strip",
                choices=outcomes,
                required=False,
                initial=NOT_DONE,
                widget=forms.RadioSelect,
            )

    def clean_date(self) -> Any:
        return _not_future(self, "date")

    def strip_fields(self) -> list[forms.BoundField]:
        return [self[t] for t in StripTarget.values]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.strips_done(data):
            raise forms.ValidationError("Choose a result for at least one strip.")
        return data

    @staticmethod
    def strips_done(data: dict[str, Any]) -> list[tuple[str, str]]:
        return [(t, data[t]) for t in StripTarget.values if data.get(t)]


class AnalysisForm(forms.Form):
    """What FTIR or a laboratory found: the head of the result; the components follow."""

    method = forms.ChoiceField(
        label="Method",
        choices=[(m.value, m.label) for m in (Method.FTIR, Method.LAB, Method.OTHER)],
        initial=Method.FTIR,
        widget=forms.RadioSelect,
    )
    date = _date(label="Date of the result")
    technique = forms.CharField(
        label="Technique",
        max_length=40,
        required=False,
        help_text="E.g. GC-MS, or the FTIR model.",
    )
    nothing_found = forms.BooleanField(
        label="Nothing detected",
        required=False,
        help_text="The method found no substance at all.",
    )

    def clean_date(self) -> Any:
        return _not_future(self, "date")


class ComponentForm(forms.Form):
    """One row: a substance the method found."""

    substance = forms.CharField(
        label="Substance",
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"list": "substance-names", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label="Main or trace", choices=FindingRole.choices, initial=FindingRole.PRIMARY
    )
    percent = forms.DecimalField(
        label="Percent",
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )

    def __init__(self, *args: Any, lookup: Lookup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lookup = lookup
        self.found: Substance | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("substance", "").strip()
        if not name:
            if data.get("percent") is not None:
                self.add_error("substance", "Name the substance this percentage is for.")
            return data
        self.found = self.lookup.find(name)
        if self.found is None:
            self.add_error(
                "substance",
                f"“{name}” is not in the substance dictionary.{_suggest(name, self.lookup)} "
                "Choose a name from the list.",
            )
        return data

    def found_in(self) -> FoundIn | None:
        if self.found is None:
            return None
        data = self.cleaned_data
        return FoundIn(
            substance=self.found,
            role=data["role"],
            percent=data.get("percent"),
            reported_as=data["substance"].strip(),
        )


class BaseComponentFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: dict[int, int] = {}
        for number, form in enumerate(self.forms, start=1):
            found = getattr(form, "found", None)
            if found is None:
                continue
            if found.pk in seen:
                form.add_error(
                    "substance",
                    f"{found.label} is already in row {seen[found.pk]}.",
                )
            else:
                seen[found.pk] = number
        total = sum(
            (f.cleaned_data.get("percent") or Decimal(0))
            for f in self.forms
            if getattr(f, "found", None) is not None
        )
        if total > Decimal(100):
            raise forms.ValidationError("The percentages add up to more than 100.")

    def found(self) -> list[FoundIn]:
        items = (form.found_in() for form in self.forms)
        return [item for item in items if item is not None]


ComponentFormSet = forms.formset_factory(
    ComponentForm,
    formset=BaseComponentFormSet,
    extra=MAX_COMPONENTS,
    max_num=MAX_COMPONENTS,
    absolute_max=MAX_COMPONENTS,
    validate_max=True,
)


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label="Photo of the sample",
        help_text="Where and on what phone it was taken is removed.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
