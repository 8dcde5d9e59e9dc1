"""Recording a whole contact on one screen: equipment, other services, the session."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from harbour.accounts.models import Role
from harbour.clients.models import Client
from harbour.sites.models import SiteKind
from harbour.stock import services as stock
from harbour.stock.models import Balance, Movement
from harbour.visits.models import CatalogueItem, ConsumptionSession, Contact, SiteSession
from tests.factory import Cast, login, make_client, make_site, make_user


def item(code: str) -> CatalogueItem:
    return CatalogueItem.objects.get(code=code)


def on_hand(site: Any, code: str) -> int:
    balance = Balance.objects.filter(site=site, item__code=code).first()
    return balance.on_hand if balance else 0


def stock_up(site: Any, **quantities: int) -> None:
    for code, quantity in quantities.items():
        stock.deliver(None, site, item(code), quantity)


def contact_form(**fields: Any) -> dict[str, Any]:
    """What the contact screen posts: a fresh contact id and today's date, then the inputs."""
    data: dict[str, Any] = {
        "contact_id": str(uuid.uuid4()),
        "date": timezone.localdate().isoformat(),
    }
    data.update(
        {name: str(value) if isinstance(value, int) else value for name, value in fields.items()}
    )
    return data


@pytest.fixture
def person(cast: Cast) -> Client:
    return make_client(cast.north)


def test_a_contact_records_what_was_handed_out_and_takes_it_off_the_sites_stock(
    cast: Cast, person: Client
) -> None:
    stock_up(cast.north, needle_syringe=500, swab=200)
    response = login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(
            qty_needle_syringe=10,
            option_needle_syringe="1 ml 27G",
            secondary_needle_syringe=20,
            qty_swab=30,
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/clients/{person.pk}/"
    assert "60 items handed out" in response.content.decode()
    contact = Contact.objects.get()
    assert contact.client == person and contact.site == cast.north
    assert contact.created_by == cast["staff"]
    handed = sorted(
        (d.item.code, d.quantity, d.option, d.secondary) for d in contact.distributions.all()
    )
    assert handed == [
        ("needle_syringe", 10, "1 ml 27G", False),
        ("needle_syringe", 20, "1 ml 27G", True),
        ("swab", 30, "", False),
    ]
    assert on_hand(cast.north, "needle_syringe") == 470
    assert on_hand(cast.north, "swab") == 170
    out = Movement.objects.filter(kind=Movement.Kind.DISTRIBUTION, contact=contact)
    assert sorted(m.delta for m in out) == [-30, -20, -10]
    assert {m.site for m in out} == {cast.north}
    # What is not handed out is not touched, and another site's stock neither.
    assert on_hand(cast.north, "condom") == 0
    assert not Movement.objects.filter(site=cast.south).exists()


def test_the_other_services_of_a_contact_are_recorded_with_it(cast: Cast, person: Client) -> None:
    login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(
            qty_naloxone_kit=1,
            info_topics=["overdose", "vein_care"],
            naloxone_training="on",
            dropin_services=["meal", "shower", "laundry"],
            returned_equipment=35,
            referral_note="Hepatitis C clinic, Tuesday: wants testing",
        ),
    )
    contact = Contact.objects.get()
    assert contact.info_topics == ["overdose", "vein_care"]
    assert contact.naloxone_training is True
    assert contact.dropin_services == ["meal", "shower", "laundry"]
    assert contact.returned_equipment == 35
    assert contact.referral_note == "Hepatitis C clinic, Tuesday: wants testing"
    assert [(d.item.code, d.quantity) for d in contact.distributions.all()] == [("naloxone_kit", 1)]


def test_new_equipment_is_given_without_asking_for_used_equipment_back(
    cast: Cast, person: Client
) -> None:
    response = login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/", contact_form(qty_needle_syringe=50)
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.returned_equipment is None
    assert contact.distributions.get().quantity == 50


def test_the_contact_screen_offers_every_active_catalogue_item(cast: Cast, person: Client) -> None:
    CatalogueItem.objects.filter(code="lubricant").update(active=False)
    page = login(cast["staff"]).get(f"/visits/contact/{person.pk}/").content.decode()
    for name in ("Needles and syringes", "Naloxone kit", "Condoms", "Fentanyl test strips"):
        assert name in page
    assert "1 ml 29G" in page and "5 ml 21G" in page
    assert "Lubricant" not in page
    assert person.code in page


