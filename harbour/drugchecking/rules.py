"""The alert rules: what in a sample's results is worth warning people about.

Four rules, each set in ``AlertSettings`` and the substance dictionary:

- unexpected: a noteworthy substance (fentanyl and its analogues, nitazenes, xylazine,
  novel benzodiazepines, …) in a sample the person did not expect to hold it;
- new substance: a substance no earlier sample of the programme held, once the
  programme has analysed enough samples to know what is usual;
- concentration: a substance above its threshold share of the sample;
- cluster: several samples with the same unexpected or too-strong substance in one
  region within a window of days.

A rule firing leaves a ``Signal`` on the sample. Signals gather into alerts, one open
alert per rule, substance and region; an alert is a draft until a reviewer sends it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from harbour.drugchecking.models import (
    OPEN_STATUSES,
    Alert,
    AlertSettings,
    AlertStatus,
    Finding,
    FindingRole,
    Method,
    Rule,
    Sample,
    Signal,
    StripOutcome,
    Substance,
)

# The family a positive strip shows, as named in the dictionary.
STRIP_SUBSTANCE = {
    "fentanyl": "fentanyl",
    "benzodiazepine": "benzodiazepine (unspecified)",
    "xylazine": "xylazine",
    "nitazene": "nitazene (unspecified)",
}

# Rules whose samples can make a cluster.
CLUSTERING = (Rule.UNEXPECTED, Rule.CONCENTRATION)


@dataclass(frozen=True)
class Found:
    substance: Substance
    role: str  # FindingRole
    percent: Decimal | None
    method: str


def found_in(sample: Sample) -> list[Found]:
    """Everything any method found in the sample, with each positive strip as its family."""
    found: list[Found] = []
    for analysis in sample.analyses.all():
        if analysis.method == Method.STRIP:
            if analysis.strip_outcome == StripOutcome.POSITIVE:
                name = STRIP_SUBSTANCE.get(analysis.strip_target)
                substance = Substance.objects.filter(name=name).first() if name else None
                if substance is not None:
                    found.append(Found(substance, FindingRole.PRIMARY, None, Method.STRIP))
            continue
        for f in analysis.findings.all():
            found.append(Found(f.substance, f.role, f.percent, analysis.method))
    return found


def is_expected(substance: Substance, expected: Iterable[Substance]) -> bool:
    """Expected when named, or when the person (or the strip) named only its family."""
    for e in expected:
        if e.pk == substance.pk:
            return True
        if (e.generic or substance.generic) and e.drug_class == substance.drug_class:
            return True
    return False


@dataclass(frozen=True)
class Hit:
    rule: str
    substance: Substance


def sample_hits(sample: Sample, rules: AlertSettings) -> list[Hit]:
    """The rules one sample fires, before clustering. Pure apart from the history query."""
    expected = list(sample.expected.all())
    hits: dict[tuple[str, int], Hit] = {}
    history: list[bool] = []  # whether the programme has enough history; asked once
    for f in found_in(sample):
        s = f.substance
        if f.role == FindingRole.TRACE and not rules.include_traces:
            continue
        if s.noteworthy and not is_expected(s, expected):
            hits.setdefault((Rule.UNEXPECTED, s.pk), Hit(Rule.UNEXPECTED, s))
        if f.percent is not None and s.alert_percent is not None and f.percent > s.alert_percent:
            hits.setdefault((Rule.CONCENTRATION, s.pk), Hit(Rule.CONCENTRATION, s))
        if (
            not s.generic
            and s.drug_class in rules.new_substance_classes
            and (Rule.NEW_SUBSTANCE, s.pk) not in hits
            and _has_history(sample, rules, history)
            and _first_time(sample, s)
        ):
            hits[(Rule.NEW_SUBSTANCE, s.pk)] = Hit(Rule.NEW_SUBSTANCE, s)
    return list(hits.values())


def _before(sample: Sample) -> Q:
    assert sample.date is not None
    return Q(date__lt=sample.date) | Q(date=sample.date, number__lt=sample.number)


def _has_history(sample: Sample, rules: AlertSettings, memo: list[bool]) -> bool:
    """Whether enough samples were analysed before this one to know what is usual."""
    if sample.date is None:
        return False  # without a date there is no "before"
    if not memo:
        earlier = Sample.objects.filter(_before(sample), analyses__isnull=False).distinct()
        memo.append(earlier.count() >= rules.new_substance_after)
    return memo[0]


def _first_time(sample: Sample, substance: Substance) -> bool:
    """No sample collected before this one held the substance."""
    seen = Finding.objects.filter(
        substance=substance,
        analysis__sample__in=Sample.objects.filter(_before(sample)),
    )
    return not seen.exists()


def evaluate(sample: Sample) -> list[Signal]:
    """Bring the sample's signals and alerts up to date with its results.

    Safe to run again: signals are unique per sample, rule and substance, and a signal
    the results no longer support is removed (its alert keeps what was already sent).
    Call inside a transaction.
    """
    rules = AlertSettings.get()
    hits = sample_hits(sample, rules)
    wanted = {(h.rule, h.substance.pk) for h in hits}
    for stale in sample.signals.exclude(rule=Rule.CLUSTER):
        if (stale.rule, stale.substance_id) not in wanted:
            alert = stale.alert
            stale.delete()
            if alert is not None:
                _refresh(alert)
    signals: list[Signal] = []
    for hit in hits:
        signal, _ = Signal.objects.get_or_create(
            sample=sample, rule=hit.rule, substance=hit.substance
        )
        if signal.alert_id is None:
            _attach(signal, sample)
        signals.append(signal)
    for hit in hits:
        if hit.rule in CLUSTERING:
            signals.extend(_cluster(sample, hit.substance, rules))
    return signals


def _attach(signal: Signal, sample: Sample, rules: AlertSettings | None = None) -> None:
    region = sample.region
    candidates = Alert.objects.filter(
        rule=signal.rule, substance=signal.substance, region=region, status__in=OPEN_STATUSES
    )
    if rules is not None and sample.date is not None:
        # A cluster is a burst: a sample joins an open cluster only within the window of
        # its latest sample; later ones make a new cluster to review.
        since = sample.date - dt.timedelta(days=rules.cluster_days)
        candidates = candidates.filter(signals__sample__date__gte=since).distinct()
    alert = candidates.order_by("created_at").first()
    if alert is None:
        alert = Alert(rule=signal.rule, substance=signal.substance, region=region)
        alert.title, alert.message = "", ""
        alert.save()
    signal.alert = alert
    signal.save(update_fields=["alert"])
    _refresh(alert)


def _cluster(sample: Sample, substance: Substance, rules: AlertSettings) -> list[Signal]:
    if not sample.region or sample.date is None:
        return []
    days = dt.timedelta(days=rules.cluster_days - 1)
    nearby = (
        Sample.objects.filter(
            region=sample.region,
            date__gte=sample.date - days,
            date__lte=sample.date + days,
            signals__substance=substance,
            signals__rule__in=CLUSTERING,
        )
        .distinct()
        .order_by("date", "number")
    )
    members = _window_around(list(nearby), sample, rules)
    if not members:
        return []
    made: list[Signal] = []
    for member in members:
        signal, _ = Signal.objects.get_or_create(
            sample=member, rule=Rule.CLUSTER, substance=substance
        )
        if signal.alert_id is None:
            # A signal already behind a closed alert stays there: that alert's history
            # is what was sent, and running the rules again must not raise it anew.
            _attach(signal, sample, rules)
        made.append(signal)
    return made


def _window_around(samples: list[Sample], sample: Sample, rules: AlertSettings) -> list[Sample]:
    """The samples of the fullest window of ``cluster_days`` that holds ``sample``, if it
    holds at least ``cluster_samples`` of them."""
    best: list[Sample] = []
    span = dt.timedelta(days=rules.cluster_days - 1)
    for start in samples:
        assert start.date is not None and sample.date is not None
        if not (start.date <= sample.date <= start.date + span):
            continue
        window = [s for s in samples if s.date and start.date <= s.date <= start.date + span]
        if len(window) > len(best):
            best = window
    return best if len(best) >= rules.cluster_samples else []


def _refresh(alert: Alert) -> None:
    """Write a draft's words again from its evidence. A sent alert keeps the words its
    reviewer approved; the reviewer updates them when the picture changes."""
    from harbour.drugchecking.wording import alert_text

    photo = (
        Sample.objects.filter(signals__alert=alert, photo__isnull=False).order_by("-date").first()
    )
    fields = ["photo_sample", "updated_at"]
    alert.photo_sample = photo or alert.photo_sample
    if alert.status == AlertStatus.DRAFT:
        alert.title, alert.message = alert_text(alert)
        fields += ["title", "message"]
    alert.save(update_fields=fields)
