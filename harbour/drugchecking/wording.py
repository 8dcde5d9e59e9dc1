"""Words: a result as the person hears it, and an alert as staff and partners read it.

Plain, short and non-judgemental, with the harm reduction advice that goes with what
was found. No wording here names a person, a site or anything finer than a region.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from harbour.drugchecking import advice as texts
from harbour.drugchecking.advice import Advice
from harbour.drugchecking.models import (
    Alert,
    AlertSettings,
    FindingRole,
    Method,
    Rule,
    Sample,
    StripOutcome,
    Substance,
    SubstanceClass,
)
from harbour.drugchecking.rules import found_in, is_expected

# Found but not the point of the result: listed apart, in smaller words.
BACKGROUND = (SubstanceClass.CUT, SubstanceClass.IMPURITY)


def sentence_case(name: str) -> str:
    """ "Fentanyl", but "p-Fluorofentanyl" would be wrong: leave names like it alone."""
    if len(name) > 1 and name[0].islower() and name[1].isalpha():
        return name[0].upper() + name[1:]
    return name


def join_names(names: Iterable[str], last: str = "and") -> str:
    items = list(dict.fromkeys(names))
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


@dataclass(frozen=True)
class FoundLine:
    name: str
    role: str  # label: main component / trace
    percent: Decimal | None
    method: str  # label
    unexpected: bool
    background: bool


@dataclass
class Explanation:
    expected: str
    lines: list[FoundLine] = field(default_factory=list)
    strips: list[tuple[str, str, str]] = field(default_factory=list)  # target, outcome, code
    pending: bool = False
    nothing_found: bool = False
    advice: list[Advice] = field(default_factory=list)
    summary: str = ""

    @property
    def main(self) -> list[FoundLine]:
        return [line for line in self.lines if not line.background]

    @property
    def background(self) -> list[FoundLine]:
        return [line for line in self.lines if line.background]


def expected_phrase(sample: Sample) -> str:
    names = [s.label for s in sample.expected.all()]
    if names:
        return join_names(names, "or")
    return "something you did not know" if sample.expected_unknown else "not said"


def explain(sample: Sample) -> Explanation:
    """The result as it is given back to the person."""
    expected = list(sample.expected.all())
    result = Explanation(expected=expected_phrase(sample))
    analyses = list(sample.analyses.all())
    if not analyses:
        result.pending = True
        result.summary = "The result is not ready yet."
        return result
    seen: dict[int, FoundLine] = {}
    for f in found_in(sample):
        if f.method == Method.STRIP:
            continue
        s = f.substance
        line = FoundLine(
            name=s.label,
            role=FindingRole(f.role).label,
            percent=f.percent,
            method=Method(f.method).label,
            unexpected=bool(expected or sample.expected_unknown)
            and s.drug_class not in BACKGROUND
            and not is_expected(s, expected),
            background=s.drug_class in BACKGROUND,
        )
        # The main component wins over a trace of the same substance from another method.
        if s.pk not in seen or (line.role != seen[s.pk].role and f.role == FindingRole.PRIMARY):
            seen[s.pk] = line
    result.lines = sorted(seen.values(), key=lambda x: (x.background, x.role != "Main component"))
    for a in analyses:
        if a.method == Method.STRIP:
            result.strips.append(
                (a.get_strip_target_display(), a.get_strip_outcome_display(), a.strip_outcome)
            )
    found = found_in(sample)
    topics = [f.substance.advice for f in found if f.substance.advice]
    result.advice = texts.advice_for(topics)
    if any(line.unexpected for line in result.lines) or any(
        f.method == Method.STRIP and not is_expected(f.substance, expected) and expected
        for f in found
    ):
        result.advice.insert(0, texts.UNEXPECTED)
    main = [line.name for line in result.main]
    positives = [t for t, _, code in result.strips if code == StripOutcome.POSITIVE]
    if not main and not positives:
        result.nothing_found = True
        result.advice.insert(0, texts.NOTHING_FOUND)
    if any(code == StripOutcome.INVALID for _, _, code in result.strips):
        result.advice.append(texts.STRIP_INVALID)
    result.advice.append(texts.GENERAL)
    result.summary = _summary(main, positives, result)
    return result


def _summary(main: list[str], positives: list[str], result: Explanation) -> str:
    parts: list[str] = []
    if main:
        parts.append(f"We found {join_names(main)}.")
    if positives:
        parts.append(f"A test strip showed {join_names(p.lower() for p in positives)}.")
    if not parts:
        parts.append("We found no drug that these methods can detect.")
    if result.expected != "not said":
        parts.append(f"You expected {result.expected}.")
    return " ".join(parts)


def _dates(samples: list[Sample]) -> str:
    """When, as an alert may say it in public: the week, never the day. The day a sample
    was taken, with the region, could point to the one person who brought it in."""
    days = sorted(s.date for s in samples if s.date)
    if not days:
        return ""
    first, last = (d - dt.timedelta(days=d.weekday()) for d in (days[0], days[-1]))
    if first == last:
        return f"in the week of {_day(first)}"
    return f"between the weeks of {_day(first)} and {_day(last)}"


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def alert_text(alert: Alert) -> tuple[str, str]:
    """A draft alert's title and message, from the samples behind it."""
    samples = list(
        Sample.objects.filter(signals__alert=alert).distinct().prefetch_related("expected")
    )
    substance: Substance = alert.substance
    name = substance.label
    where = f"in {alert.region}" if alert.region else "in our area"
    expected = (
        join_names(sorted({e.label for s in samples for e in s.expected.all()}), "or")
        or "drugs whose content people did not know"
    )
    n = len(samples)
    count = f"{n} sample{'s' if n != 1 else ''}"
    when = _dates(samples)
    rule = Rule(alert.rule)
    if rule == Rule.UNEXPECTED:
        title = f"{sentence_case(name)} found in {expected} {where}"
        lead = f"{count} collected {where} {when} held {name}. People expected {expected}."
    elif rule == Rule.NEW_SUBSTANCE:
        title = f"{sentence_case(name)}: new in our drug checking {where}"
        lead = (
            f"{sentence_case(name)} ({substance.get_drug_class_display().lower()}) was found "
            f"for the first time in a sample collected {where} {when}. "
            f"People expected {expected}."
        )
    elif rule == Rule.CONCENTRATION:
        title = f"Unusually strong {name} {where}"
        lead = (
            f"{count} collected {where} {when} held more than "
            f"{substance.alert_percent} % {name}. Doses may be much stronger than usual."
        )
    else:
        days = AlertSettings.get().cluster_days
        dated = sorted(s.date for s in samples if s.date)
        if dated:
            days = (dated[-1] - dated[0]).days + 1
        title = (
            f"{sentence_case(name)}: {count} {where} within {days} day{'s' if days != 1 else ''}"
        )
        lead = (
            f"{count} collected {where} {when} held {name} where people did not expect it, "
            f"or held more of it than usual. People expected {expected}."
        )
    body = [lead, "", "What to do:"]
    for item in texts.advice_for([substance.advice] if substance.advice else []):
        body.extend(f"- {tip}" for tip in item.tips)
    # The general tips repeat some topic tips ("do not use alone"): say each once.
    said = {line[2:].split(".")[0] for line in body if line.startswith("- ")}
    body.extend(f"- {tip}" for tip in texts.GENERAL.tips if tip.split(".")[0] not in said)
    return title[:160], "\n".join(body)
