from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from harbour.clients.models import Client, Gender, YesNoUnknown
from harbour.clients.uic import Scheme, UICError
from harbour.sites.models import Site
from harbour.visits.models import CatalogueItem, Overdose
from harbour.visits.services import DROPIN_SERVICES, INFO_TOPICS


class SiteSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    # The metaclass moves declared fields aside, so this does not shadow Field.parent.
    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent.code", read_only=True, default=None
    )

    class Meta:
        model = Site
        fields = ["code", "name", "kind", "parent", "dhis2_org_unit"]


class ClientSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    site = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "code",
            "gender",
            "birth_year",
            "injects",
            "opioid_dependent",
            "site",
            "registered_on",
            "consent_on",
        ]
        read_only_fields = fields


class UICField(serializers.DictField):
    """UIC components by key, e.g. {"mother": "AN", "father": "JO", ...}. Never echoed."""

    child = serializers.CharField(allow_blank=True)

    def to_internal_value(self, data: Any) -> list[str]:  # type: ignore[override]
        values = super().to_internal_value(data)
        scheme: Scheme = self.context["scheme"]
        unknown = set(values) - {c.key for c in scheme.components}
        if unknown:
            raise serializers.ValidationError(
                f"Unknown component(s): {', '.join(sorted(unknown))}."
            )
        try:
            return scheme.parts(values)
        except UICError as exc:
            raise serializers.ValidationError({exc.component: exc.message}) from None


class SiteCodeField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", queryset=Site.objects.filter(active=True), **kwargs)


class LookupSerializer(serializers.Serializer):  # type: ignore[type-arg]
    site = SiteCodeField(help_text="Code of the site where the person is now.")
    uic = UICField()


class RegisterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(required=False, help_text="Chosen by the device, for safe retries.")
    site = SiteCodeField()
    uic = UICField()
    gender = serializers.ChoiceField(choices=Gender.choices, default=Gender.UNKNOWN)
    birth_year = serializers.IntegerField(
        min_value=1900, max_value=2100, required=False, allow_null=True
    )
    injects = serializers.ChoiceField(choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN)
    opioid_dependent = serializers.ChoiceField(
        choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    consent = serializers.BooleanField(
        help_text="Consent to data storage. Without it, record an anonymous contact instead."
    )

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                "Registration needs the person's consent; record an anonymous contact instead."
            )
        return value


class ClientUpdateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    birth_year = serializers.IntegerField(
        min_value=1900, max_value=2100, required=False, allow_null=True
    )
    injects = serializers.ChoiceField(choices=YesNoUnknown.choices, required=False)
    opioid_dependent = serializers.ChoiceField(choices=YesNoUnknown.choices, required=False)


class LookupResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    client = ClientSerializer(allow_null=True)
    possible_duplicates = serializers.ListField(child=serializers.CharField())


def not_in_future(value: dt.date) -> dt.date:
    if value > timezone.localdate():
        raise serializers.ValidationError("Cannot be in the future.")
    return value


class DistributionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    item = serializers.SlugRelatedField(
        slug_field="code", queryset=CatalogueItem.objects.filter(active=True)
    )
    quantity = serializers.IntegerField(min_value=1, max_value=2000)
    option = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    secondary = serializers.BooleanField(default=False, help_text="Taken to pass on to others.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        options = data["item"].options
        if data.get("option") and data["option"] not in options:
            raise serializers.ValidationError(
                {"option": f"One of: {', '.join(options) or 'none'}."}
            )
        return data


class ConsumptionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    started = serializers.TimeField()
    ended = serializers.TimeField(required=False, allow_null=True)
    overdose = serializers.BooleanField(default=False)
    response = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ContactSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(required=False)
    site = SiteCodeField()
    date = serializers.DateField(required=False)
    client = serializers.UUIDField(required=False, allow_null=True, help_text="Empty: anonymous.")
    distributions = DistributionSerializer(many=True, required=False)
    returned_equipment = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    info_topics = serializers.ListField(
        child=serializers.ChoiceField(choices=INFO_TOPICS), required=False
    )
    naloxone_training = serializers.BooleanField(default=False)
    dropin_services = serializers.ListField(
        child=serializers.ChoiceField(choices=DROPIN_SERVICES), required=False
    )
    referral_note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    consumption = ConsumptionSerializer(required=False, allow_null=True)

    def validate_date(self, value: dt.date) -> dt.date:
        return not_in_future(value)


class OverdoseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(required=False)
    site = SiteCodeField()
    date = serializers.DateField()
    client = serializers.UUIDField(required=False, allow_null=True)
    # Declared fields are moved aside by the metaclass: no clash with Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=Overdose.Source.choices, default="staff"
    )
    naloxone_doses = serializers.IntegerField(min_value=0, max_value=50, default=0)
    outcome = serializers.ChoiceField(choices=Overdose.Outcome.choices, default="unknown")
    ems_called = serializers.ChoiceField(choices=YesNoUnknown.choices, default="unknown")

    def validate_date(self, value: dt.date) -> dt.date:
        return not_in_future(value)


class OverdoseOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    site = serializers.CharField(source="site.code")
    date = serializers.DateField()
    outcome = serializers.CharField()


class ContactOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    site = serializers.CharField(source="site.code")
    date = serializers.DateField()
    client = serializers.CharField(source="client.code", allow_null=True, default=None)
    distributions = serializers.SerializerMethodField()

    def get_distributions(self, contact: Any) -> list[dict[str, Any]]:
        return [
            {
                "item": d.item.code,
                "quantity": d.quantity,
                "option": d.option,
                "secondary": d.secondary,
            }
            for d in contact.distributions.select_related("item")
        ]
