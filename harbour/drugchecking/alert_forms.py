"""Forms of the alert screens: an alert's words, the reason to close it, the rules'
settings, a substance of the dictionary, and the filters of the lists and the board."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from harbour.drugchecking.dictionary import normalise
from harbour.drugchecking.models import (
    AdviceTopic,
    Substance,
    SubstanceClass,
    SubstanceName,
)


class AlertWordsForm(forms.Form):
    title = forms.CharField(
        max_length=160,
        error_messages={"required": "An alert needs a title."},
        help_text="Short and plain: what was found, and where.",
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": "An alert needs a message."},
        help_text=(
            'Keep the "What to do:" list: one tip a line, each starting with "- ". '
            "Never a sample number, a site, a person, or the day a sample was collected: "
            "the public sees these words."
        ),
    )


class CloseForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why, so others understand the decision."},
        help_text="Seen by staff and, for a withdrawn alert, on its public card.",
    )


class AlertSettingsForm(forms.Form):
    include_traces = forms.BooleanField(
        required=False,
        label="Count substances found only as a trace",
        help_text="A trace of fentanyl or a nitazene can still kill. Leave this on unless "
        "traces raise alerts nobody can act on.",
    )
    new_substance_classes = forms.MultipleChoiceField(
        required=False,
        label="Classes for which a new substance raises an alert",
        choices=[c for c in SubstanceClass.choices if c[0] != SubstanceClass.UNCLASSIFIED],
        widget=forms.CheckboxSelectMultiple,
        help_text="A substance of an unticked class never counts as new (cuts and "
        "impurities come and go).",
    )
    new_substance_after = forms.IntegerField(
        min_value=0,
        max_value=100000,
        label="Samples analysed before a substance can count as new",
        help_text="Until the programme has analysed this many samples, everything would look "
        "new, so the rule waits.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    cluster_samples = forms.IntegerField(
        min_value=2,
        max_value=1000,
        label="Samples that make a cluster",
        help_text="At least 2.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    cluster_days = forms.IntegerField(
        min_value=1,
        max_value=366,
        label="Within this many days",
        help_text="From 1 to 366.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def split_synonyms(text: str) -> list[str]:
    """One a line or comma separated; compared as the dictionary compares names.

    A comma between two digits is part of a chemical name ("1,3-diacetin"), not a
    separator.
    """
    words: list[str] = []
    for part in re.split(r"\n|,(?!\d)|(?<!\d),", text):
        word = normalise(part)
        if word and word not in words:
            words.append(word)
    return words


class SubstanceForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The name Harbour shows, lower-case.")
    drug_class = forms.ChoiceField(
        label="Class", choices=[("", "Choose the class"), *SubstanceClass.choices]
    )
    generic = forms.BooleanField(
        required=False,
        label="A family, not one molecule",
        help_text='For example "benzodiazepine (unspecified)": what a strip or a person names.',
    )
    noteworthy = forms.BooleanField(
        required=False,
        label="Noteworthy",
        help_text="Raise an alert when it is found in a sample not expected to hold it.",
    )
    alert_percent = forms.DecimalField(
        required=False,
        label="Alert above (%)",
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        help_text="Raise an alert when a sample holds more than this share of it. Empty: never.",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    advice = forms.ChoiceField(
        required=False,
        label="Advice topic",
        choices=[("", "None"), *AdviceTopic.choices],
        help_text="The advice given with a result that holds it.",
    )
    pubchem_cid = forms.IntegerField(
        required=False,
        min_value=1,
        label="PubChem CID",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    cas = forms.CharField(
        required=False,
        max_length=20,
        label="CAS number",
        help_text="For example 437-38-7.",
    )
    synonyms = forms.CharField(
        required=False,
        label="Other names",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Street names, brands, a laboratory's spelling: one a line or comma "
        "separated. Imports and the sample form recognise them.",
    )

    def __init__(self, *args: Any, substance: Substance | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.substance = substance

    def _others(self, qs: QuerySet[Any], field: str = "pk") -> QuerySet[Any]:
        """``qs`` without the substance being edited (all of it for a new one)."""
        if self.substance is None:
            return qs
        return qs.exclude(**{field: self.substance.pk})

    def clean_name(self) -> str:
        name: str = re.sub(r"\s+", " ", self.cleaned_data["name"].strip())
        if not name:
            raise forms.ValidationError("Give the substance a name.")
        if self._others(Substance.objects.filter(name__iexact=name)).exists():
            raise forms.ValidationError(f"{name} is already in the dictionary.")
        alias = (
            self._others(SubstanceName.objects.filter(name=normalise(name)), "substance_id")
            .select_related("substance")
            .first()
        )
        if alias is not None:
            raise forms.ValidationError(
                f"{name} is already another name of {alias.substance.name}."
            )
        return name

    def clean_cas(self) -> str:
        cas: str = self.cleaned_data["cas"].strip()
        if cas and not re.fullmatch(r"\d{2,7}-\d{2}-\d", cas):
            raise forms.ValidationError("A CAS number looks like 437-38-7.")
        return cas

    def clean_synonyms(self) -> list[str]:
        words = split_synonyms(self.cleaned_data["synonyms"])
        problems: list[str] = []
        for word in words:
            if len(word) > 120:
                problems.append(f'"{word[:30]}…" is longer than 120 characters.')
                continue
            taken = (
                self._others(SubstanceName.objects.filter(name=word), "substance_id")
                .select_related("substance")
                .first()
            )
            if taken is not None:
                problems.append(f'"{word}" is already a name of {taken.substance.name}.')
                continue
            named = self._others(Substance.objects.filter(name__iexact=word)).first()
            if named is not None:
                problems.append(f'"{word}" is the name of another substance, {named.name}.')
        if problems:
            raise forms.ValidationError(problems)
        return words


class SubstanceFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name or other name", max_length=100)
    drug_class = forms.ChoiceField(
        required=False, label="Class", choices=[("", "Any class"), *SubstanceClass.choices]
    )


class BoardFilterForm(forms.Form):
    region = forms.ChoiceField(required=False, label="Region")
    found = forms.ChoiceField(required=False, label="Substance found")

    def __init__(
        self, *args: Any, regions: list[str], substances: list[Substance], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "All regions"), *[(r, r) for r in regions]]  # type: ignore[attr-defined]
        self.fields["found"].choices = [  # type: ignore[attr-defined]
            ("", "Any substance"),
            *[(str(s.pk), s.label) for s in substances],
        ]
