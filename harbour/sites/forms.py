from __future__ import annotations

from typing import Any

from django import forms

from harbour.sites.models import Site, SiteKind


class SiteForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Site
        fields = ["code", "name", "kind", "parent", "dhis2_org_unit", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parents = Site.objects.all()
        if self.instance.pk:
            below = {self.instance.pk}
            from harbour.sites.models import descendants_map

            below |= descendants_map().get(self.instance.pk, set())
            parents = parents.exclude(pk__in=below)
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        self.fields["parent"].empty_label = "None (top level)"  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", "Choose a kind"), *SiteKind.choices]  # type: ignore[attr-defined]
