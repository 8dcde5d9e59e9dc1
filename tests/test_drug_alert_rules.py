"""The drug alert rules, one by one, on samples built by hand.

The same rules are tested on the real North Carolina data in
test_drug_alert_rules_real_data.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from harbour.drugchecking import rules, services
from harbour.drugchecking.dictionary import resolve
from harbour.drugchecking.models import (
    Alert,
    AlertSettings,
    AlertStatus,
    FindingRole,
    Rule,
    Sample,
    Signal,
    Substance,
)
from harbour.drugchecking.services import FoundIn
from harbour.sites.models import Site
from tests.factory import Cast

DAY = dt.date(2026, 10, 1)


def substance(name: str) -> Substance:
    found = resolve(name)
    assert found is not None, name
    return found


def sample(
    site: Site,
    expected: list[str],
    found: list[str] | None = None,
    *,
    traces: list[str] = (),  # type: ignore[assignment]
    percents: dict[str, str] | None = None,
    day: dt.date = DAY,
    region: str = "Harbour County",
    unknown: bool = False,
) -> Sample:
    s, _ = services.take_sample(
        None,
        site,
        date=day,
        expected=[substance(n) for n in expected],
        expected_unknown=unknown,
        region=region,
    )
    if found is not None or traces:
        items = [
            FoundIn(
                substance(n), percent=Decimal(percents[n]) if percents and n in percents else None
            )
            for n in found or []
        ] + [FoundIn(substance(n), role=FindingRole.TRACE) for n in traces]
        services.record_analysis(None, s, method="lab", found=items, date=day)
    return s


def hits(s: Sample, rule: str = Rule.UNEXPECTED) -> set[str]:
    return set(s.signals.filter(rule=rule).values_list("substance__name", flat=True))


@pytest.fixture
def few_history(cast: Cast) -> Cast:
    """Enough analysed samples before DAY that "new to the programme" can apply."""
    rules_ = AlertSettings.get()
    rules_.new_substance_after = 3
    rules_.save()
    for i in range(3):
        sample(cast.north, ["heroin"], ["heroin"], day=DAY - dt.timedelta(days=30 + i))
    return cast


# Unexpected ---------------------------------------------------------------------------


def test_fentanyl_in_what_was_sold_as_heroin_raises_an_alert(cast: Cast) -> None:
    s = sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    assert hits(s) == {"fentanyl"}
    alert = s.signals.get(rule=Rule.UNEXPECTED).alert
    assert alert is not None and alert.status == AlertStatus.DRAFT
    assert alert.title == "Fentanyl found in heroin in Harbour County"
    assert (
        "1 sample collected in Harbour County in the week of 28 September 2026 held fentanyl"
        in alert.message
    )
    assert "naloxone" in alert.message.lower()


def test_a_sample_that_held_only_what_was_expected_raises_nothing(cast: Cast) -> None:
    s = sample(cast.north, ["heroin", "fentanyl"], ["heroin", "fentanyl", "xylazine"])
    assert hits(s) == {"xylazine"}
    quiet = sample(cast.north, ["fentanyl", "xylazine"], ["fentanyl", "xylazine", "4-ANPP"])
    assert not quiet.signals.exists()
    assert Alert.objects.filter(substance__name="fentanyl").count() == 0


def test_cuts_and_impurities_never_raise_the_unexpected_rule(cast: Cast) -> None:
    s = sample(cast.north, ["cocaine"], ["cocaine", "levamisole", "mannitol", "4-ANPP"])
    assert hits(s) == set()


def test_a_trace_counts_unless_the_programme_turns_traces_off(cast: Cast) -> None:
    s = sample(cast.north, ["cocaine"], ["cocaine"], traces=["fentanyl"])
    assert hits(s) == {"fentanyl"}
    settings = AlertSettings.get()
    settings.include_traces = False
    settings.save()
    rules.evaluate(s)
    assert hits(s) == set()


def test_a_person_who_did_not_know_what_it_was_expected_nothing(cast: Cast) -> None:
    s = sample(cast.north, [], ["methamphetamine", "fentanyl"], unknown=True)
    assert hits(s) == {"fentanyl"}


def test_naming_only_the_family_covers_every_member_of_it(cast: Cast) -> None:
    s = sample(cast.north, ["benzodiazepine"], ["bromazolam"])
    assert hits(s) == set()
    t = sample(cast.north, ["heroin"], ["bromazolam"])
    assert hits(t) == {"bromazolam"}


def test_a_fentanyl_analogue_is_not_fentanyl(cast: Cast) -> None:
    s = sample(cast.north, ["fentanyl"], ["fentanyl", "p-fluorofentanyl"])
    assert hits(s) == {"p-fluorofentanyl"}


def test_a_positive_strip_counts_as_the_family_it_tests_for(cast: Cast) -> None:
    s = sample(cast.north, ["cocaine"])
    services.record_strip(None, s, target="fentanyl", outcome="positive", date=DAY)
    services.record_strip(None, s, target="xylazine", outcome="negative", date=DAY)
    services.record_strip(None, s, target="benzodiazepine", outcome="invalid", date=DAY)
    assert hits(s) == {"fentanyl"}
    xanax = sample(cast.north, ["xanax"])
    services.record_strip(None, xanax, target="benzodiazepine", outcome="positive", date=DAY)
    assert hits(xanax) == set()


def test_which_substances_are_noteworthy_is_the_programmes_choice(cast: Cast) -> None:
    caffeine = substance("caffeine")
    caffeine.noteworthy = True
    caffeine.save()
    s = sample(cast.north, ["cocaine"], ["cocaine", "caffeine"])
    assert hits(s) == {"caffeine"}


# Concentration ------------------------------------------------------------------------


def test_a_concentration_above_the_threshold_raises_an_alert_even_when_expected(
    cast: Cast,
) -> None:
    heroin = substance("heroin")
    assert heroin.alert_percent == Decimal("60")
    weak = sample(cast.north, ["heroin"], ["heroin"], percents={"heroin": "60"})
    strong = sample(cast.north, ["heroin"], ["heroin"], percents={"heroin": "72.5"})
    assert hits(weak, Rule.CONCENTRATION) == set()  # at the threshold is not above it
    assert hits(strong, Rule.CONCENTRATION) == {"heroin"}
    alert = strong.signals.get(rule=Rule.CONCENTRATION).alert
    assert alert is not None and alert.title == "Unusually strong heroin in Harbour County"


def test_a_substance_without_a_threshold_never_fires_the_concentration_rule(
    cast: Cast,
) -> None:
    s = sample(cast.north, ["cocaine"], ["cocaine"], percents={"cocaine": "95"})
    assert hits(s, Rule.CONCENTRATION) == set()


# New to the programme -----------------------------------------------------------------


def test_a_substance_no_earlier_sample_held_is_new(few_history: Cast) -> None:
    first = sample(few_history.north, ["ketamine"], ["ketamine"])
    assert hits(first, Rule.NEW_SUBSTANCE) == {"ketamine"}
    again = sample(few_history.north, ["ketamine"], ["ketamine"], day=DAY + dt.timedelta(days=1))
    assert hits(again, Rule.NEW_SUBSTANCE) == set()
    heroin = sample(few_history.north, ["heroin"], ["heroin"])
    assert hits(heroin, Rule.NEW_SUBSTANCE) == set()  # the history already held heroin


def test_nothing_is_new_before_the_programme_has_a_history(cast: Cast) -> None:
    s = sample(cast.north, ["ketamine"], ["ketamine"])
    assert AlertSettings.get().new_substance_after == 50
    assert hits(s, Rule.NEW_SUBSTANCE) == set()


def test_cuts_and_impurities_are_never_new(few_history: Cast) -> None:
    s = sample(few_history.north, ["heroin"], ["heroin", "mannitol", "papaverine"])
    assert hits(s, Rule.NEW_SUBSTANCE) == set()


# Clusters -----------------------------------------------------------------------------


def test_three_unexpected_samples_in_a_region_within_14_days_make_a_cluster(
    cast: Cast,
) -> None:
    a = sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], day=DAY)
    b = sample(cast.south, ["cocaine"], ["cocaine", "fentanyl"], day=DAY + dt.timedelta(6))
    assert Signal.objects.filter(rule=Rule.CLUSTER).count() == 0
    c = sample(cast.north, ["heroin"], ["heroin", "fentanyl"], day=DAY + dt.timedelta(13))
    assert {s.sample_id for s in Signal.objects.filter(rule=Rule.CLUSTER)} == {a.pk, b.pk, c.pk}
    cluster = Alert.objects.get(rule=Rule.CLUSTER)
    assert cluster.title == "Fentanyl: 3 samples in Harbour County within 14 days"
    assert "cocaine or heroin" in cluster.message


def test_samples_further_apart_than_the_window_are_no_cluster(cast: Cast) -> None:
    sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], day=DAY)
    sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], day=DAY + dt.timedelta(7))
    sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], day=DAY + dt.timedelta(14))
    assert not Alert.objects.filter(rule=Rule.CLUSTER).exists()


def test_samples_in_different_regions_are_no_cluster(cast: Cast) -> None:
    for region in ["East", "West", "East"]:
        sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], region=region)
    assert not Alert.objects.filter(rule=Rule.CLUSTER).exists()


def test_the_cluster_size_and_window_are_settings(cast: Cast) -> None:
    settings = AlertSettings.get()
    settings.cluster_samples = 2
    settings.cluster_days = 30
    settings.save()
    sample(cast.north, ["cocaine"], ["cocaine", "xylazine"], day=DAY)
    sample(cast.north, ["cocaine"], ["cocaine", "xylazine"], day=DAY + dt.timedelta(25))
    assert Alert.objects.filter(rule=Rule.CLUSTER, substance__name="xylazine").exists()


def test_a_late_result_for_an_earlier_sample_completes_a_cluster(cast: Cast) -> None:
    """Laboratory results come back weeks later and out of order."""
    sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], day=DAY + dt.timedelta(10))
    sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], day=DAY + dt.timedelta(12))
    late = sample(cast.north, ["cocaine"], ["cocaine", "fentanyl"], day=DAY)
    assert hits(late, Rule.CLUSTER) == {"fentanyl"}


# Alerts gather signals; running again changes nothing ---------------------------------


def test_signals_gather_into_one_open_alert_per_rule_substance_and_region(cast: Cast) -> None:
    for _ in range(2):
        sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    sample(cast.north, ["heroin"], ["heroin", "fentanyl"], region="Elsewhere")
    unexpected = Alert.objects.filter(rule=Rule.UNEXPECTED, substance__name="fentanyl")
    assert sorted(a.signals.count() for a in unexpected) == [1, 2]
    two = unexpected.get(region="Harbour County")
    assert two.title == "Fentanyl found in heroin in Harbour County"
    assert two.message.startswith(
        "2 samples collected in Harbour County in the week of 28 September 2026"
    )


def test_evaluating_again_changes_nothing(cast: Cast) -> None:
    s = sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    before = (Signal.objects.count(), Alert.objects.count())
    rules.evaluate(s)
    rules.evaluate(s)
    assert (Signal.objects.count(), Alert.objects.count()) == before


def test_a_dismissed_alert_is_not_raised_again_for_the_same_samples(cast: Cast) -> None:
    s = sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    alert = Alert.objects.get()
    services.close(None, alert, reason="Known for months; shared last week.")
    rules.evaluate(s)
    assert Alert.objects.count() == 1
    # A new sample is new evidence: it opens a new draft.
    sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    assert Alert.objects.filter(status=AlertStatus.DRAFT).count() == 1


def test_a_corrected_result_takes_back_its_signal_and_rewrites_the_draft(cast: Cast) -> None:
    s = sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    alert = Alert.objects.get()
    assert alert.title.startswith("Fentanyl found in heroin")
    analysis = s.analyses.get()
    analysis.source_key = "lab-1"
    analysis.save()
    services.record_analysis(
        None, s, method="lab", found=[FoundIn(substance("heroin"))], date=DAY, source_key="lab-1"
    )
    assert hits(s) == set()
    alert.refresh_from_db()
    assert alert.signals.count() == 1
    assert alert.message.startswith("1 sample collected")


def test_a_sent_alert_keeps_the_words_its_reviewer_approved(cast: Cast) -> None:
    sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    alert = Alert.objects.get()
    services.publish(
        cast["alert_reviewer"], alert, title="Fentanyl in heroin", message="Take care."
    )
    sample(cast.north, ["heroin"], ["heroin", "fentanyl"])
    alert.refresh_from_db()
    assert (alert.title, alert.message, alert.signals.count()) == (
        "Fentanyl in heroin",
        "Take care.",
        2,
    )
