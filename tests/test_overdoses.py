"""Overdose reports, and the site's overdose count on its overview."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from harbour.audit.models import AuditEvent
from harbour.visits import services
from harbour.visits.forms import OverdoseForm
from harbour.visits.models import Overdose
from tests.factory import Cast, login, make_cast, make_client


def report(**fields: Any) -> dict[str, str]:
    """What the overdose form posts: a fresh id, today, and the answers given."""
    data = {
        "overdose_id": str(uuid.uuid4()),
        "date": timezone.localdate().isoformat(),
        "source": "staff",
        "client_code": "",
        "naloxone_doses": "0",
        "outcome": "unknown",
        "ems_called": "unknown",
    }
    data.update({name: str(value) for name, value in fields.items()})
    return data


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def test_an_overdose_is_reported_at_the_site_where_staff_work(cast: Cast) -> None:
    response = login(cast["staff"]).post(
        "/visits/overdose/",
        report(naloxone_doses=2, outcome="survived", ems_called="yes", source="peer"),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/visits/site/"
    assert "Overdose report saved" in response.content.decode()
    overdose = Overdose.objects.get()
    assert overdose.site == cast.north and overdose.date == timezone.localdate()
    assert (overdose.naloxone_doses, overdose.outcome, overdose.ems_called) == (
        2,
        "survived",
        "yes",
    )
    assert overdose.source == "peer" and overdose.client is None
    assert overdose.created_by == cast["staff"]
    assert AuditEvent.objects.filter(action="overdose.report", object_id=str(overdose.pk)).exists()


def test_an_overdose_names_a_registered_person_by_the_client_code(cast: Cast) -> None:
    person = make_client(cast.north)
    typed = person.code.lower().replace("-", " ")
    login(cast["outreach"]).post("/visits/overdose/", report(client_code=typed))
    assert Overdose.objects.get().client == person


@pytest.mark.parametrize("code", ["ZZZZZ-ZZZZZ", "not a code", "south"])
def test_a_client_code_not_known_at_the_site_is_an_error_and_nothing_is_saved(
    cast: Cast, code: str
) -> None:
    if code == "south":  # registered, but at a site this worker does not serve
        code = make_client(cast.south).code
    response = login(cast["staff"]).post("/visits/overdose/", report(client_code=code))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_client_code_error"' in page and "No client with that code" in page
    assert not Overdose.objects.exists()


def test_sending_the_same_report_twice_saves_one_overdose(cast: Cast) -> None:
    http = login(cast["staff"])
    form = report(outcome="survived", naloxone_doses=1)
    http.post("/visits/overdose/", form)
    http.post("/visits/overdose/", form)
    assert Overdose.objects.count() == 1
    assert AuditEvent.objects.filter(action="overdose.report").count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", "tomorrow"),
        ("naloxone_doses", "-1"),
        ("naloxone_doses", "500"),
        ("outcome", "arrested"),
        ("ems_called", "maybe"),
    ],
)
def test_a_bad_answer_names_the_field_and_nothing_is_saved(
    cast: Cast, field: str, value: str
) -> None:
    if value == "tomorrow":
        value = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = login(cast["staff"]).post("/visits/overdose/", report(**{field: value}))
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Overdose.objects.exists()


def test_an_overdose_record_has_no_police_field(cast: Cast) -> None:
    fields = [f.name for f in Overdose._meta.get_fields()]
    assert fields and not [name for name in fields if "police" in name.lower()]
    assert not [name for name in OverdoseForm.base_fields if "police" in name.lower()]
    page = login(cast["staff"]).get("/visits/overdose/").content.decode()
    assert 'name="police' not in page.lower()


def test_the_site_overview_shows_the_overdoses_of_the_last_14_days_per_day(cast: Cast) -> None:
    def add(day: dt.date, site: Any = None, **extra: Any) -> None:
        services.report_overdose(None, site or cast.north, date=day, **extra)

    add(days_ago(0), naloxone_doses=2, outcome="survived")
    add(days_ago(0), outcome="died")
    add(days_ago(13))  # the first of the 14 days
    add(days_ago(14))  # one day too old
    add(days_ago(60))
    add(days_ago(0), site=cast.south)  # another site's
    response = login(cast["staff"]).get("/visits/site/")
    page = response.content.decode()
    assert "Overdoses, last 14 days" in page
    assert '<p class="big">3</p>' in page
    assert "1 reversed with naloxone, 1 died" in page
    bars = response.context["overdose_days"]
    assert [d["date"] for d in bars] == [days_ago(n) for n in range(13, -1, -1)]
    assert [d["count"] for d in bars] == [1] + [0] * 12 + [2]
    # The busiest day fills the chart; the others are drawn to scale.
    assert [d["height"] for d in bars] == [50] + [0] * 12 + [100]
    assert 'class="bar h100"' in page and 'class="bar h50"' in page


def test_a_quiet_fortnight_shows_no_overdoses(cast: Cast) -> None:
    services.report_overdose(None, cast.north, date=days_ago(20))
    response = login(cast["staff"]).get("/visits/site/")
    assert re.search(
        r'Overdoses, last 14 days</h2>\s*<p class="big">0</p>', response.content.decode()
    )
    assert all(d["count"] == 0 and d["height"] == 0 for d in response.context["overdose_days"])


def test_an_me_officer_sees_the_overview_but_does_not_report_overdoses(cast: Cast) -> None:
    services.report_overdose(None, cast.north, date=days_ago(1))
    http = login(cast["me_officer"])
    overview = http.get("/visits/site/")
    assert overview.status_code == 200
    assert '<p class="big">1</p>' in overview.content.decode()
    assert http.get("/visits/overdose/").status_code == 403
    assert http.post("/visits/overdose/", report()).status_code == 403
    assert Overdose.objects.count() == 1


def test_another_sites_overview_is_refused(cast: Cast) -> None:
    http = login(cast["staff"])
    assert http.get(f"/visits/site/{cast.north.pk}/").status_code == 200
    assert http.get(f"/visits/site/{cast.south.pk}/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_report_sent_twice_at_the_same_moment_saves_one_overdose() -> None:
    cast = make_cast()
    form = report(outcome="survived", naloxone_doses=1)
    statuses: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def send() -> None:
        try:
            http = login(cast["staff"], HttpClient(raise_request_exception=True))
            start.wait()
            statuses.append(http.post("/visits/overdose/", form).status_code)
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and statuses == [302, 302, 302]
    assert Overdose.objects.count() == 1
