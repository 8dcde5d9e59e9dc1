"""The substance dictionary: one name for each substance, whatever people or labs call it.

The starting dictionary ships in ``data/substances.json``. ``ensure_dictionary`` adds
what is missing and never overwrites a programme's own edits (a class changed, a
threshold set), so it is safe to run on every migrate, seed and import.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from harbour.drugchecking.models import Substance, SubstanceClass, SubstanceName

DATA = Path(__file__).parent / "data" / "substances.json"

# Starting thresholds for the concentration rule. Purity spikes precede clusters of
# overdoses; each programme adjusts these to what is usual in its own supply.
DEFAULT_ALERT_PERCENT = {"heroin": Decimal("60"), "fentanyl": Decimal("20")}

# Words that say the person did not know what the drug was, not a substance.
UNKNOWN_WORDS = frozenset({"unknown", "other", "not sure", "don't know", "do not know", "?"})


def normalise(name: str) -> str:
    """Compare names without case, surrounding spaces or doubled spaces."""
    return re.sub(r"\s+", " ", name.strip()).lower()


@functools.cache
def load_entries(path: Path = DATA) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return entries


@transaction.atomic
def ensure_dictionary(
    path: Path = DATA, substance_model: Any = Substance, name_model: Any = SubstanceName
) -> int:
    """Add the shipped substances and names that are missing. Returns how many were added.

    The models can be passed in so a data migration uses its historical ones.
    """
    known = {normalise(n): pk for n, pk in substance_model.objects.values_list("name", "pk")}
    taken = set(name_model.objects.values_list("name", flat=True))
    added = 0
    new_names: list[Any] = []
    for entry in load_entries(path):
        key = normalise(entry["name"])
        if key in taken:
            continue  # the programme already uses this word for another substance
        if key not in known:
            substance = substance_model.objects.create(
                name=entry["name"],
                drug_class=entry["class"],
                generic=entry.get("generic", False),
                noteworthy=entry.get("noteworthy", False),
                advice=entry.get("advice") or "",
                alert_percent=DEFAULT_ALERT_PERCENT.get(entry["name"]),
                pubchem_cid=entry.get("pubchem_cid"),
                cas=entry.get("cas") or "",
            )
            known[key] = substance.pk
            added += 1
        for synonym in entry.get("synonyms", []):
            word = normalise(synonym)
            if word in taken or word in known:
                continue
            taken.add(word)
            new_names.append(name_model(name=word, substance_id=known[key]))
    name_model.objects.bulk_create(new_names)
    return added


@dataclass
class Lookup:
    """Resolves names in bulk without a query per name (imports read thousands)."""

    by_name: dict[str, Substance]

    @classmethod
    def load(cls) -> Lookup:
        substances = {s.pk: s for s in Substance.objects.all()}
        by_name = {normalise(s.name): s for s in substances.values()}
        for word, pk in SubstanceName.objects.values_list("name", "substance_id"):
            by_name.setdefault(word, substances[pk])
        return cls(by_name)

    def find(self, name: str) -> Substance | None:
        return self.by_name.get(normalise(name))

    def find_or_add(self, name: str) -> tuple[Substance, bool]:
        """A name nobody knows yet becomes a new, unclassified substance for a person to sort."""
        found = self.find(name)
        if found is not None:
            return found, False
        substance = Substance.objects.create(
            name=name.strip()[:100], drug_class=SubstanceClass.UNCLASSIFIED
        )
        self.by_name[normalise(name)] = substance
        return substance, True


def resolve(name: str) -> Substance | None:
    key = normalise(name)
    found = Substance.objects.filter(name__iexact=key).first()
    if found is None:
        alias = SubstanceName.objects.select_related("substance").filter(name=key).first()
        found = alias.substance if alias else None
    return found


def split_expected(text: str, lookup: Lookup) -> tuple[list[Substance], list[str], bool]:
    """A person's "heroin; fentanyl" as substances, the words not understood, and whether
    they said they did not know.

    Parts are split on semicolons first; a part that is not a known name is split again
    on commas, slashes, "+" and "and" (names like "1,3-diacetin" hold commas).
    """
    substances: list[Substance] = []
    unknown_words: list[str] = []
    did_not_know = False
    words: list[str] = []
    for part in text.split(";"):
        if lookup.find(part) is not None or normalise(part) in UNKNOWN_WORDS:
            words.append(part)
        else:
            words.extend(re.split(r"[,/+]| and ", part))
    for part in words:
        word = normalise(part)
        if not word:
            continue
        if word in UNKNOWN_WORDS:
            did_not_know = True
            continue
        found = lookup.find(word)
        if found is None:
            unknown_words.append(part.strip())
        elif found not in substances:
            substances.append(found)
    return substances, unknown_words, did_not_know
