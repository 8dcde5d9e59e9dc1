from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from harbour.accounts.models import User
from harbour.casework.models import PartnerService, Referral, ServiceKind
from harbour.casework.services import NEEDS_REASON


def _date(**attrs: Any) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **attrs)


class PartnerChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_kind_display().lower()})"


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "—"), *ServiceKind.choices],
        required=False,
        label="Kind of help",
        help_text="Or choose a partner service below: its kind is taken.",
    )
    service = PartnerChoiceField(
        queryset=PartnerService.objects.none(),
        required=False,
        label="Partner service",
        empty_label="—",
    )
    made_on = _date(initial=timezone.localdate, label="Referred on")
    # A fresh id in each form: a double click or a resent form records one referral.
    referral_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["service"]
        field.queryset = PartnerService.objects.filter(active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        service = data.get("service")
        if not data.get("kind"):
            if service is not None:
                data["kind"] = service.kind
            elif "kind" not in self.errors:
                self.add_error("kind", "Choose the kind of help, or a partner service.")
        return data


class ReferralStatusForm(forms.Form):
    """One referral's next step; the buttons carry the status."""

    status = forms.ChoiceField(choices=Referral.Status.choices)
    reason = forms.CharField(
        required=False,
        max_length=200,
        label="Why, if it did not happen",
        help_text="Needed for did not attend, declined or changed their mind, when known: "
        "e.g. no transport, asked for ID, waiting list full.",
    )
    status_on = _date(required=False, label="On", help_text="Leave empty for today.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") in NEEDS_REASON and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why, when known: it shows where people are lost.")
        return data


class AppointmentForm(forms.Form):
    at = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    purpose = forms.CharField(
        required=False,
        max_length=200,
        label="What it is for",
        help_text="For staff only: a reminder gives the date and time, nothing else.",
    )
    referral = forms.ModelChoiceField(
        queryset=Referral.objects.none(),
        required=False,
        label="For the referral",
        empty_label="—",
    )

    def __init__(self, *args: Any, referrals: QuerySet[Referral] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        field: Any = self.fields["referral"]
        if referrals is None:
            del self.fields["referral"]
        else:
            field.queryset = referrals
            field.label_from_instance = lambda r: (
                f"{r.get_kind_display()}{f' · {r.service.name}' if r.service else ''}"
                f" · {r.made_on:%d %b}"
            )


class AttendanceForm(forms.Form):
    attended = forms.TypedChoiceField(
        choices=[("yes", "Came"), ("no", "Did not come")], coerce=lambda v: v == "yes"
    )


class AssignForm(forms.Form):
    case_manager = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Assign to", empty_label="—"
    )

    def __init__(self, *args: Any, candidates: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["case_manager"]
        field.queryset = User.objects.filter(pk__in=[u.pk for u in candidates]).order_by("username")
        field.label_from_instance = lambda u: u.get_full_name() or u.get_username()


class RemindersForm(forms.Form):
    agrees = forms.TypedChoiceField(
        choices=[("yes", "Agrees"), ("no", "Does not agree")], coerce=lambda v: v == "yes"
    )


class PartnerForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PartnerService
        fields = ["name", "kind", "friendly", "address", "phone", "hours", "notes", "active"]
        labels = {
            "kind": "Kind of help",
            "friendly": "Known to welcome people who use drugs",
            "hours": "Opening hours",
            "active": "In use (offered when referring)",
        }
        help_texts = {
            "friendly": "No judgement, no conditions such as stopping drug use first.",
            "notes": "What a person should know: documents to bring, languages, costs.",
        }
        widgets = {
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
