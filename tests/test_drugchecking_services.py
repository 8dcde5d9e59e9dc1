"""Taking in samples, recording results, giving them back, and the life of an alert."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from harbour.audit.models import AuditEvent
from harbour.drugchecking import services
from harbour.drugchecking.dictionary import Lookup, resolve, split_expected
from harbour.drugchecking.models import Alert, AlertStatus, Sample
from harbour.drugchecking.services import DrugCheckingError, FoundIn
from harbour.drugchecking.wording import explain
from tests.factory import Cast, make_client, today


def s(name: str):  # type: ignore[no-untyped-def]
    found = resolve(name)
    assert found is not None, name
    return found


def test_a_sample_needs_no_identity_and_gets_a_number_to_write_on_the_bag(cast: Cast) -> None:
    first, new = services.take_sample(
        cast["outreach"], cast.north, date=today(), expected=[s("heroin")]
    )
    second, _ = services.take_sample(
        cast["outreach"], cast.north, date=today(), expected_unknown=True
    )
    assert new and first.client is None
    assert first.number == f"NTH-01-{today():%y%m%d}-001"
    assert second.number == f"NTH-01-{today():%y%m%d}-002"
    assert first.region == "Region A"  # the site's region unless the person says another
    event = AuditEvent.objects.get(action="sample.taken", object_id=str(first.pk))
    assert event.detail == {"number": first.number, "followed_up": False}


def test_a_double_submit_takes_one_sample(cast: Cast) -> None:
    key = uuid.uuid4()
    a, new_a = services.take_sample(
        None, cast.north, date=today(), expected_unknown=True, sample_id=key
    )
    b, new_b = services.take_sample(
        None, cast.north, date=today(), expected_unknown=True, sample_id=key
    )
    assert (a.pk, new_a, new_b) == (b.pk, True, False)
    assert Sample.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expected_unknown": False}, "expected"),
        ({"expected_unknown": True, "date": today() + dt.timedelta(days=1)}, "date"),
        ({"expected_unknown": True, "form": "gas"}, "form"),
    ],
)
def test_a_sample_with_bad_details_is_refused_naming_the_field(
    cast: Cast, fields: dict, field: str
) -> None:
    with pytest.raises(DrugCheckingError) as error:
        services.take_sample(None, cast.north, **{"date": today(), **fields})
    assert error.value.field == field
    assert Sample.objects.count() == 0


def test_a_result_can_be_followed_up_only_when_the_person_asks(cast: Cast) -> None:
    client = make_client(cast.north)
    sample, _ = services.take_sample(
        cast["staff"], cast.north, date=today(), expected=[s("cocaine")], client=client
    )
    assert sample.client == client
    event = AuditEvent.objects.get(action="sample.taken", object_id=str(sample.pk))
    # The audit log says a person is followed up, not who: no code, no pseudonym.
    assert event.detail == {"number": sample.number, "followed_up": True}


def test_what_people_say_they_expected_is_understood_through_the_dictionary(cast: Cast) -> None:
    lookup = Lookup.load()
    found, unknown, did_not_know = split_expected("Dope, crack; molly / unknown; zorblax", lookup)
    assert [x.name for x in found] == ["heroin", "cocaine", "MDMA"]
    assert unknown == ["zorblax"]
    assert did_not_know
    found, _, _ = split_expected("3,4-MDMA", lookup)
    assert [x.name for x in found] == ["MDMA"]


def test_an_analysis_listing_a_substance_twice_or_over_100_percent_is_refused(cast: Cast) -> None:
    sample, _ = services.take_sample(None, cast.north, date=today(), expected=[s("cocaine")])
    with pytest.raises(DrugCheckingError, match="listed twice"):
        services.record_analysis(
            None, sample, method="ftir", found=[FoundIn(s("cocaine")), FoundIn(s("coke"))]
        )
    with pytest.raises(DrugCheckingError, match="more than 100"):
        services.record_analysis(
            None,
            sample,
            method="ftir",
            found=[
                FoundIn(s("cocaine"), percent=Decimal("80")),
                FoundIn(s("lidocaine"), percent=Decimal("30")),
            ],
        )
    assert not sample.analyses.exists()


def test_the_same_import_key_replaces_an_analysis_instead_of_adding_one(cast: Cast) -> None:
    sample, _ = services.take_sample(None, cast.north, date=today(), expected=[s("cocaine")])
    kwargs = {"method": "lab", "date": today(), "source_key": "lab-7"}
    _, changed = services.record_analysis(None, sample, found=[FoundIn(s("cocaine"))], **kwargs)
    _, again = services.record_analysis(None, sample, found=[FoundIn(s("cocaine"))], **kwargs)
    _, fixed = services.record_analysis(
        None, sample, found=[FoundIn(s("cocaine")), FoundIn(s("levamisole"))], **kwargs
    )
    assert (changed, again, fixed) == (True, False, True)
    assert sample.analyses.count() == 1
    assert sample.analyses.get().findings.count() == 2


def test_the_result_is_given_back_in_plain_words_with_the_advice_that_goes_with_it(
    cast: Cast,
) -> None:
    sample, _ = services.take_sample(None, cast.north, date=today(), expected=[s("heroin")])
    assert explain(sample).pending
    with pytest.raises(DrugCheckingError, match="no result"):
        services.give_back(None, sample)
    services.record_analysis(
        None,
        sample,
        method="ftir",
        found=[FoundIn(s("heroin")), FoundIn(s("fentanyl"), role="trace"), FoundIn(s("mannitol"))],
    )
    result = explain(sample)
    # Cuts are listed apart ("also found"), not in the sentence the person hears first.
    assert result.summary == "We found heroin and fentanyl. You expected heroin."
    assert [(x.name, x.unexpected) for x in result.main] == [("heroin", False), ("fentanyl", True)]
    assert [x.name for x in result.background] == ["mannitol"]
    topics = [a.topic for a in result.advice]
    assert topics[:2] == ["unexpected", "fentanyl"]
    assert topics[-1] == "general"
    services.give_back(cast["staff"], sample)
    assert sample.given_back_at is not None


def test_nothing_found_is_a_result_that_still_says_take_care(cast: Cast) -> None:
    sample, _ = services.take_sample(None, cast.north, date=today(), expected=[s("MDMA")])
    services.record_analysis(None, sample, method="lab", found=[])
    result = explain(sample)
    assert result.nothing_found
    assert result.advice[0].topic == "nothing_found"


def test_an_invalid_strip_says_to_test_again(cast: Cast) -> None:
    sample, _ = services.take_sample(None, cast.north, date=today(), expected=[s("cocaine")])
    services.record_strip(None, sample, target="fentanyl", outcome="invalid")
    assert "strip_invalid" in [a.topic for a in explain(sample).advice]


def draft(cast: Cast) -> Alert:
    sample, _ = services.take_sample(None, cast.north, date=today(), expected=[s("cocaine")])
    services.record_analysis(None, sample, method="lab", found=[FoundIn(s("fentanyl"))])
    return Alert.objects.get()


def test_an_alert_is_sent_updated_and_withdrawn_by_a_reviewer(cast: Cast) -> None:
    reviewer = cast["alert_reviewer"]
    alert = draft(cast)
    with pytest.raises(DrugCheckingError) as error:
        services.publish(reviewer, alert, title=" ", message="x")
    assert error.value.field == "title"
    services.publish(reviewer, alert, title="Fentanyl in cocaine", message="Test your coke.")
    alert.refresh_from_db()
    assert (alert.status, alert.reviewed_by, alert.revision) == (AlertStatus.PUBLISHED, reviewer, 1)
    assert services.active_alerts() == [alert]
    with pytest.raises(DrugCheckingError):
        services.publish(reviewer, alert, title="again", message="again")
    services.revise(reviewer, alert, title="Fentanyl in cocaine", message="Now in two towns.")
    alert.refresh_from_db()
    assert alert.revision == 2
    with pytest.raises(DrugCheckingError) as error:
        services.close(reviewer, alert, reason="")
    assert error.value.field == "reason"
    services.close(reviewer, alert, reason="The batch is gone.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.WITHDRAWN
    assert services.active_alerts() == []
    actions = list(
        AuditEvent.objects.filter(object_id=str(alert.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["alert.published", "alert.updated", "alert.withdrawn"]


def test_a_draft_not_sent_is_dismissed_not_withdrawn(cast: Cast) -> None:
    alert = draft(cast)
    services.close(cast["alert_reviewer"], alert, reason="A lab error.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    with pytest.raises(DrugCheckingError):
        services.revise(cast["alert_reviewer"], alert, title="t", message="m")
