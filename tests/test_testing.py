"""Voluntary testing, confirmation, the due list, treatment, viral loads and support.

Everything goes through the screens, as the people at the site would use them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from harbour.audit.models import AuditEvent
from harbour.clients.models import Client
from harbour.sites.models import Site
from harbour.testing import models
from tests.factory import Cast, login, make_client

_people = itertools.count()


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


def new_person(site: Site) -> Client:
    n = next(_people)
    return make_client(site, mother=chr(65 + n // 26 % 26) + chr(65 + n % 26), father="TT")


def page(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def body(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "test": "hiv",
        "kind": "rapid",
        "date": today().isoformat(),
        "result": "negative",
        "consent": "on",
        "counselling": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def record(http: HttpClient, person: Client, **fields: Any) -> Any:
    return http.post(f"/testing/client/{person.pk}/test/", body(**fields))


def treatment_form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "condition": "hiv",
        "start_date": today().isoformat(),
        "where": "on_site",
        "partner": "",
    }
    data.update(fields)
    return data


def lists(http: HttpClient) -> str:
    response = http.get("/testing/")
    assert response.status_code == 200
    return page(response)


def section(text: str, heading: str) -> str:
    """The part of the lists page under one heading."""
    return text.split(heading, 1)[1].split("</section>", 1)[0]


@pytest.fixture
def person(cast: Cast) -> Client:
    return new_person(cast.north)


@pytest.fixture
def outreach(cast: Cast) -> HttpClient:
    return login(cast["outreach"])


@pytest.fixture
def clinician(cast: Cast) -> HttpClient:
    return login(cast["clinician"])


# -- recording a test: the 5 Cs ----------------------------------------------------


def test_a_peer_records_a_rapid_hiv_test_with_consent_and_counselling(
    cast: Cast, person: Client, outreach: HttpClient
) -> None:
    response = record(outreach, person)
    assert response.status_code == 302
    assert response["Location"] == f"/testing/client/{person.pk}/#main"
    t = models.Test.objects.get(client=person)
    assert (t.test, t.kind, t.result, t.consent, t.counselling) == (
        "hiv",
        "rapid",
        "negative",
        True,
        True,
    )
    assert t.site == cast.north and t.created_by == cast["outreach"]
    assert not t.needs_confirmation
    event = AuditEvent.objects.get(action="test.create")
    assert event.detail == {"client": person.code, "test": "hiv", "result": "negative"}


def test_a_reactive_rapid_hiv_test_is_marked_as_needing_confirmation(
    person: Client, outreach: HttpClient
) -> None:
    response = record(outreach, person, result="positive")
    assert models.Test.objects.get(client=person).needs_confirmation
    text = page(outreach.get(response["Location"]))
    assert "It needs a confirmatory test (HIV)." in text
    assert "needs confirmation</span>" in text
    assert "Needs confirmation:</strong> HIV rapid test of" in text
    awaiting = section(lists(outreach), "Awaiting confirmation")
    assert person.code in awaiting


def test_a_laboratory_hiv_confirmation_linked_to_it_clears_the_flag(
    person: Client, outreach: HttpClient
) -> None:
    record(outreach, person, result="positive")
    screening = models.Test.objects.get(client=person)
    # The choice of the test to confirm appears only while one awaits confirmation.
    form = outreach.get(f"/testing/client/{person.pk}/").context["test_form"]
    assert list(form.fields["confirms"].queryset) == [screening]

    # The peer records the laboratory's answer, linked to the screening test.
    http = outreach
    response = record(http, person, kind="laboratory", result="positive", confirms=screening.pk)
    assert response.status_code == 302
    screening.refresh_from_db()
    confirmation = models.Test.objects.get(confirms=screening)
    assert not screening.needs_confirmation and not confirmation.needs_confirmation
    text = page(http.get(f"/testing/client/{person.pk}/"))
    assert "Needs confirmation" not in text and "needs confirmation</span>" not in text
    assert "confirms the rapid test of" in text
    assert person.code not in section(lists(http), "Awaiting confirmation")
    assert "confirms" not in http.get(f"/testing/client/{person.pk}/").context["test_form"].fields


def test_a_reactive_hcv_antibody_is_confirmed_by_an_rna_test_not_by_another_antibody_test(
    person: Client, outreach: HttpClient
) -> None:
    record(outreach, person, test="hcv_antibody", result="positive")
    antibody = models.Test.objects.get(client=person)
    assert antibody.needs_confirmation

    response = record(
        outreach, person, test="hcv_antibody", kind="laboratory", confirms=antibody.pk
    )
    assert response.status_code == 422
    assert response.context["test_form"].errors["test"] == [
        "A reactive Hepatitis C antibody test is confirmed by the Hepatitis C RNA test, "
        "not by this one."
    ]
    assert models.Test.objects.filter(client=person).count() == 1

    response = record(outreach, person, test="hcv_rna", kind="laboratory", confirms=antibody.pk)
    assert response.status_code == 302
    antibody.refresh_from_db()
    assert not antibody.needs_confirmation


def test_a_laboratory_hcv_antibody_reactive_also_needs_an_rna_test(
    person: Client, outreach: HttpClient
) -> None:
    """Antibodies show past exposure; only RNA shows a current infection."""
    record(outreach, person, test="hcv_antibody", kind="laboratory", result="positive")
    assert models.Test.objects.get(client=person).needs_confirmation
    assert "Hepatitis C RNA" in section(lists(outreach), "Awaiting confirmation")


def test_no_test_is_recorded_without_the_persons_consent(
    person: Client, outreach: HttpClient
) -> None:
    response = record(outreach, person, consent=None)
    assert response.status_code == 422
    assert response.context["test_form"].errors["consent"] == [
        "A test is only done with the person's consent."
    ]
    assert "A test is only done with the person&#x27;s consent." in page(response)
    assert not models.Test.objects.exists()
    assert not AuditEvent.objects.filter(action="test.create").exists()


def test_a_rapid_test_has_its_result_at_once(person: Client, outreach: HttpClient) -> None:
    response = record(outreach, person, result="")
    assert response.status_code == 422
    assert response.context["test_form"].errors["result"] == [
        "A rapid or self-test has its result at once."
    ]
    assert not models.Test.objects.exists()


def test_a_test_in_the_future_is_refused(person: Client, outreach: HttpClient) -> None:
    tomorrow = today() + dt.timedelta(days=1)
    response = record(outreach, person, date=tomorrow.isoformat())
    assert response.status_code == 422
    assert response.context["test_form"].errors["date"] == ["This date is in the future."]


def test_a_laboratory_test_without_a_result_is_awaited_and_its_result_entered_later(
    person: Client, outreach: HttpClient
) -> None:
    record(outreach, person, kind="laboratory", result="")
    t = models.Test.objects.get(client=person)
    assert t.result == ""
    text = page(outreach.get(f"/testing/client/{person.pk}/"))
    assert "result awaited" in text and "Enter result" in text

    response = outreach.post(f"/testing/tests/{t.pk}/result/", {"result": "negative"})
    assert response.status_code == 302
    t.refresh_from_db()
    assert t.result == "negative"
    assert AuditEvent.objects.get(action="test.result").detail["result"] == "negative"
    assert "Enter result" not in page(outreach.get(f"/testing/client/{person.pk}/"))

    again = outreach.post(f"/testing/tests/{t.pk}/result/", {"result": "positive"})
    assert again.status_code == 422
    assert "This test already has a result." in page(again)
    t.refresh_from_db()
    assert t.result == "negative"


def test_a_result_must_be_chosen(person: Client, outreach: HttpClient) -> None:
    record(outreach, person, kind="laboratory", result="")
    t = models.Test.objects.get(client=person)
    response = outreach.post(f"/testing/tests/{t.pk}/result/", {"result": "unclear"})
    assert response.status_code == 422
    assert "result" in response.context["tests"][0].result_form.errors
    t.refresh_from_db()
    assert t.result == ""


def test_a_positive_tb_symptom_screen_asks_for_a_referral(
    cast: Cast, person: Client, outreach: HttpClient
) -> None:
    response = record(outreach, person, test="tb_screen", result="positive")
    t = models.Test.objects.get(client=person)
    # Not "awaiting confirmation": a symptom screen is referred, not screened again.
    assert not t.needs_confirmation
    text = page(outreach.get(response["Location"]))
    assert "Refer the person for a confirmatory test." in text
    assert "Refer for a confirmatory test:</strong> TB symptom screen positive" in text
    # Once TB treatment starts, the referral has done its work.
    http = login(cast["clinician"])
    http.post(f"/testing/client/{person.pk}/treatment/", treatment_form(condition="tb"))
    assert "Refer for a confirmatory test" not in page(http.get(response["Location"]))


def test_the_same_test_sent_twice_is_recorded_once(person: Client, outreach: HttpClient) -> None:
    test_id = str(uuid.uuid4())
    assert record(outreach, person, test_id=test_id).status_code == 302
    assert record(outreach, person, test_id=test_id).status_code == 302
    assert models.Test.objects.filter(client=person).count() == 1


# -- due for a test: offered, never forced ------------------------------------------


def test_a_person_whose_last_negative_hiv_test_is_200_days_old_is_due_for_a_test(
    cast: Cast, outreach: HttpClient
) -> None:
    due, recent, positive = new_person(cast.north), new_person(cast.north), new_person(cast.north)
    record(outreach, due, date=days_ago(200).isoformat())
    record(outreach, recent, date=days_ago(300).isoformat())
    record(outreach, recent, date=days_ago(30).isoformat())
    record(outreach, positive, date=days_ago(400).isoformat())
    record(outreach, positive, date=days_ago(300).isoformat(), result="positive")

    text = section(lists(outreach), "Due for a test")
    assert due.code in text and days_ago(200).strftime("%-d %b %Y") in text
    assert recent.code not in text
    assert positive.code not in text
    assert "Offer a test" in text and "they may say no" in text


def test_the_interval_before_a_new_test_is_offered_is_configurable(
    cast: Cast, person: Client, outreach: HttpClient, settings: Any
) -> None:
    record(outreach, person, test="hcv_antibody", date=days_ago(45).isoformat())
    assert person.code not in section(lists(outreach), "Due for a test")
    settings.RETEST_INTERVAL_DAYS = 30
    text = section(lists(outreach), "Due for a test")
    assert person.code in text and "Hepatitis C antibody" in text and "30 days ago" in text


def test_a_reactive_screen_that_the_laboratory_found_negative_leaves_the_person_on_the_due_list(
    person: Client, outreach: HttpClient
) -> None:
    record(outreach, person, date=days_ago(220).isoformat(), result="positive")
    screening = models.Test.objects.get(client=person)
    record(
        outreach,
        person,
        date=days_ago(210).isoformat(),
        kind="laboratory",
        result="negative",
        confirms=screening.pk,
    )
    assert person.code in section(lists(outreach), "Due for a test")


def test_a_laboratory_test_taken_recently_takes_the_person_off_the_due_list(
    person: Client, outreach: HttpClient
) -> None:
    record(outreach, person, date=days_ago(200).isoformat())
    record(outreach, person, date=days_ago(3).isoformat(), kind="laboratory", result="")
    assert person.code not in section(lists(outreach), "Due for a test")


def test_the_lists_show_only_the_people_of_the_current_site(
    cast: Cast, person: Client, outreach: HttpClient
) -> None:
    elsewhere = new_person(cast.south)
    from harbour.testing import services

    services.record_test(
        cast.sam,
        elsewhere,
        cast.south,
        test="hiv",
        kind="rapid",
        date=days_ago(200),
        result="negative",
        consent=True,
    )
    assert elsewhere.code not in lists(outreach)
    assert elsewhere.code in lists(login(cast.sam))


# -- treatment ---------------------------------------------------------------------


def test_a_clinician_starts_a_treatment_and_a_second_ongoing_one_of_the_same_condition_is_refused(
    person: Client, clinician: HttpClient
) -> None:
    url = f"/testing/client/{person.pk}/treatment/"
    response = clinician.post(url, treatment_form(where="partner", partner="Riverside clinic"))
    assert response.status_code == 302
    t = models.Treatment.objects.get(client=person)
    assert (t.condition, t.outcome, t.provider) == ("hiv", "ongoing", "Riverside clinic")
    assert "Since" in page(clinician.get(f"/testing/client/{person.pk}/"))

    response = clinician.post(url, treatment_form())
    assert response.status_code == 422
    assert response.context["treatment_form"].errors["condition"] == [
        "This person is already on this treatment."
    ]
    assert clinician.post(url, treatment_form(condition="tb")).status_code == 302
    assert models.Treatment.objects.filter(client=person).count() == 2


def test_a_partner_clinic_is_named(person: Client, clinician: HttpClient) -> None:
    response = clinician.post(
        f"/testing/client/{person.pk}/treatment/", treatment_form(where="partner")
    )
    assert response.status_code == 422
    assert response.context["treatment_form"].errors["partner"] == [
        "Name the partner clinic that treats the person."
    ]
    assert not models.Treatment.objects.exists()


def test_a_person_lost_to_follow_up_is_on_the_outreach_list_until_treatment_restarts(
    cast: Cast, person: Client, clinician: HttpClient
) -> None:
    url = f"/testing/client/{person.pk}/treatment/"
    clinician.post(url, treatment_form(condition="hcv", start_date=days_ago(40).isoformat()))
    t = models.Treatment.objects.get(client=person)
    response = clinician.post(
        f"/testing/treatments/{t.pk}/end/",
        {"end_date": days_ago(5).isoformat(), "outcome": "lost", "reason": "Moved, no phone"},
    )
    assert response.status_code == 302
    t.refresh_from_db()
    assert (t.outcome, t.end_date, t.reason) == ("lost", days_ago(5), "Moved, no phone")

    # The outreach worker sees it on the list, with the reason.
    off = section(lists(login(cast["outreach"])), "Stopped treatment or lost to follow-up")
    assert person.code in off and "Moved, no phone" in off and "lost to follow-up" in off

    # Ending it again is refused: the outcome stays as recorded.
    again = clinician.post(
        f"/testing/treatments/{t.pk}/end/", {"end_date": today().isoformat(), "outcome": "died"}
    )
    assert again.status_code == 422
    assert "This treatment has already ended." in page(again)
    t.refresh_from_db()
    assert t.outcome == "lost"

    assert clinician.post(url, treatment_form(condition="hcv")).status_code == 302
    off = section(lists(clinician), "Stopped treatment or lost to follow-up")
    assert person.code not in off


def test_a_completed_hepatitis_c_treatment_shows_when_the_svr12_test_is_due_and_its_result(
    person: Client, clinician: HttpClient
) -> None:
    clinician.post(
        f"/testing/client/{person.pk}/treatment/",
        treatment_form(condition="hcv", start_date=days_ago(190).isoformat()),
    )
    t = models.Treatment.objects.get(client=person)
    clinician.post(
        f"/testing/treatments/{t.pk}/end/",
        {"end_date": days_ago(100).isoformat(), "outcome": "completed"},
    )
    due = (days_ago(100) + dt.timedelta(weeks=12)).strftime("%-d %b %Y")
    assert f"an RNA test is due from {due}" in page(clinician.get(f"/testing/client/{person.pk}/"))

    clinician.post(
        f"/testing/client/{person.pk}/viral-load/",
        {"condition": "hcv", "date": days_ago(10).isoformat(), "copies_per_ml": "0"},
    )
    text = page(clinician.get(f"/testing/client/{person.pk}/"))
    assert f"RNA not detected on {days_ago(10).strftime('%-d %b %Y')}" in text


def test_a_viral_load_is_recorded_once_a_day(person: Client, clinician: HttpClient) -> None:
    url = f"/testing/client/{person.pk}/viral-load/"
    load = {"condition": "hiv", "date": today().isoformat(), "copies_per_ml": "1200"}
    assert clinician.post(url, load).status_code == 302
    # The same result sent again is the same record.
    response = clinician.post(url, load, follow=True)
    assert "This viral load was already recorded." in page(response)
    assert models.ViralLoad.objects.filter(client=person).count() == 1

    response = clinician.post(url, {**load, "copies_per_ml": "40"})
    assert response.status_code == 422
    assert response.context["viral_load_form"].errors["copies_per_ml"] == [
        "A different result is already recorded for this day."
    ]
    assert models.ViralLoad.objects.get(client=person).copies_per_ml == 1200
    assert "1200 copies/mL" in page(clinician.get(f"/testing/client/{person.pk}/"))


def test_a_peer_records_adherence_support(
    cast: Cast, person: Client, clinician: HttpClient, outreach: HttpClient
) -> None:
    clinician.post(f"/testing/client/{person.pk}/treatment/", treatment_form())
    t = models.Treatment.objects.get(client=person)
    response = outreach.post(
        f"/testing/treatments/{t.pk}/support/",
        {"date": today().isoformat(), "peer": "on", "note": "Went to the clinic together"},
    )
    assert response.status_code == 302
    s = models.AdherenceSupport.objects.get(treatment=t)
    assert (s.by, s.peer, s.note) == (cast["outreach"], True, "Went to the clinic together")
    assert AuditEvent.objects.filter(action="treatment.support").count() == 1
    text = page(clinician.get(f"/testing/client/{person.pk}/"))
    assert "by a peer, outreach_north · Went to the clinic together" in text


# -- who may do what ---------------------------------------------------------------


def test_a_client_of_another_site_is_refused(cast: Cast, clinician: HttpClient) -> None:
    elsewhere = new_person(cast.south)
    assert clinician.get(f"/testing/client/{elsewhere.pk}/").status_code == 403
    assert record(clinician, elsewhere).status_code == 403
    assert (
        clinician.post(f"/testing/client/{elsewhere.pk}/treatment/", treatment_form()).status_code
        == 403
    )
    from harbour.testing import services

    t, _ = services.record_test(
        cast.sam, elsewhere, cast.south, test="hiv", kind="laboratory", date=today(), consent=True
    )
    assert clinician.post(f"/testing/tests/{t.pk}/result/", {"result": "positive"}).status_code == (
        403
    )
    assert not models.Test.objects.filter(result="positive").exists()


def test_an_me_officer_sees_no_testing_page(cast: Cast, person: Client) -> None:
    http = login(cast["me_officer"])
    assert http.get("/testing/").status_code == 403
    assert http.get(f"/testing/client/{person.pk}/").status_code == 403
    assert record(http, person).status_code == 403
    assert not models.Test.objects.exists()


def test_a_site_manager_sees_no_test_results(cast: Cast, person: Client) -> None:
    http = login(cast["site_manager"])
    assert http.get("/testing/").status_code == 403
    assert http.get(f"/testing/client/{person.pk}/").status_code == 403
    assert "Tests and treatment" not in page(http.get(f"/clients/{person.pk}/"))


def test_a_peer_outreach_worker_records_a_rapid_test_but_cannot_start_a_treatment(
    person: Client, outreach: HttpClient
) -> None:
    assert record(outreach, person).status_code == 302
    text = page(outreach.get(f"/testing/client/{person.pk}/"))
    assert "Record a test" in text and "Start a treatment" not in text
    url = f"/testing/client/{person.pk}/treatment/"
    assert outreach.post(url, treatment_form()).status_code == 403
    viral_load = {"condition": "hiv", "date": today().isoformat(), "copies_per_ml": "0"}
    assert outreach.post(f"/testing/client/{person.pk}/viral-load/", viral_load).status_code == 403
    assert not models.Treatment.objects.exists() and not models.ViralLoad.objects.exists()


def test_a_case_manager_manages_treatment_but_does_not_record_tests(
    cast: Cast, person: Client
) -> None:
    http = login(cast["case_manager"])
    text = page(http.get(f"/testing/client/{person.pk}/"))
    assert "Start a treatment" in text and "Record a test" not in text
    assert record(http, person).status_code == 403
    url = f"/testing/client/{person.pk}/treatment/"
    assert http.post(url, treatment_form()).status_code == 302
    assert http.get("/testing/").status_code == 200


def test_every_view_of_the_testing_page_is_audited(
    cast: Cast, person: Client, outreach: HttpClient
) -> None:
    outreach.get(f"/testing/client/{person.pk}/")
    outreach.get(f"/testing/client/{person.pk}/")
    views = AuditEvent.objects.filter(action="client.view", detail__view="testing")
    assert views.count() == 2
    assert {(e.actor, e.object_id, e.site_id) for e in views} == {
        (cast["outreach"], str(person.pk), cast.north.pk)
    }


def test_the_profile_and_the_menu_lead_to_testing(
    cast: Cast, person: Client, outreach: HttpClient
) -> None:
    record(outreach, person, result="positive")
    text = page(outreach.get(f"/clients/{person.pk}/"))
    assert "<h2>Tests and treatment</h2>" in text
    assert f'href="/testing/client/{person.pk}/"' in text
    assert "needs confirmation</span> HIV rapid test" in text
    menu = page(outreach.get("/testing/"))
    assert '<a href="/testing/" aria-current="page">Testing</a>' in menu