def test_sending_the_same_contact_twice_records_one_contact_and_takes_stock_once(
    cast: Cast, person: Client
) -> None:
    stock_up(cast.north, needle_syringe=100)
    http = login(cast["staff"])
    form = contact_form(qty_needle_syringe=10, secondary_needle_syringe=5)
    http.post(f"/visits/contact/{person.pk}/", form)
    again = http.post(f"/visits/contact/{person.pk}/", form, follow=True)
    assert "already saved" in again.content.decode()
    assert Contact.objects.count() == 1
    assert on_hand(cast.north, "needle_syringe") == 85
    assert Movement.objects.filter(kind=Movement.Kind.DISTRIBUTION).count() == 2


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("qty_needle_syringe", -5, "Needles and syringes: "),
        ("qty_needle_syringe", 1_000_000, "Needles and syringes: "),
        ("secondary_swab", -1, "Alcohol swabs for others: "),
        ("qty_condom", "a dozen", "Condoms: "),
    ],
)
def test_a_bad_quantity_gets_an_error_naming_the_item_and_nothing_is_saved(
    cast: Cast, person: Client, field: str, value: Any, shown: str
) -> None:
    stock_up(cast.north, needle_syringe=100, swab=100, condom=100)
    before = Movement.objects.count()
    response = login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(qty_naloxone_kit=1, **{field: value}),
    )
    assert response.status_code == 422
    assert shown in response.content.decode()
    assert not Contact.objects.exists()
    assert Movement.objects.count() == before
    assert on_hand(cast.north, "needle_syringe") == 100


def test_a_contact_in_the_future_is_refused(cast: Cast, person: Client) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(qty_needle_syringe=10, date=tomorrow.isoformat()),
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.content.decode()
    assert 'id="id_date_error"' in response.content.decode()
    assert not Contact.objects.exists()
    assert not Movement.objects.exists()


def test_an_earlier_contact_is_recorded_on_its_own_date(cast: Cast, person: Client) -> None:
    last_week = timezone.localdate() - dt.timedelta(days=7)
    login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(qty_needle_syringe=10, date=last_week.isoformat()),
    )
    assert Contact.objects.get().date == last_week
    assert Movement.objects.get(kind=Movement.Kind.DISTRIBUTION).date == last_week


@pytest.fixture
def dcr(cast: Cast) -> Any:
    """A drug consumption room in the region, with one member of staff."""
    room = make_site("DCR-01", SiteKind.DCR, parent=cast.region, name="Harbour Room")
    worker = make_user("dana_dcr", Role.STAFF, room)
    return room, worker


