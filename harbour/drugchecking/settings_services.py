"""Changing how alerts are raised: the rules' settings and the substance dictionary.

Both decide what a reviewer is asked to send, so each change is audited with what
changed (never anything about a person: these are settings and chemistry).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from harbour.audit.services import record
from harbour.drugchecking.dictionary import normalise
from harbour.drugchecking.models import (
    AdviceTopic,
    AlertSettings,
    Substance,
    SubstanceClass,
    SubstanceName,
)
from harbour.drugchecking.services import DrugCheckingError


def _plain(value: Any) -> Any:
    """A value the audit log's JSON keeps as it was shown."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))  # 20 and 20.00 are the same threshold
    if isinstance(value, (list, tuple)):
        return sorted(str(v) for v in value)
    return value


@transaction.atomic
def update_alert_settings(
    actor: Any,
    *,
    include_traces: bool,
    new_substance_classes: Sequence[str],
    new_substance_after: int,
    cluster_samples: int,
    cluster_days: int,
) -> AlertSettings:
    """Change how the rules decide. Returns the settings; audits what changed."""
    classes = [c for c in SubstanceClass.values if c in set(new_substance_classes)]
    unknown = set(new_substance_classes) - set(SubstanceClass.values)
    if unknown:
        raise DrugCheckingError("Choose classes from the list.", "new_substance_classes")
    if new_substance_after < 0:
        raise DrugCheckingError("A number of samples is 0 or more.", "new_substance_after")
    if cluster_samples < 2:
        raise DrugCheckingError("A cluster is at least 2 samples.", "cluster_samples")
    if not 1 <= cluster_days <= 366:
        raise DrugCheckingError("Choose from 1 to 366 days.", "cluster_days")
    AlertSettings.get()  # the row exists before it is locked
    # Two reviewers saving at once: the second one's change is compared to the first's.
    row = AlertSettings.objects.select_for_update().get(pk=1)
    wanted = {
        "include_traces": include_traces,
        "new_substance_classes": classes,
        "new_substance_after": new_substance_after,
        "cluster_samples": cluster_samples,
        "cluster_days": cluster_days,
    }
    changed = {
        field: {"from": _plain(getattr(row, field)), "to": _plain(value)}
        for field, value in wanted.items()
        if _plain(getattr(row, field)) != _plain(value)
    }
    if not changed:
        return row
    for field, value in wanted.items():
        setattr(row, field, value)
    row.save()
    record(actor, "alert.rules_changed", row, detail={"changed": changed})
    return row


SUBSTANCE_FIELDS = (
    "name",
    "drug_class",
    "generic",
    "noteworthy",
    "alert_percent",
    "advice",
    "pubchem_cid",
    "cas",
)


@transaction.atomic
def save_substance(
    actor: Any,
    substance: Substance | None,
    *,
    name: str,
    drug_class: str,
    generic: bool = False,
    noteworthy: bool = False,
    alert_percent: Decimal | None = None,
    advice: str = "",
    pubchem_cid: int | None = None,
    cas: str = "",
    synonyms: Sequence[str] = (),
) -> Substance:
    """Add a substance to the dictionary (``substance`` None) or change one, with the
    other names it goes by. A name another substance already uses is refused, naming it."""
    name = " ".join(name.split())
    if not name:
        raise DrugCheckingError("Give the substance a name.", "name")
    if drug_class not in SubstanceClass.values:
        raise DrugCheckingError("Choose the class.", "drug_class")
    if advice and advice not in AdviceTopic.values:
        raise DrugCheckingError("Choose an advice topic from the list.", "advice")
    if alert_percent is not None and not Decimal(0) <= alert_percent <= Decimal(100):
        raise DrugCheckingError("A percentage is between 0 and 100.", "alert_percent")

    def others(qs: QuerySet[Any], field: str = "pk") -> QuerySet[Any]:
        return qs if substance is None else qs.exclude(**{field: substance.pk})

    clash = others(Substance.objects.filter(name__iexact=name)).first()
    if clash is not None:
        raise DrugCheckingError(f"{clash.name} is already in the dictionary.", "name")
    words = list(dict.fromkeys(normalise(w) for w in synonyms if normalise(w)))
    words = [w for w in words if w != normalise(name)]  # its own name needs no alias
    for word in words:
        taken = others(SubstanceName.objects.filter(name=word), "substance_id").first()
        if taken is not None:
            raise DrugCheckingError(
                f'"{word}" is already a name of {taken.substance.name}.', "synonyms"
            )
        if others(Substance.objects.filter(name__iexact=word)).exists():
            raise DrugCheckingError(f'"{word}" is the name of another substance.', "synonyms")

    values = {
        "name": name,
        "drug_class": drug_class,
        "generic": generic,
        "noteworthy": noteworthy,
        "alert_percent": alert_percent,
        "advice": advice,
        "pubchem_cid": pubchem_cid,
        "cas": cas.strip(),
    }
    if substance is None:
        substance = Substance(**values)
        changed = {f: _plain(v) for f, v in values.items() if v not in (None, "", False)}
        action = "substance.added"
    else:
        substance = Substance.objects.select_for_update().get(pk=substance.pk)
        changed = {
            f: {"from": _plain(getattr(substance, f)), "to": _plain(v)}
            for f, v in values.items()
            if _plain(getattr(substance, f)) != _plain(v)
        }
        for field, value in values.items():
            setattr(substance, field, value)
        action = "substance.changed"
    try:
        with transaction.atomic():
            substance.save()
    except IntegrityError as error:  # another reviewer saved the same name just now
        raise DrugCheckingError(f"{name} is already in the dictionary.", "name") from error

    before = set(substance.names.values_list("name", flat=True))
    added, removed = sorted(set(words) - before), sorted(before - set(words))
    if removed:
        substance.names.filter(name__in=removed).delete()
    try:
        with transaction.atomic():
            SubstanceName.objects.bulk_create(
                SubstanceName(name=w, substance=substance) for w in added
            )
    except IntegrityError as error:
        raise DrugCheckingError(
            "One of these names was just given to another substance; try again.", "synonyms"
        ) from error
    if added:
        changed["names_added"] = added
    if removed:
        changed["names_removed"] = removed
    if changed or action == "substance.added":
        record(actor, action, substance, detail={"changed": changed})
    return substance
