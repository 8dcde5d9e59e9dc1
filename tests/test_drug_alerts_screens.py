"""Drug alerts for staff: the reviewer sends, updates, withdraws or decides against an
alert the rules raised; everyone signed in reads the sent ones, on the list and in the
banner of every page; the reviewer tunes the rules and the substance dictionary.

Alerts come from results, as in real life: a sample expected to be heroin holds
fentanyl, and the rules raise a draft by themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from harbour.accounts.models import Role
from harbour.audit.models import AuditEvent
from harbour.drugchecking import services
from harbour.drugchecking.dictionary import resolve
from harbour.drugchecking.models import (
    Alert,
    AlertSettings,
    AlertStatus,
    FindingRole,
    Rule,
    Sample,
    Substance,
    SubstanceClass,
    SubstanceName,
)
from harbour.sites.models import Site
from tests.factory import Cast, login


def today() -> dt.date:
    return timezone.localdate()


def page(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def fentanyl_in_heroin(
    cast: Cast, *, site: Site | None = None, trace: bool = False, day: dt.date | None = None
) -> Sample:
    heroin, fentanyl = resolve("heroin"), resolve("fentanyl")
    assert heroin is not None and fentanyl is not None
    sample, _ = services.take_sample(
        cast["staff"], site or cast.north, date=day or today(), expected=[heroin], form="powder"
    )
    role = FindingRole.TRACE if trace else FindingRole.PRIMARY
    services.record_analysis(
        cast["staff"],
        sample,
        method="ftir",
        found=[services.FoundIn(heroin), services.FoundIn(fentanyl, role=role)],
    )
    return sample


def draft(cast: Cast, **kwargs: Any) -> tuple[Alert, Sample]:
    sample = fentanyl_in_heroin(cast, **kwargs)
    alert = Alert.objects.get(rule=Rule.UNEXPECTED, substance__name="fentanyl")
    assert alert.status == AlertStatus.DRAFT
    return alert, sample


def sent(cast: Cast, title: str = "Fentanyl in heroin in Region A") -> Alert:
    alert, _ = draft(cast)
    return services.publish(cast["alert_reviewer"], alert, title=title, message=alert.message)


def review_url(alert: Alert) -> str:
    return f"/drug-checking/alerts/{alert.pk}/review/"


@pytest.fixture
def reviewer(cast: Cast) -> HttpClient:
    return login(cast["alert_reviewer"])


# -- reviewing ---------------------------------------------------------------------------


def test_the_reviewer_sees_the_evidence_and_why_the_rule_fired(
    cast: Cast, reviewer: HttpClient
) -> None:
    alert, sample = draft(cast)
    text = page(reviewer.get(review_url(alert)))
    assert sample.number in text
    assert f'href="/drug-checking/samples/{sample.pk}/"' in text
    assert "Region A" in text
    assert "marked noteworthy" in text  # why the rule fired
    assert "heroin" in text and "fentanyl" in text
    assert "unexpected" in text
    # The draft's words come pre-filled, ready to edit.
    assert alert.title in text
    assert 'name="action" value="publish"' in text


def test_the_reviewer_sends_an_alert_with_their_own_words(cast: Cast, reviewer: HttpClient) -> None:
    alert, _ = draft(cast)
    response = reviewer.post(
        review_url(alert),
        {"action": "publish", "title": "Fentanyl found in heroin", "message": alert.message},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PUBLISHED
    assert alert.title == "Fentanyl found in heroin"
    assert alert.reviewed_by == cast["alert_reviewer"]
    text = page(reviewer.get(review_url(alert)))
    assert "Sent" in text and "by alert_reviewer_north" in text
    assert AuditEvent.objects.filter(action="alert.published", object_id=str(alert.pk)).exists()


def test_sending_without_a_title_says_so_and_keeps_the_message(
    cast: Cast, reviewer: HttpClient
) -> None:
    alert, _ = draft(cast)
    response = reviewer.post(
        review_url(alert), {"action": "publish", "title": "  ", "message": "My own words."}
    )
    assert response.status_code == 422
    text = page(response)
    assert 'id="words_title_error"' in text and "An alert needs a title." in text
    assert "My own words." in text  # nothing typed is lost
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT


def test_the_reviewer_updates_a_sent_alert_to_a_new_revision(
    cast: Cast, reviewer: HttpClient
) -> None:
    alert = sent(cast)
    response = reviewer.post(
        review_url(alert),
        {"action": "revise", "title": "Fentanyl in heroin: 2 samples", "message": "New words."},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.revision, alert.title, alert.message) == (
        2,
        "Fentanyl in heroin: 2 samples",
        "New words.",
    )
    text = page(reviewer.get(review_url(alert)))
    assert "updated to revision 2" in text


def test_a_withdrawal_needs_a_reason_and_shows_it_to_everyone(
    cast: Cast, reviewer: HttpClient
) -> None:
    alert = sent(cast)
    response = reviewer.post(review_url(alert), {"action": "close", "reason": ""})
    assert response.status_code == 422
    text = page(response)
    assert 'id="close_reason_error"' in text and "Say why" in text
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PUBLISHED

    response = reviewer.post(
        review_url(alert), {"action": "close", "reason": "The laboratory corrected the result."}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.WITHDRAWN
    text = page(login(cast["outreach"]).get("/drug-checking/alerts/"))
    assert "Withdrawn recently" in text
    assert "The laboratory corrected the result." in text


def test_the_reviewer_decides_not_to_send_a_draft_with_a_reason(
    cast: Cast, reviewer: HttpClient
) -> None:
    alert, _ = draft(cast)
    response = reviewer.post(review_url(alert), {"action": "close", "reason": " "})
    assert response.status_code == 422
    assert 'id="close_reason_error"' in page(response)
    response = reviewer.post(review_url(alert), {"action": "close", "reason": "A test sample."})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.closed_reason) == (AlertStatus.DISMISSED, "A test sample.")
    text = page(reviewer.get("/drug-checking/alerts/"))
    assert "Decided not to send" in text and "A test sample." in text
    # A closed alert has no forms left: its history is all there is.
    text = page(reviewer.get(review_url(alert)))
    assert 'name="action"' not in text
    assert "decided not to send" in text


def test_a_sent_alert_counts_the_samples_that_came_in_after_it(
    cast: Cast, reviewer: HttpClient
) -> None:
    alert = sent(cast)
    assert "new sample" not in page(reviewer.get(review_url(alert)))
    fentanyl_in_heroin(cast)
    text = page(reviewer.get(review_url(alert)))
    assert "1 new sample since it was sent." in text
    assert "new since sent" in text
    # The sent words stay as the reviewer approved them.
    alert.refresh_from_db()
    assert alert.title == "Fentanyl in heroin in Region A"


# -- who reaches what --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "site_manager", "admin", "outreach", "me_officer"])
def test_only_the_alert_reviewer_reaches_review_rules_and_the_dictionary(
    cast: Cast, role: str
) -> None:
    alert, _ = draft(cast)
    http = login(cast[role])
    fentanyl = Substance.objects.get(name="fentanyl")
    for url in (
        review_url(alert),
        "/drug-checking/alerts/rules/",
        "/drug-checking/alerts/substances/",
        "/drug-checking/alerts/substances/new/",
        f"/drug-checking/alerts/substances/{fentanyl.pk}/",
    ):
        assert http.get(url).status_code == 403, url
    response = http.post(review_url(alert), {"action": "publish", "title": "x", "message": "y"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_everyone_signed_in_reads_sent_alerts_and_only_reviewers_see_drafts(
    cast: Cast, role: str
) -> None:
    alert = sent(cast)
    other = fentanyl_in_heroin(cast, site=cast.south)  # same region: joins the sent alert
    assert other.signals.get().alert == alert
    xylazine = resolve("xylazine")
    assert xylazine is not None
    sample, _ = services.take_sample(
        cast["staff"], cast.north, date=today(), expected=[resolve("heroin")], form="powder"
    )
    services.record_analysis(
        cast["staff"], sample, method="ftir", found=[services.FoundIn(xylazine)]
    )
    waiting = Alert.objects.get(substance=xylazine)
    text = page(login(cast[role]).get("/drug-checking/alerts/"))
    assert alert.title in text
    if role == Role.ALERT_REVIEWER:
        assert waiting.title in text and "Awaiting your review" in text
    else:
        assert waiting.title not in text and "Awaiting your review" not in text


def test_signed_out_people_are_sent_to_sign_in(cast: Cast) -> None:
    response = HttpClient().get("/drug-checking/alerts/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]


# -- the banner ------------------------------------------------------------------------


def test_the_banner_shows_a_sent_alert_on_every_page_until_it_is_withdrawn(
    cast: Cast,
) -> None:
    alert, _ = draft(cast)
    staff = login(cast["staff"])
    assert "Drug alert:" not in page(staff.get("/", follow=True))  # a draft is not news yet
    alert = services.publish(
        cast["alert_reviewer"], alert, title="Fentanyl in heroin", message=alert.message
    )
    text = page(staff.get("/", follow=True))
    assert "Drug alert:</strong> Fentanyl in heroin" in text
    assert f'href="/public/alerts/{alert.pk}/"' in text
    services.close(cast["alert_reviewer"], alert, reason="Corrected result.")
    assert "Drug alert:" not in page(staff.get("/", follow=True))


def test_the_banner_names_two_alerts_and_counts_the_rest(cast: Cast) -> None:
    reviewer = cast["alert_reviewer"]
    for name in ("fentanyl", "xylazine", "nitazene (unspecified)"):
        substance = resolve(name)
        assert substance is not None
        sample, _ = services.take_sample(
            cast["staff"], cast.north, date=today(), expected=[resolve("heroin")], form="powder"
        )
        services.record_analysis(
            cast["staff"], sample, method="ftir", found=[services.FoundIn(substance)]
        )
    alerts = list(Alert.objects.filter(status=AlertStatus.DRAFT))
    assert len(alerts) == 3
    for alert in alerts:
        services.publish(reviewer, alert, title=f"Alert {alert.substance.name}", message="m")
    text = page(login(cast["outreach"]).get("/drug-checking/alerts/"))
    banner = text.split('class="drug-banner"', 1)[1].split("</aside>", 1)[0]
    assert banner.count("Drug alert:") == 2
    assert "and 1 more" in banner


def test_the_banner_tells_a_reviewer_what_awaits_review(cast: Cast, reviewer: HttpClient) -> None:
    draft(cast)
    text = page(reviewer.get("/drug-checking/alerts/rules/"))
    assert "1 alert awaits your review" in text
    assert "awaits your review" not in page(login(cast["staff"]).get("/", follow=True))


# -- the rules -----------------------------------------------------------------------------


def rules_form(**changes: Any) -> dict[str, Any]:
    row = AlertSettings.get()
    data: dict[str, Any] = {
        "new_substance_classes": row.new_substance_classes,
        "new_substance_after": row.new_substance_after,
        "cluster_samples": row.cluster_samples,
        "cluster_days": row.cluster_days,
    }
    if row.include_traces:
        data["include_traces"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_turning_traces_off_stops_a_trace_only_alert(cast: Cast, reviewer: HttpClient) -> None:
    text = page(reviewer.get("/drug-checking/alerts/rules/"))
    assert "Found where it was not expected" in text and "Noteworthy now:" in text
    response = reviewer.post("/drug-checking/alerts/rules/", rules_form(include_traces=None))
    assert response.status_code == 302
    assert AlertSettings.get().include_traces is False
    event = AuditEvent.objects.get(action="alert.rules_changed")
    assert event.detail["changed"]["include_traces"] == {"from": True, "to": False}

    fentanyl_in_heroin(cast, trace=True)
    assert not Alert.objects.exists()

    reviewer.post("/drug-checking/alerts/rules/", rules_form(include_traces="on"))
    fentanyl_in_heroin(cast, trace=True)
    assert Alert.objects.filter(substance__name="fentanyl").count() == 1


def test_a_cluster_of_one_is_refused_naming_the_field(cast: Cast, reviewer: HttpClient) -> None:
    response = reviewer.post(
        "/drug-checking/alerts/rules/", rules_form(cluster_samples="1", cluster_days="0")
    )
    assert response.status_code == 422
    text = page(response)
    assert 'id="rules_cluster_samples_error"' in text
    assert 'id="rules_cluster_days_error"' in text
    assert AlertSettings.get().cluster_samples == 3


def test_the_classes_for_a_new_substance_are_saved(cast: Cast, reviewer: HttpClient) -> None:
    reviewer.post(
        "/drug-checking/alerts/rules/",
        rules_form(new_substance_classes=["opioid", "nitazene"], new_substance_after="10"),
    )
    row = AlertSettings.get()
    assert (row.new_substance_classes, row.new_substance_after) == (["opioid", "nitazene"], 10)
    text = page(reviewer.get("/drug-checking/alerts/rules/"))
    assert re.search(r'value="opioid"[^>]*checked', text)
    assert not re.search(r'value="stimulant"[^>]*checked', text)


# -- the substance dictionary ---------------------------------------------------------------


def test_the_dictionary_finds_a_substance_by_another_name(cast: Cast, reviewer: HttpClient) -> None:
    text = page(reviewer.get("/drug-checking/alerts/substances/", {"q": "fetty"}))
    assert ">fentanyl</a>" in text
    assert ">heroin</a>" not in text
    text = page(reviewer.get("/drug-checking/alerts/substances/", {"drug_class": "nitazene"}))
    assert "isotonitazene" in text and ">fentanyl</a>" not in text


def test_substances_not_yet_classified_come_first(cast: Cast, reviewer: HttpClient) -> None:
    Substance.objects.create(name="zz unknown powder", drug_class=SubstanceClass.UNCLASSIFIED)
    text = page(reviewer.get("/drug-checking/alerts/substances/"))
    assert "1 substance is not yet classified." in text
    rows = re.findall(r'<td data-label="Name"><a href="[^"]+">([^<]+)</a>', text)
    assert rows[0] == "zz unknown powder"


def test_the_reviewer_edits_a_substance_and_its_other_names(
    cast: Cast, reviewer: HttpClient
) -> None:
    fentanyl = Substance.objects.get(name="fentanyl")
    url = f"/drug-checking/alerts/substances/{fentanyl.pk}/"
    assert "fetty" in page(reviewer.get(url))
    response = reviewer.post(
        url,
        {
            "name": "fentanyl",
            "drug_class": "opioid",
            "noteworthy": "on",
            "alert_percent": "15",
            "advice": "fentanyl",
            "pubchem_cid": "3345",
            "cas": "437-38-7",
            "synonyms": "fent, fetty\nblues fentanyl",
        },
    )
    assert response.status_code == 302
    fentanyl.refresh_from_db()
    assert str(fentanyl.alert_percent) == "15.00"
    names = set(fentanyl.names.values_list("name", flat=True))
    assert names == {"fent", "fetty", "blues fentanyl"}
    event = AuditEvent.objects.get(action="substance.changed")
    assert event.detail["changed"]["alert_percent"] == {"from": "20.00", "to": "15.00"}
    assert "fentanyl citrate" in event.detail["changed"]["names_removed"]


def test_a_name_another_substance_uses_is_refused_naming_it(
    cast: Cast, reviewer: HttpClient
) -> None:
    fentanyl = Substance.objects.get(name="fentanyl")
    response = reviewer.post(
        f"/drug-checking/alerts/substances/{fentanyl.pk}/",
        {"name": "fentanyl", "drug_class": "opioid", "synonyms": "fetty\nsmack"},
    )
    assert response.status_code == 422
    text = page(response)
    assert 'id="substance_synonyms_error"' in text
    assert "&quot;smack&quot; is already a name of heroin." in text
    assert "fetty\nsmack" in response.content.decode()  # what was typed stays
    assert SubstanceName.objects.get(name="smack").substance.name == "heroin"


def test_the_reviewer_adds_a_substance(cast: Cast, reviewer: HttpClient) -> None:
    response = reviewer.post(
        "/drug-checking/alerts/substances/new/",
        {"name": "medetomidine", "drug_class": "adulterant", "synonyms": "rhino tranq"},
    )
    if resolve("medetomidine") is not None and response.status_code == 422:
        assert "already" in page(response)  # the shipped dictionary may hold it
        return
    assert response.status_code == 302
    added = Substance.objects.get(name="medetomidine")
    assert resolve("rhino tranq") == added
    assert AuditEvent.objects.filter(action="substance.added", object_id=str(added.pk)).exists()


def test_a_new_substance_needs_a_name_and_a_class(cast: Cast, reviewer: HttpClient) -> None:
    response = reviewer.post("/drug-checking/alerts/substances/new/", {"name": "", "synonyms": ""})
    assert response.status_code == 422
    text = page(response)
    assert 'id="substance_name_error"' in text and 'id="substance_drug_class_error"' in text
    response = reviewer.post(
        "/drug-checking/alerts/substances/new/", {"name": "Heroin", "drug_class": "opioid"}
    )
    assert "heroin is already in the dictionary" in page(response).lower()