def test_a_drug_consumption_room_records_the_supervised_session(cast: Cast, dcr: Any) -> None:
    room, worker = dcr
    http = login(worker)
    page = http.get("/visits/contact/").content.decode()
    assert "Supervised consumption session" in page and 'name="dcr_started"' in page
    response = http.post(
        "/visits/contact/",
        contact_form(
            qty_needle_syringe=1,
            dcr_started="14:05",
            dcr_ended="14:40",
            dcr_overdose="on",
            dcr_response="Oxygen and one dose of naloxone; recovered on site",
        ),
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.site == room and contact.anonymous
    session = ConsumptionSession.objects.get(contact=contact)
    assert session.started == dt.time(14, 5) and session.ended == dt.time(14, 40)
    assert session.overdose is True
    assert session.response == "Oxygen and one dose of naloxone; recovered on site"


def test_a_consumption_session_cannot_end_before_it_started(cast: Cast, dcr: Any) -> None:
    _, worker = dcr
    response = login(worker).post(
        "/visits/contact/",
        contact_form(qty_needle_syringe=1, dcr_started="14:05", dcr_ended="13:50"),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "cannot end before it started" in page and 'id="id_dcr_ended_error"' in page
    assert not Contact.objects.exists()
    assert not ConsumptionSession.objects.exists()


def test_a_contact_at_a_drug_consumption_room_needs_no_consumption_session(
    cast: Cast, dcr: Any
) -> None:
    _, worker = dcr
    login(worker).post("/visits/contact/", contact_form(dropin_services=["rest"]))
    assert Contact.objects.get().dropin_services == ["rest"]
    assert not ConsumptionSession.objects.exists()


def test_sites_without_a_consumption_room_do_not_show_the_session_fields(
    cast: Cast, person: Client
) -> None:
    page = login(cast["staff"]).get(f"/visits/contact/{person.pk}/").content.decode()
    assert "dcr_started" not in page
    login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(qty_needle_syringe=1, dcr_started="14:05"),
    )
    assert not ConsumptionSession.objects.exists()


def test_the_running_women_only_session_is_preselected_and_carried_by_the_contact(
    cast: Cast, person: Client
) -> None:
    now = timezone.localtime()
    women = SiteSession.objects.create(
        site=cast.north,
        name="Women only",
        weekday=now.weekday(),
        starts=dt.time(0, 0),
        women_only=True,
    )
    SiteSession.objects.create(
        site=cast.north, name="Yesterday's evening", weekday=(now.weekday() - 1) % 7
    )
    SiteSession.objects.create(site=cast.south, name="South women only", women_only=True)
    http = login(cast["staff"])
    page = http.get(f"/visits/contact/{person.pk}/").content.decode()
    assert f'<option value="{women.pk}" selected>Women only</option>' in page
    assert "South women only" not in page
    http.post(
        f"/visits/contact/{person.pk}/",
        contact_form(qty_condom=12, session=str(women.pk)),
    )
    contact = Contact.objects.get()
    assert contact.session == women and contact.session.women_only


def test_a_session_of_another_site_cannot_be_given(cast: Cast, person: Client) -> None:
    south_session = SiteSession.objects.create(site=cast.south, name="South women only")
    response = login(cast["staff"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(qty_condom=12, session=str(south_session.pk)),
    )
    assert response.status_code == 422
    assert 'id="id_session_error"' in response.content.decode()
    assert not Contact.objects.exists()


def test_the_contact_form_for_a_client_of_another_site_is_refused(cast: Cast) -> None:
    elsewhere = make_client(cast.south)
    stock_up(cast.north, needle_syringe=100)
    http = login(cast["staff"])
    assert http.get(f"/visits/contact/{elsewhere.pk}/").status_code == 403
    response = http.post(f"/visits/contact/{elsewhere.pk}/", contact_form(qty_needle_syringe=10))
    assert response.status_code == 403
    assert not Contact.objects.exists()
    assert on_hand(cast.north, "needle_syringe") == 100


def test_an_anonymous_contact_has_no_client(cast: Cast) -> None:
    stock_up(cast.north, needle_syringe=100)
    response = login(cast["staff"]).post(
        "/visits/contact/", contact_form(qty_needle_syringe=10), follow=True
    )
    assert response.redirect_chain[-1][0] == "/clients/"
    assert "Contact saved for an anonymous person" in response.content.decode()
    contact = Contact.objects.get()
    assert contact.client is None and contact.anonymous
    assert on_hand(cast.north, "needle_syringe") == 90


def test_an_outreach_worker_records_a_contact(cast: Cast, person: Client) -> None:
    stock_up(cast.north, needle_syringe=100, naloxone_kit=10)
    login(cast["outreach"]).post(
        f"/visits/contact/{person.pk}/",
        contact_form(qty_needle_syringe=20, qty_naloxone_kit=1, naloxone_training="on"),
    )
    contact = Contact.objects.get()
    assert contact.created_by == cast["outreach"] and contact.naloxone_training
    assert on_hand(cast.north, "needle_syringe") == 80
    assert on_hand(cast.north, "naloxone_kit") == 9


def test_roles_without_client_work_cannot_record_contacts(cast: Cast, person: Client) -> None:
    for role in ("me_officer", "admin"):
        http = login(cast[role])
        assert http.get("/visits/contact/").status_code == 403
        assert http.post("/visits/contact/", contact_form(qty_condom=1)).status_code == 403
    assert not Contact.objects.exists()


def test_the_site_overview_shows_what_was_handed_out_today(cast: Cast, person: Client) -> None:
    http = login(cast["staff"])
    http.post(f"/visits/contact/{person.pk}/", contact_form(qty_needle_syringe=10))
    http.post("/visits/contact/", contact_form(qty_needle_syringe=5, qty_condom=3))
    page = http.get("/visits/site/").content.decode()
    assert "Needles and syringes: <strong>15</strong>" in page
    assert "Condoms: <strong>3</strong>" in page
    assert "of which 1 anonymous" in page


# -- the same form sent twice at the same moment -----------------------------------


def _in_parallel(*jobs: Any) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Any) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_a_form_sent_twice_at_the_same_moment_records_one_contact() -> None:
    from tests.factory import make_cast

    cast = make_cast()
    needles, _ = CatalogueItem.objects.get_or_create(
        code="needle_syringe", defaults={"name": "Needles and syringes"}
    )
    stock.deliver(None, cast.north, needles, 100)
    person = make_client(cast.north)
    form = contact_form(qty_needle_syringe=10)
    statuses: list[int] = []

    def send() -> None:
        http = login(cast["staff"], HttpClient(raise_request_exception=True))
        statuses.append(http.post(f"/visits/contact/{person.pk}/", form).status_code)

    assert _in_parallel(send, send, send) == []
    assert statuses == [302, 302, 302]
    assert Contact.objects.count() == 1
    assert on_hand(cast.north, "needle_syringe") == 90
