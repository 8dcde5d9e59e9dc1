"""Case management: referrals that close, the morning lists, appointments, reminders that
reveal nothing, the partner directory and who may see what.

The cast (tests/factory.py): one person of each role at North, Sam (staff) at South.
Casey is a second case manager at North.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from harbour.accounts.models import Role, User
from harbour.audit.models import AuditEvent
from harbour.casework import services
from harbour.casework.models import (
    Appointment,
    CaseAssignment,
    OutboxMessage,
    PartnerService,
    Referral,
    ServiceKind,
)
from harbour.clients.forms import RegistrationForm
from harbour.clients.models import Client
from harbour.sites.models import Organisation, Site
from harbour.visits.models import Contact
from tests.factory import Cast, login, make_client, make_user

_people = itertools.count()
PHONE = "+44 7700 900123"


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


def new_person(site: Site, **profile: Any) -> Client:
    """A client with a UIC of their own, so a test can register as many as it needs."""
    n = next(_people)
    mother = chr(65 + n // 26 % 26) + chr(65 + n % 26)
    return make_client(site, mother=mother, father="CW", **profile)


def with_phone(client: Client, phone: str = PHONE, reminders: bool = True) -> Client:
    client.phone, client.reminders = phone, reminders
    client.save()
    return client


def page(response: Any) -> str:
    return str(response.content.decode())


def audited(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def appointment(client: Client, at: dt.datetime, site: Site | None = None) -> Appointment:
    """An appointment at any time, past ones included (booking refuses those)."""
    return Appointment.objects.create(client=client, site=site or client.site, at=at)


@pytest.fixture
def person(cast: Cast) -> Client:
    return new_person(cast.north)


@pytest.fixture
def casey(cast: Cast) -> User:
    return make_user("casey_north", Role.CASE_MANAGER, cast.north)


@pytest.fixture
def hope_clinic(db: None) -> PartnerService:
    return PartnerService.objects.create(
        name="Hope HIV Clinic", kind=ServiceKind.HIV, address="1 Quay Street"
    )


def refer(cast: Cast, client: Client, made_on: dt.date | None = None, **kw: Any) -> Referral:
    referral, _ = services.refer(
        cast["case_manager"],
        client,
        cast.north,
        kind=kw.pop("kind", ServiceKind.HOUSING),
        made_on=made_on,
        **kw,
    )
    return referral


def refer_form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "housing",
        "service": "",
        "made_on": today().isoformat(),
        "referral_id": str(uuid.uuid4()),
    }
    data.update(fields)
    return data


# -- the referral loop ------------------------------------------------------------------


def test_a_referral_closes_the_loop_made_then_accepted_then_attended(
    cast: Cast, person: Client, hope_clinic: PartnerService
) -> None:
    http = login(cast["case_manager"])
    response = http.post(
        f"/casework/client/{person.pk}/refer/", refer_form(kind="", service=hope_clinic.pk)
    )
    assert response.status_code == 302
    referral = Referral.objects.get(client=person)
    # The partner service gives the referral its kind.
    assert (referral.kind, referral.service, referral.status) == ("hiv", hope_clinic, "made")
    assert referral.site == cast.north and referral.made_by == cast["case_manager"]

    http.post(f"/casework/referrals/{referral.pk}/status/", {"status": "accepted"})
    referral.refresh_from_db()
    assert (referral.status, referral.status_on) == ("accepted", today())

    response = http.post(
        f"/casework/referrals/{referral.pk}/status/", {"status": "attended"}, follow=True
    )
    referral.refresh_from_db()
    assert referral.status == "attended"
    assert "Referral (HIV treatment): attended." in page(response)
    assert [e.detail["status"] for e in audited("referral.update")] == ["accepted", "attended"]


def test_a_referral_that_did_not_happen_needs_a_reason(cast: Cast, person: Client) -> None:
    referral = refer(cast, person, made_on=days_ago(3))
    http = login(cast["case_manager"])
    response = http.post(f"/casework/referrals/{referral.pk}/status/", {"status": "not_attended"})
    assert response.status_code == 422
    assert "Say why, when known: it shows where people are lost." in page(response)
    referral.refresh_from_db()
    assert referral.status == "made"

    http.post(
        f"/casework/referrals/{referral.pk}/status/",
        {"status": "not_attended", "reason": "No bus fare", "status_on": days_ago(1).isoformat()},
    )
    referral.refresh_from_db()
    assert (referral.status, referral.reason, referral.status_on) == (
        "not_attended",
        "No bus fare",
        days_ago(1),
    )


def test_an_attended_referral_cannot_go_back_to_made_and_the_error_names_the_status(
    cast: Cast, person: Client
) -> None:
    referral = refer(cast, person)
    services.update_referral(cast["case_manager"], referral, status="attended")
    with pytest.raises(services.CaseworkError) as refused:
        services.update_referral(cast["case_manager"], referral, status="made")
    assert refused.value.field == "status"

    response = login(cast["case_manager"]).post(
        f"/casework/referrals/{referral.pk}/status/", {"status": "made"}
    )
    assert response.status_code == 422
    assert "Status: A referral that is attended cannot become made." in page(response)
    referral.refresh_from_db()
    assert referral.status == "attended"


def test_a_partner_service_must_offer_the_kind_of_help_referred_to(
    cast: Cast, person: Client, hope_clinic: PartnerService
) -> None:
    response = login(cast["case_manager"]).post(
        f"/casework/client/{person.pk}/refer/", refer_form(kind="legal", service=hope_clinic.pk)
    )
    assert response.status_code == 422
    assert response.context["referral_form"].errors["service"] == [
        "This partner service does not offer that kind of help."
    ]
    assert not Referral.objects.exists()


def test_a_referral_names_a_kind_of_help_or_a_service(cast: Cast, person: Client) -> None:
    response = login(cast["case_manager"]).post(
        f"/casework/client/{person.pk}/refer/", refer_form(kind="")
    )
    assert response.status_code == 422
    assert response.context["referral_form"].errors["kind"] == [
        "Choose the kind of help, or a partner service."
    ]


def test_a_double_click_records_one_referral(cast: Cast, person: Client) -> None:
    http = login(cast["case_manager"])
    form = refer_form()
    http.post(f"/casework/client/{person.pk}/refer/", form)
    response = http.post(f"/casework/client/{person.pk}/refer/", form, follow=True)
    assert "This referral was already recorded." in page(response)
    assert Referral.objects.filter(client=person).count() == 1


# -- the morning page -------------------------------------------------------------------


def test_referrals_with_no_outcome_after_the_follow_up_days_are_on_the_morning_page(
    cast: Cast, settings: Any
) -> None:
    days = settings.REFERRAL_FOLLOW_UP_DAYS
    stale, recent, closed = new_person(cast.north), new_person(cast.north), new_person(cast.north)
    for c in (stale, recent, closed):
        services.assign(cast["case_manager"], c, cast["case_manager"])
    refer(cast, stale, made_on=days_ago(days + 1), kind=ServiceKind.LEGAL)
    refer(cast, recent, made_on=days_ago(days - 1))
    done = refer(cast, closed, made_on=days_ago(days + 5))
    services.update_referral(cast["case_manager"], done, status="attended")

    response = login(cast["case_manager"]).get("/casework/")
    assert response.status_code == 200
    assert [r.client for r in response.context["stale"]] == [stale]
    section = page(response).split("Referrals with no outcome")[1].split("Lost to follow-up")[0]
    assert stale.code in section and "Legal aid" in section
    assert recent.code not in section and closed.code not in section


def test_todays_appointments_are_on_the_morning_page(cast: Cast, person: Client) -> None:
    services.assign(cast["case_manager"], person, cast["case_manager"])
    now = timezone.now()
    here = appointment(person, now)
    appointment(person, now + dt.timedelta(days=1))
    appointment(person, now - dt.timedelta(days=1))
    # At the site, for someone in another case manager's caseload: still the site's day.
    other = new_person(cast.north)
    at_site = appointment(other, now)

    response = login(cast["case_manager"]).get("/casework/")
    assert set(response.context["appointments"]) == {here, at_site}
    text = page(response)
    assert f"/casework/client/{person.pk}/" in text


def test_the_morning_page_lists_only_my_caseload(cast: Cast, casey: User) -> None:
    mine, theirs = new_person(cast.north), new_person(cast.north)
    services.assign(cast["case_manager"], mine, cast["case_manager"])
    services.assign(cast["case_manager"], theirs, casey)

    response = login(cast["case_manager"]).get("/casework/")
    assert list(response.context["caseload"]) == [mine]
    caseload = page(response).split("My caseload")[1]
    assert mine.code in caseload and theirs.code not in caseload

    response = login(casey).get("/casework/")
    assert list(response.context["caseload"]) == [theirs]


def test_a_caseload_assignment_moves_a_client_from_one_case_manager_to_another(
    cast: Cast, person: Client, casey: User
) -> None:
    services.assign(cast["case_manager"], person, casey)
    assert list(services.caseload(casey)) == [person]

    response = login(cast["case_manager"]).post(
        f"/casework/client/{person.pk}/assign/", {"case_manager": cast["case_manager"].pk}
    )
    assert response.status_code == 302
    assert list(services.caseload(cast["case_manager"])) == [person]
    assert list(services.caseload(casey)) == []
    before, now = CaseAssignment.objects.filter(client=person).order_by("pk")
    assert (before.case_manager, before.until) == (casey, today())
    assert (now.case_manager, now.until) == (cast["case_manager"], None)
    assert audited("case.assign")[-1].detail["case_manager"] == "case_manager_north"


def test_a_client_is_assigned_only_to_someone_who_does_casework_here(
    cast: Cast, person: Client
) -> None:
    response = login(cast["case_manager"]).post(
        f"/casework/client/{person.pk}/assign/", {"case_manager": cast["outreach"].pk}
    )
    assert response.status_code == 422
    assert "case_manager" in response.context["assign_form"].errors
    assert not CaseAssignment.objects.exists()


def test_people_lost_to_follow_up_are_those_whose_referral_did_not_happen_or_unseen_for_90_days(
    cast: Cast,
) -> None:
    missed, unseen, seen, fine = (new_person(cast.north) for _ in range(4))
    for c in (missed, unseen, seen, fine):
        services.assign(cast["case_manager"], c, cast["case_manager"])
    r = refer(cast, missed, made_on=days_ago(5))
    services.update_referral(cast["case_manager"], r, status="not_attended", reason="Ill")
    Client.objects.filter(pk__in=[unseen.pk, seen.pk]).update(registered_on=days_ago(200))
    Contact.objects.create(client=unseen, site=cast.north, date=days_ago(120))
    Contact.objects.create(client=seen, site=cast.north, date=days_ago(10))

    lost = services.lost_to_follow_up(services.caseload(cast["case_manager"]), today())
    assert [row.client for row in lost] == [unseen, missed]
    assert lost[0].reasons == ("Not seen for 120 days",)
    assert lost[1].reasons == ("Last referral (Housing): did not attend",)

    response = login(cast["case_manager"]).get("/casework/")
    section = page(response).split("Lost to follow-up")[1].split("My caseload")[0]
    assert unseen.code in section and missed.code in section
    assert seen.code not in section and fine.code not in section


# -- a client's case page ---------------------------------------------------------------


def test_opening_a_case_is_in_the_audit_log(cast: Cast, person: Client) -> None:
    assert login(cast["case_manager"]).get(f"/casework/client/{person.pk}/").status_code == 200
    [event] = audited("client.view")
    assert event.detail == {"code": person.code, "view": "casework"}


def test_the_case_page_shows_whether_reminders_can_be_sent_but_never_the_number(
    cast: Cast, person: Client
) -> None:
    http = login(cast["case_manager"])
    text = page(http.get(f"/casework/client/{person.pk}/"))
    assert "The person has not asked for text reminders." in text

    with_phone(person)
    text = page(http.get(f"/casework/client/{person.pk}/"))
    assert "The person agreed and gave a number." in text
    assert PHONE not in text and "900123" not in text

    with_phone(person, phone="")
    assert "The person agreed, but no number is recorded" in page(
        http.get(f"/casework/client/{person.pk}/")
    )


def test_a_case_manager_records_that_the_person_wants_reminders(cast: Cast, person: Client) -> None:
    http = login(cast["case_manager"])
    response = http.post(f"/casework/client/{person.pk}/reminders/", {"agrees": "yes"}, follow=True)
    person.refresh_from_db()
    assert person.reminders is True
    assert "Add the person&#x27;s number so reminders can be sent." in page(response)
    assert audited("client.update")[-1].detail == {"fields": ["reminders"]}

    http.post(f"/casework/client/{person.pk}/reminders/", {"agrees": "no"})
    person.refresh_from_db()
    assert person.reminders is False


def test_an_appointment_is_booked_for_a_time_to_come(cast: Cast, person: Client) -> None:
    http = login(cast["case_manager"])
    referral = refer(cast, person)
    when = timezone.localtime() + dt.timedelta(days=2)
    response = http.post(
        f"/casework/client/{person.pk}/book/",
        {
            "at": when.strftime("%Y-%m-%dT%H:%M"),
            "purpose": "Housing office",
            "referral": referral.pk,
        },
    )
    assert response.status_code == 302
    booked = Appointment.objects.get(client=person)
    assert (booked.referral, booked.purpose, booked.site) == (
        referral,
        "Housing office",
        cast.north,
    )

    past = timezone.localtime() - dt.timedelta(days=2)
    response = http.post(
        f"/casework/client/{person.pk}/book/", {"at": past.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 422
    assert response.context["appointment_form"].errors["at"] == [
        "An appointment is booked for a time to come."
    ]


def test_whether_the_person_came_is_recorded_once_the_day_has_come(
    cast: Cast, person: Client
) -> None:
    http = login(cast["case_manager"])
    due = appointment(person, timezone.now() - dt.timedelta(minutes=5))
    later = appointment(person, timezone.now() + dt.timedelta(days=3))
    assert (
        http.post(f"/casework/appointments/{due.pk}/attendance/", {"attended": "no"}).status_code
        == 302
    )
    due.refresh_from_db()
    assert due.attended is False

    response = http.post(f"/casework/appointments/{later.pk}/attendance/", {"attended": "yes"})
    assert response.status_code == 422
    assert "known once the day has come" in page(response)
    later.refresh_from_db()
    assert later.attended is None


# -- reminders --------------------------------------------------------------------------


def test_reminders_go_once_to_people_who_agreed_and_gave_a_number(cast: Cast, capsys: Any) -> None:
    now = timezone.now()
    agreed = with_phone(new_person(cast.north))
    no_consent = with_phone(new_person(cast.north), reminders=False)
    no_number = with_phone(new_person(cast.north), phone="")
    soon = appointment(agreed, now + dt.timedelta(hours=3))
    appointment(agreed, now + dt.timedelta(hours=30))  # not yet: outside the next 24 h
    appointment(agreed, now - dt.timedelta(hours=2))  # past
    appointment(no_consent, now + dt.timedelta(hours=3))
    appointment(no_number, now + dt.timedelta(hours=3))

    call_command("send-reminders")
    assert capsys.readouterr().out.strip() == "1 reminder sent."
    [message] = OutboxMessage.objects.all()
    assert (message.to, message.appointment, message.backend) == (PHONE, soon, "outbox")
    assert message.body == services.reminder_text(soon)
    soon.refresh_from_db()
    assert soon.reminder_sent_at is not None

    call_command("send-reminders")
    assert capsys.readouterr().out.strip() == "0 reminders sent."
    assert OutboxMessage.objects.count() == 1


def test_the_reminder_window_can_be_widened(cast: Cast, capsys: Any) -> None:
    agreed = with_phone(new_person(cast.north))
    appointment(agreed, timezone.now() + dt.timedelta(hours=30))
    call_command("send-reminders", "--hours", "48")
    assert capsys.readouterr().out.strip() == "1 reminder sent."


def test_the_reminder_text_says_when_and_nothing_else(
    cast: Cast, hope_clinic: PartnerService
) -> None:
    person = with_phone(new_person(cast.north))
    referral = refer(cast, person, kind=ServiceKind.HIV, service=hope_clinic)
    at = timezone.now() + dt.timedelta(hours=5)
    booked = Appointment.objects.create(
        client=person,
        site=cast.north,
        at=at,
        referral=referral,
        purpose="Methadone dose review, HIV viral load and hepatitis C test",
    )
    text = services.reminder_text(booked)
    when = timezone.localtime(at).strftime("%a %d %b at %H:%M")
    assert text == f"Reminder: you have an appointment on {when}. Reply STOP to stop reminders."
    words = set(re.findall(r"[a-z]+", text.lower()))
    conditions = {
        "hiv", "hepatitis", "hcv", "tb", "ost", "methadone", "buprenorphine", "opioid",
        "drug", "drugs", "inject", "needle", "syringe", "naloxone", "harm", "reduction",
        "test", "treatment", "clinic", "housing", "legal", "viral", "dose",
    }  # fmt: skip
    assert words.isdisjoint(conditions)
    for name in (hope_clinic.name, cast.north.name, cast.north.code, Organisation.get().name):
        assert name.lower() not in text.lower()
    for word in re.findall(r"[a-z]+", f"{hope_clinic.name} {cast.north.name}".lower()):
        assert word not in words

    call_command("send-reminders")
    assert OutboxMessage.objects.get().body == text


def test_the_outbox_keeps_the_number_encrypted(cast: Cast) -> None:
    agreed = with_phone(new_person(cast.north))
    appointment(agreed, timezone.now() + dt.timedelta(hours=2))
    call_command("send-reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with connection.cursor() as cursor:
        cursor.execute('SELECT "to" FROM casework_outboxmessage')
        [(raw,)] = cursor.fetchall()
    assert raw and PHONE not in raw and "7700" not in raw and "900123" not in raw
    assert OutboxMessage.objects.get().to == PHONE


def test_the_console_gateway_prints_the_message_without_the_number(
    cast: Cast, settings: Any, capsys: Any
) -> None:
    settings.SMS_BACKEND = "harbour.casework.sms.ConsoleBackend"
    agreed = with_phone(new_person(cast.north))
    soon = appointment(agreed, timezone.now() + dt.timedelta(hours=2))
    call_command("send-reminders")
    out = capsys.readouterr().out
    assert services.reminder_text(soon) in out
    assert PHONE not in out and "7700" not in out and "900123" not in out
    assert "…123" in out
    assert OutboxMessage.objects.get().backend == "outbox"


class RefusingGateway:
    """A gateway that refuses one number, as a real one may."""

    def send(self, to: str, body: str, appointment: Appointment | None) -> None:
        if to.endswith("000"):
            raise RuntimeError("number refused")
        OutboxMessage.objects.create(to=to, body=body, appointment=appointment, backend="test")


def test_one_refused_number_does_not_stop_the_other_reminders(cast: Cast, settings: Any) -> None:
    settings.SMS_BACKEND = "tests.test_casework.RefusingGateway"
    refused = with_phone(new_person(cast.north), phone="+44 7700 900000")
    fine = with_phone(new_person(cast.north))
    first = appointment(refused, timezone.now() + dt.timedelta(hours=1))
    second = appointment(fine, timezone.now() + dt.timedelta(hours=2))
    assert services.send_reminders() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    # The refused one is not marked as sent, so the next run tries again.
    assert first.reminder_sent_at is None and second.reminder_sent_at is not None


# -- the directory of partner services ---------------------------------------------------


def partner_form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Safe Roof Housing",
        "kind": "housing",
        "friendly": "on",
        "address": "",
        "phone": "",
        "hours": "Mon–Fri 9–17",
        "notes": "",
        "active": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SITE_MANAGER])
def test_administrators_and_site_managers_keep_the_partner_directory(cast: Cast, role: str) -> None:
    http = login(cast[role])
    assert http.get("/casework/partners/new/").status_code == 200
    response = http.post("/casework/partners/new/", partner_form())
    assert response.status_code == 302
    partner = PartnerService.objects.get()
    assert (partner.name, partner.kind, partner.friendly) == ("Safe Roof Housing", "housing", True)
    [event] = audited("partner.create")
    assert event.detail["name"] == "Safe Roof Housing"

    response = http.post(f"/casework/partners/{partner.pk}/", partner_form(friendly=None))
    partner.refresh_from_db()
    assert partner.friendly is False
    assert http.post("/casework/partners/new/", partner_form(name="")).status_code == 422


def test_case_managers_read_the_directory_grouped_by_kind_but_do_not_change_it(
    cast: Cast, hope_clinic: PartnerService
) -> None:
    PartnerService.objects.create(name="Old Shelter", kind=ServiceKind.HOUSING, active=False)
    PartnerService.objects.create(name="Town Legal Advice", kind=ServiceKind.LEGAL, friendly=False)
    http = login(cast["case_manager"])
    response = http.get("/casework/partners/")
    assert response.status_code == 200
    text = page(response)
    assert "Hope HIV Clinic" in text and "welcomes people who use drugs" in text
    assert "Town Legal Advice" in text and "not known to be friendly" in text
    assert "Old Shelter" not in text  # no longer in use
    assert [kind for kind, _ in response.context["groups"]] == ["HIV treatment", "Legal aid"]
    assert http.get("/casework/partners/new/").status_code == 403
    assert http.post("/casework/partners/new/", partner_form()).status_code == 403
    assert http.post(f"/casework/partners/{hope_clinic.pk}/", partner_form()).status_code == 403
    assert PartnerService.objects.count() == 3


@pytest.mark.parametrize("role", [Role.OUTREACH, Role.STAFF, Role.CLINICIAN, Role.ME_OFFICER])
def test_roles_without_casework_see_no_partner_directory(cast: Cast, role: str) -> None:
    assert login(cast[role]).get("/casework/partners/").status_code == 403


# -- who may see what -------------------------------------------------------------------


def test_a_case_manager_cannot_open_or_change_another_sites_client(cast: Cast) -> None:
    south = new_person(cast.south)
    http = login(cast["case_manager"])
    assert http.get(f"/casework/client/{south.pk}/").status_code == 403
    assert http.post(f"/casework/client/{south.pk}/refer/", refer_form()).status_code == 403
    assert (
        http.post(
            f"/casework/client/{south.pk}/assign/", {"case_manager": cast["case_manager"].pk}
        ).status_code
        == 403
    )
    assert not Referral.objects.exists() and not CaseAssignment.objects.exists()

    referral, _ = services.refer(None, south, cast.south, kind=ServiceKind.HOUSING)
    response = http.post(f"/casework/referrals/{referral.pk}/status/", {"status": "accepted"})
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "made"


@pytest.mark.parametrize("role", [Role.OUTREACH, Role.STAFF, Role.CLINICIAN, Role.ME_OFFICER])
def test_only_case_managers_and_site_managers_do_casework(
    cast: Cast, person: Client, role: str
) -> None:
    http = login(cast[role])
    assert http.get("/casework/").status_code == 403
    assert http.get(f"/casework/client/{person.pk}/").status_code == 403


def test_the_profile_leads_to_the_case_for_people_who_do_casework(
    cast: Cast, person: Client
) -> None:
    services.assign(cast["case_manager"], person, cast["case_manager"])
    text = page(login(cast["case_manager"]).get(f"/clients/{person.pk}/"))
    assert "Case management" in text and "Case manager: you" in text
    assert f"/casework/client/{person.pk}/" in text
    assert "Case management" not in page(login(cast["outreach"]).get(f"/clients/{person.pk}/"))


def test_registration_asks_for_a_number_when_the_person_wants_reminders() -> None:
    data = {
        "gender": "female",
        "injects": "yes",
        "opioid_dependent": "unknown",
        "consent": "on",
        "reminders": "on",
    }
    form = RegistrationForm(data)
    assert not form.is_valid()
    assert form.errors["phone"] == ["Give a number for the reminders, or leave them unticked."]
    assert RegistrationForm({**data, "phone": PHONE}).is_valid()


def test_a_person_who_stopped_a_treatment_is_on_the_lost_to_follow_up_list(cast: Cast) -> None:
    from harbour.casework.services import lost_to_follow_up
    from harbour.clients.models import Client
    from harbour.testing import services as testing

    client = make_client(cast.north, mother="LT")
    treatment = testing.start_treatment(
        None,
        client,
        cast.north,
        condition="hiv",
        start_date=dt.date.today() - dt.timedelta(days=60),
    )
    testing.end_treatment(
        None, treatment, end_date=dt.date.today(), outcome="lost", reason="moved away"
    )
    rows = lost_to_follow_up(Client.objects.filter(pk=client.pk))
    assert len(rows) == 1
    assert "HIV treatment lost to follow-up: moved away" in rows[0].reasons


def test_of_two_referrals_made_the_same_day_the_later_decides_lost_to_follow_up(cast: Cast) -> None:
    from harbour.casework.services import lost_to_follow_up
    from harbour.clients.models import Client

    client = make_client(cast.north, mother="SD")
    first, _ = services.refer(None, client, cast.north, kind="hiv")
    services.update_referral(None, first, status="attended")
    second, _ = services.refer(None, client, cast.north, kind="housing")
    services.update_referral(None, second, status="not_attended", reason="No bus fare")
    rows = lost_to_follow_up(Client.objects.filter(pk=client.pk))
    assert rows and any("Housing" in r for r in rows[0].reasons)
