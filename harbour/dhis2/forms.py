from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from harbour.dhis2 import figures
from harbour.dhis2.models import Dhis2Server, Mapping, uid_validator
from harbour.lib.periods import FORMS, parse_period


class PeriodForm(forms.Form):
    period = forms.CharField(
        label="Period",
        max_length=16,
        help_text=f"As DHIS2 writes it: {FORMS}.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_period(self) -> str:
        raw = self.cleaned_data["period"]
        try:
            return parse_period(raw).code
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class PushForm(PeriodForm):
    MODES = (("dry_run", "Check with DHIS2 (dry run)"), ("send", "Send to DHIS2"))
    mode = forms.ChoiceField(label="What to do", choices=MODES)


class ServerForm(forms.ModelForm):  # type: ignore[type-arg]
    """The server settings; the password is write-only: never put back into the page."""

    base_url = forms.URLField(
        label="DHIS2 address",
        required=False,
        assume_scheme="https",
        help_text="The address you open DHIS2 at, e.g. https://dhis2.example.org",
    )
    new_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    forget_password = forms.BooleanField(
        label="Forget the saved password",
        required=False,
    )
    org_unit = forms.CharField(
        label="The programme's organisation unit id",
        max_length=11,
        required=False,
        validators=[uid_validator],
        help_text="The DHIS2 org unit that receives the figures of the whole programme. "
        "Each site's own id is set on the site.",
    )

    class Meta:
        model = Dhis2Server
        fields = [
            "base_url",
            "username",
            "data_set",
            "attribute_option_combo",
            "timeout",
            "leave_out_small_counts",
        ]

    def __init__(self, *args: Any, org_unit: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].initial = org_unit
        self.fields["new_password"].help_text = (
            "A password is saved. Leave this blank to keep it."
            if self.instance.has_password
            else "No password is saved yet."
        )
        if not self.instance.has_password:
            del self.fields["forget_password"]
        # Ordered as a person fills them in: where, who, what.
        self.order_fields(
            [
                "base_url",
                "username",
                "new_password",
                "forget_password",
                "data_set",
                "org_unit",
                "attribute_option_combo",
                "timeout",
                "leave_out_small_counts",
            ]
        )

    def clean_base_url(self) -> str:
        url: str = self.cleaned_data["base_url"].strip()
        if not url:
            return url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValidationError("The DHIS2 address starts with https:// (or http://).")
        if parts.username or parts.password:
            raise ValidationError(
                "Put the user name and password in their own fields, not in the address."
            )
        if parts.query or parts.fragment:
            raise ValidationError(
                "Give the address without ? or #: the one DHIS2 opens at, e.g. "
                "https://dhis2.example.org"
            )
        return url.rstrip("/")

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"].strip()
        if ":" in name:
            raise ValidationError("A DHIS2 user name has no colon (:).")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None
        if data.get("forget_password") and data.get("new_password"):
            self.add_error(
                "new_password", "Either give a new password or forget the saved one, not both."
            )
        return data

    def changed(self) -> list[str]:
        """The names of what changed, for the audit log; "password", never its value."""
        names = [
            name
            for name in self.changed_data
            if name not in ("new_password", "forget_password", "org_unit")
        ]
        if self.cleaned_data.get("new_password") or self.cleaned_data.get("forget_password"):
            names.append("password")
        if "org_unit" in self.changed_data:
            names.append("programme_org_unit")
        return names

    def apply(self) -> Dhis2Server:
        """The server with the form's values, not saved yet."""
        server: Dhis2Server = super().save(commit=False)
        if self.cleaned_data.get("forget_password"):
            server.password = ""
        elif self.cleaned_data.get("new_password"):
            server.password = self.cleaned_data["new_password"]
        return server

    @property
    def uses_plain_http(self) -> bool:
        return self.cleaned_data.get("base_url", "").startswith("http://")


def figure_choices() -> list[tuple[str, Any]]:
    """The figures grouped by indicator, for a select with one optgroup per indicator."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for figure in figures.catalogue():
        name = f"{figure.indicator} {figures.INDICATORS[figure.indicator][0]}"
        # The whole label: a closed select shows the option alone, not its group.
        grouped.setdefault(name, []).append((figure.key, figure.label))
    return [("", "Choose a figure"), *grouped.items()]


class MappingForm(forms.ModelForm):  # type: ignore[type-arg]
    figure = forms.ChoiceField(label="Harbour figure")

    class Meta:
        model = Mapping
        fields = ["level", "data_element", "category_option_combo"]
        labels = {"level": "Reported for"}
        widgets = {
            "data_element": forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
            "category_option_combo": forms.TextInput(
                attrs={"spellcheck": "false", "autocomplete": "off", "placeholder": "default"}
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = figure_choices()
        if self.instance.pk:
            current = self.instance.figure_key
            if current not in figures.by_key():
                # A figure since dropped from the definitions stays visible, to be changed.
                choices.append(("Other", [(current, figures.label(*figures.split(current)))]))
            self.fields["figure"].initial = current
        figure_field = self.fields["figure"]
        assert isinstance(figure_field, forms.ChoiceField)
        figure_field.choices = choices
        self.order_fields(["figure", "level", "data_element", "category_option_combo"])

    def save(self, commit: bool = True) -> Mapping:
        mapping: Mapping = super().save(commit=False)
        mapping.indicator, mapping.part, mapping.group = figures.split(self.cleaned_data["figure"])
        if commit:
            mapping.save()
        return mapping


class BaseMappingFormSet(forms.BaseModelFormSet):  # type: ignore[type-arg]
    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this row"

    def get_unique_error_message(self, unique_check: Any) -> str:
        return (
            "Two rows fill the same DHIS2 cell (data element and category option combo): "
            "DHIS2 would keep only one of them."
        )


MappingFormSet = forms.modelformset_factory(
    Mapping,
    form=MappingForm,
    formset=BaseMappingFormSet,
    extra=3,
    can_delete=True,
    max_num=500,
    absolute_max=500,
)
