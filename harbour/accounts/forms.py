from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.db.models import Q
from django.forms import formset_factory

from harbour.accounts.models import Membership, Role, User
from harbour.sites.models import Site


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("The code is 6 digits.")
        return token


class UserForm(forms.ModelForm):  # type: ignore[type-arg]
    password = forms.CharField(
        label="New password",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters. Leave empty to keep the current password.",
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active"]
        help_texts = {"is_active": "Untick to stop this person signing in; their history is kept."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["password"].required = True
            self.fields["password"].help_text = "At least 12 characters."

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if password:
            password_validation.validate_password(password, self.instance)
        return password

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


class MembershipForm(forms.Form):
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)
    site = forms.ModelChoiceField(
        queryset=Site.objects.filter(active=True),
        required=False,
        empty_label="Whole programme",
    )


MembershipFormSet = formset_factory(MembershipForm, extra=2)


def memberships_initial(user: User) -> list[dict[str, Any]]:
    return [{"role": m.role, "site": m.site} for m in user.memberships.all()] if user.pk else []


def save_memberships(user: User, formset: Any) -> list[str]:
    wanted: set[tuple[str, int | None]] = set()
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("role"):
            site = data.get("site")
            wanted.add((data["role"], site.pk if site else None))
    current: set[tuple[str, int | None]] = set(
        Membership.objects.filter(user=user).values_list("role", "site_id")
    )
    for role, site_id in current - wanted:
        site_match = Q(site__isnull=True) if site_id is None else Q(site_id=site_id)
        Membership.objects.filter(site_match, user=user, role=role).delete()
    for role, site_id in wanted - current:
        Membership.objects.create(user=user, role=role, site_id=site_id)
    return sorted(f"{role}@{where or 'all'}" for role, where in wanted)
