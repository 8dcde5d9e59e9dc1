"""Capture–recapture: Chapman's estimate by hand, reading lists of UICs, and the page.

The page must keep nothing of the lists: no UIC, no pseudonym, no row but the audit
entries (counts only) and, when asked, the population estimate.

Formulae (Chapman 1951; as in the R package recapr, NChapman and vChapman):
N = (n1+1)(n2+1)/(m+1) − 1, Var = (n1+1)(n2+1)(n1−m)(n2−m)/((m+1)²(m+2)).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from harbour.audit.models import AuditEvent
from harbour.clients import pseudonym as ps
from harbour.clients.uic import DEFAULT_SCHEME
from harbour.reports import forms as report_forms
from harbour.reports.capture import (
    EmptyList,
    ListError,
    chapman,
    match,
    read_list,
    whole,
)
from harbour.reports.forms import sign_counts
from harbour.reports.indicators import compute
from harbour.reports.models import Population, PopulationEstimate
from harbour.sites.models import Organisation
from tests.factory import Cast, login

PAGE = "/reports/capture-recapture/"
YEAR = timezone.localdate().year

# Twelve people, as a UIC each: mother, father, sex, year of birth, birth order.
PEOPLE = [
    "ANJOF891",
    "BEPAM902",
    "CAREF851",
    "DILUM773",
    "ELMAF994",
    "FRTOM881",
    "GISAF012",
    "HAVIM923",
    "IRKAF874",
    "JUNOM955",
    "KAPEF836",
    "LOSIM797",
]
# First list: people 0–7; second list: people 4–11. Both: 4–7.
FIRST = PEOPLE[:8]
SECOND = PEOPLE[4:]


def lines(uics: list[str]) -> str:
    return "\n".join(uics) + "\n"


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-6)


# --- the estimator, by hand -------------------------------------------------------------


def test_chapman_with_100_and_100_people_and_20_on_both() -> None:
    # recapr's example, NChapman(n1=100, n2=100, m2=20):
    # N   = 101·101/21 − 1 = 10201/21 − 1 = 485.761905 − 1 = 484.761905
    # Var = 101·101·80·80/(21²·22) = 65286400/9702 = 6729.169243
    # √Var = 82.031514; 1.96·√Var = 160.781767
    # CI  = 484.761905 ± 160.781767 = 323.980138 to 645.543672 (above 180 seen: kept)
    found = chapman(100, 100, 20)
    assert found.n == approx(10201 / 21 - 1)
    assert found.n == pytest.approx(484.761905, abs=1e-6)
    assert found.variance == pytest.approx(6729.169243, abs=1e-6)
    assert found.lower == pytest.approx(323.980138, abs=1e-5)
    assert found.upper == pytest.approx(645.543672, abs=1e-5)
    assert (found.seen, found.clipped, found.few_recaptures) == (180, False, False)
    assert (whole(found.n), whole(found.lower), whole(found.upper)) == (485, 324, 646)


def test_the_lower_end_is_raised_to_the_number_of_people_seen() -> None:
    # n1 = n2 = 10, m = 5: N = 11·11/6 − 1 = 121/6 − 1 = 19.166667
    # Var = 11·11·5·5/(6²·7) = 3025/252 = 12.003968; 1.96·√Var = 6.790747
    # CI = 12.375920 to 25.957414; seen = 10 + 10 − 5 = 15 > 12.38: the lower end is 15.
    found = chapman(10, 10, 5)
    assert found.n == approx(121 / 6 - 1)
    assert found.variance == approx(3025 / 252)
    assert found.upper == approx(121 / 6 - 1 + 1.96 * math.sqrt(3025 / 252))
    assert found.lower == 15
    assert found.clipped
    assert found.few_recaptures  # 5 < 7


def test_with_nobody_on_both_lists_the_estimate_is_defined_but_its_interval_is_not_trusted() -> (
    None
):
    # n1 = n2 = 3, m = 0: N = 4·4/1 − 1 = 15; Var = 4·4·3·3/(1²·2) = 72
    # CI = 15 ± 1.96·8.485281 = 15 ± 16.631151: −1.63 is raised to the 6 people seen.
    found = chapman(3, 3, 0)
    assert found.n == 15
    assert found.variance == 72
    assert found.lower == 6
    assert found.upper == approx(15 + 1.96 * math.sqrt(72))
    assert found.interval_unreliable


def test_when_everyone_is_on_both_lists_there_is_no_one_else() -> None:
    # n1 = n2 = m = 40: N = 41·41/41 − 1 = 40; Var has (n1 − m) = 0.
    found = chapman(40, 40, 40)
    assert (found.n, found.variance, found.lower, found.upper) == (40, 0, 40, 40)


@pytest.mark.parametrize(("n1", "n2", "m"), [(-1, 5, 0), (5, 5, 6), (3, 10, 4)])
def test_counts_that_cannot_be_are_refused(n1: int, n2: int, m: int) -> None:
    with pytest.raises(ValueError):
        chapman(n1, n2, m)


def test_people_are_rounded_to_the_nearest_whole_halves_up() -> None:
    assert [whole(x) for x in (2.5, 3.5, 4.49, 0.5)] == [3, 4, 4, 1]


# --- reading a list ---------------------------------------------------------------------


def test_a_list_is_read_as_pseudonyms_the_way_harbour_finds_a_returning_client(
    db: None,
) -> None:
    people = read_list("anjo f 89 1\n\nBE-PA-M-90-2\n", DEFAULT_SCHEME)
    key = ps.current_key()
    expected = {
        ps.digests(DEFAULT_SCHEME.split(uic), key).pseudonym for uic in ("ANJOF891", "BEPAM902")
    }
    assert people.pseudonyms == expected
    assert (len(people), people.lines, people.repeated) == (2, 2, 0)


def test_a_person_listed_twice_is_counted_once(db: None) -> None:
    people = read_list("ANJOF891\nanjof891\nBEPAM902\n", DEFAULT_SCHEME)
    assert (len(people), people.lines, people.repeated) == (2, 3, 1)


@pytest.mark.parametrize(
    "text",
    [
        "uic\nANJOF891\nBEPAM902\n",
        "\ufeffUIC\nANJOF891\nBEPAM902\n",
        "site,uic,date\nNTH-01,ANJOF891,2025-03-01\nNTH-01,BEPAM902,2025-03-02\n",
        "date;UIC\n2025-03-01;ANJOF891\n2025-03-02;BEPAM902\n",
        "uic\tnote\nANJOF891\tweek 1\nBEPAM902\t\n",
    ],
    ids=["header", "bom", "csv-comma", "csv-semicolon", "tab"],
)
def test_a_list_may_be_a_column_headed_uic(db: None, text: str) -> None:
    assert len(read_list(text, DEFAULT_SCHEME)) == 2


def test_a_line_that_is_not_a_uic_is_named_by_its_number_never_by_its_text(db: None) -> None:
    with pytest.raises(ListError) as caught:
        read_list("ANJOF891\n\nANJOF8\nANJOQ891\n", DEFAULT_SCHEME)
    message = str(caught.value)
    assert message.startswith("line 3 is not a UIC (must have 8 characters")
    assert "line 4 is not a UIC (sex: choose one of the options)" in message
    assert "ANJO" not in message


def test_many_bad_lines_are_summed_up_after_the_first_five(db: None) -> None:
    with pytest.raises(ListError) as caught:
        read_list("\n".join(["X"] * 9), DEFAULT_SCHEME)
    message = str(caught.value)
    assert "line 5 is not a UIC" in message
    assert "line 6" not in message
    assert message.endswith("; and 4 more lines.")


def test_a_csv_without_a_uic_column_says_how_to_name_it(db: None) -> None:
    with pytest.raises(ListError, match="none is headed “uic”"):
        read_list("code,date\nANJOF891,2025-01-01\n", DEFAULT_SCHEME)


@pytest.mark.parametrize("text", ["", "\n  \n", "uic\n", "site,uic\nNTH-01,\n"])
def test_a_list_naming_nobody_is_empty(db: None, text: str) -> None:
    with pytest.raises(EmptyList):
        read_list(text, DEFAULT_SCHEME)


def test_matching_counts_the_people_on_both_lists(db: None) -> None:
    found = match(read_list(lines(FIRST), DEFAULT_SCHEME), read_list(lines(SECOND), DEFAULT_SCHEME))
    assert (found.estimate.n1, found.estimate.n2, found.estimate.m) == (8, 8, 4)
    assert found.near == 0
    assert found.if_near_match is None


def test_uics_that_differ_in_one_part_only_are_pointed_out_as_possible_typing_errors(
    db: None,
) -> None:
    # ANJOF891 and ANJOF881 differ in the year only; CAREF851 and CAREM851 in sex only.
    first = read_list("ANJOF891\nCAREF851\nDILUM773\n", DEFAULT_SCHEME)
    second = read_list("ANJOF881\nCAREM851\nDILUM773\nZZZZX001\n", DEFAULT_SCHEME)
    found = match(first, second)
    assert found.estimate.m == 1
    assert found.near == 2
    assert found.if_near_match == chapman(3, 4, 3)


# --- the page ----------------------------------------------------------------------------


def _rows() -> dict[str, int]:
    """The number of rows of every model whose table exists."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.db_table in tables
    }


def _dump() -> str:
    """Every row of every table, as text, on either database."""
    with connection.cursor() as cursor:
        rows = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows.extend(repr(row) for row in cursor.fetchall())
    assert len(rows) > 100  # the cast, the catalogue, the dictionary at least
    return "\n".join(rows)


def _leaks(uics: list[str]) -> Iterator[str]:
    """The forms in which a list's people could have been kept: as typed, or pseudonymised."""
    key = ps.current_key()
    for uic in uics:
        yield uic
        digests = ps.digests(DEFAULT_SCHEME.split(uic), key)
        yield digests.pseudonym
        yield from digests.partials


@pytest.fixture
def officer(cast: Cast) -> HttpClient:
    return login(cast["me_officer"])


def test_an_me_officer_matches_two_pasted_lists_and_reads_the_estimate(
    cast: Cast, officer: HttpClient
) -> None:
    # n1 = n2 = 8, m = 4: N = 9·9/5 − 1 = 15.2; Var = 81·4·4/(25·6) = 8.64
    # CI = 15.2 ± 1.96·2.939388 = 9.439 to 20.961; 12 seen, so 12 to 20.961: 12 to 21.
    # The second list is typed differently: lower case, spaces, dashes.
    second = "\n".join(uic[:2] + " " + uic[2:4].lower() + "-" + uic[4:] for uic in SECOND)
    response = officer.post(PAGE, {"list1": lines(FIRST), "list2": second, "action": "estimate"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "About 15 people" in page
    assert "<dt>On both lists</dt><dd>4 people</dd>" in page
    assert "<dt>Seen at least once</dt><dd>12 people</dd>" in page
    assert "<dt>95% confidence interval</dt><dd>12 to 21</dd>" in page
    assert "Only 4 people are on both lists." in page
    assert "The interval starts at 12, the number of people actually seen" in page
    # The lists are not sent back.
    for uic in FIRST + SECOND:
        assert uic not in page


def test_the_page_states_the_assumptions_in_plain_words(officer: HttpClient) -> None:
    page = officer.get(PAGE).content.decode()
    for words in (
        "Nobody joins or leaves in between.",
        "The two lists are independent.",
        "Everyone is equally likely to be on each list.",
        "UICs are matched without error.",
        "the overlap looks smaller and the estimate bigger",
        "Both lists are from the same area and the same time.",
    ):
        assert words in page


def test_lists_are_uploaded_as_files_too(officer: HttpClient) -> None:
    csv = "date,uic\n" + "".join(f"2025-03-0{i % 9 + 1},{uic}\n" for i, uic in enumerate(SECOND))
    response = officer.post(
        PAGE,
        {
            "file1": SimpleUploadedFile("week1.txt", lines(FIRST).encode(), "text/plain"),
            "file2": SimpleUploadedFile("week3.csv", csv.encode("utf-8-sig"), "text/csv"),
            "action": "estimate",
        },
    )
    assert response.status_code == 200
    assert "<dt>On both lists</dt><dd>4 people</dd>" in response.content.decode()


def test_nobody_on_both_lists_is_said_plainly(officer: HttpClient) -> None:
    response = officer.post(PAGE, {"list1": lines(PEOPLE[:3]), "list2": lines(PEOPLE[3:6])})
    page = response.content.decode()
    assert "About 15 people" in page  # 4·4/1 − 1
    assert "Nobody is on both lists." in page
    assert "its interval cannot be trusted" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"list1": "ANJOF891\nnot a uic\n", "list2": lines(SECOND)},
            "list1",
            "The first list: line 2 is not a UIC",
        ),
        (
            {"list1": lines(FIRST), "list2": "BEPAM902\nBEPAM9\n"},
            "list2",
            "The second list: line 2 is not a UIC (must have 8 characters",
        ),
        ({"list1": "", "list2": lines(SECOND)}, "list1", "The first list is empty"),
        ({"list1": lines(FIRST), "list2": "\n\n"}, "list2", "The second list is empty"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_list_and_the_line(
    officer: HttpClient, data: dict[str, str], field: str, message: str
) -> None:
    before = AuditEvent.objects.count()
    response = officer.post(PAGE, data)
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert "About " not in page
    assert AuditEvent.objects.count() == before


def test_a_list_pasted_and_uploaded_at_once_is_refused(officer: HttpClient) -> None:
    response = officer.post(
        PAGE,
        {
            "list1": lines(FIRST),
            "file1": SimpleUploadedFile("a.txt", lines(FIRST).encode()),
            "list2": lines(SECOND),
        },
    )
    assert response.status_code == 422
    assert "The first list: paste the UICs or choose a file, not both." in response.content.decode()


def test_a_file_too_large_is_refused_and_never_written_to_disk(
    officer: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_forms, "MAX_UPLOAD", 40)
    response = officer.post(
        PAGE,
        {
            "file1": SimpleUploadedFile("big.txt", lines(PEOPLE).encode()),
            "list2": lines(SECOND),
        },
    )
    assert response.status_code == 422
    assert "The first list: the file is larger than" in response.content.decode()


def test_the_lists_are_kept_nowhere_and_only_counts_are_audited(
    cast: Cast, officer: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    Organisation.get()  # the programme's settings (its UIC scheme), made on first use
    before = _rows()
    response = officer.post(PAGE, {"list1": lines(FIRST), "list2": lines(SECOND)})
    assert response.status_code == 200
    after = _rows()
    changed = {
        label: after[label] - before[label] for label in after if after[label] != before[label]
    }
    # One audit entry (and the audit chain's head, kept in step with it).
    assert changed.pop("audit.AuditEvent") == 1
    changed.pop("audit.ChainHead", None)
    assert changed == {}
    event = AuditEvent.objects.get(action="population.capture_recapture")
    assert event.actor == cast["me_officer"]
    assert event.detail == {"n1": 8, "n2": 8, "m": 4, "lines": [8, 8], "estimate": 15}
    dump = _dump()
    sessions = " ".join(str(s.get_decoded()) for s in Session.objects.all())
    logged = caplog.text
    for leak in _leaks(PEOPLE):
        assert leak not in dump
        assert leak not in sessions
        assert leak not in logged


def test_the_estimate_is_saved_as_the_pwid_estimate_for_a_year_and_site(
    cast: Cast, officer: HttpClient
) -> None:
    found = officer.post(PAGE, {"list1": lines(FIRST), "list2": lines(SECOND)})
    token = found.context["save_form"].initial["counts"]
    Organisation.get()
    before = _rows()
    response = officer.post(
        PAGE,
        {"action": "save", "counts": token, "year": str(YEAR), "site": str(cast.north.pk)},
        follow=True,
    )
    assert f"Saved 15 as the number of people who inject drugs in {YEAR}, for North Centre." in (
        response.content.decode()
    )
    after = _rows()
    changed = {
        label: after[label] - before[label] for label in after if after[label] != before[label]
    }
    changed.pop("audit.ChainHead", None)
    assert changed == {"reports.PopulationEstimate": 1, "audit.AuditEvent": 1}
    saved = PopulationEstimate.objects.get()
    assert (saved.population, saved.year, saved.site, saved.estimate) == (
        Population.PWID,
        YEAR,
        cast.north,
        15,
    )
    event = AuditEvent.objects.get(action="population_estimate.save")
    assert event.detail == {
        "population": "pwid",
        "year": YEAR,
        "site": "NTH-01",
        "estimate": 15,
        "previous": None,
        "method": "capture-recapture (Chapman)",
        "n1": 8,
        "n2": 8,
        "m": 4,
        "lower": 12,
        "upper": 21,
    }
    dump = _dump()
    for leak in _leaks(PEOPLE):
        assert leak not in dump
    # The indicators use it: PRV.10.population now has its denominator.
    assert "PRV.10.population" in compute(str(YEAR), "NTH-01")["indicators"]


def test_saving_again_replaces_the_estimate_and_audits_the_number_replaced(
    cast: Cast, officer: HttpClient
) -> None:
    PopulationEstimate.objects.create(
        population=Population.PWID, year=YEAR, site=cast.north, estimate=900
    )
    response = officer.post(
        PAGE,
        {
            "action": "save",
            "counts": sign_counts(100, 100, 20),
            "year": str(YEAR),
            "site": str(cast.north.pk),
        },
        follow=True,
    )
    assert "Saved 485 as the number of people who inject drugs" in response.content.decode()
    assert "in place of 900." in response.content.decode()
    assert PopulationEstimate.objects.get().estimate == 485
    assert AuditEvent.objects.get(action="population_estimate.save").detail["previous"] == 900


def test_a_programme_wide_officer_saves_for_the_whole_programme(cast: Cast) -> None:
    officer = cast["me_officer"]
    officer.memberships.update(site=None)
    http = login(officer)
    response = http.post(
        PAGE, {"action": "save", "counts": sign_counts(8, 8, 4), "year": str(YEAR), "site": ""}
    )
    assert response.status_code == 302
    saved = PopulationEstimate.objects.get()
    assert (saved.site, saved.estimate) == (None, 15)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"site": "", "counts": "ok"}, "This field is required"),  # whole programme: not theirs
        ({"site": "south", "counts": "ok"}, "Select a valid choice"),  # not one of their sites
        ({"counts": "tampered"}, "This result cannot be read"),
        ({"year": "1700", "counts": "ok"}, "greater than or equal to 1990"),
        ({"year": str(YEAR + 2), "counts": "ok"}, f"less than or equal to {YEAR + 1}"),
    ],
)
def test_a_save_outside_the_officers_sites_or_with_a_forged_result_is_refused(
    cast: Cast, officer: HttpClient, data: dict[str, str], message: str
) -> None:
    post = {"action": "save", "year": str(YEAR), "site": str(cast.north.pk)}
    post.update(data)
    if post["site"] == "south":
        post["site"] = str(cast.south.pk)
    if post["counts"] == "ok":
        post["counts"] = sign_counts(8, 8, 4)
    response = officer.post(PAGE, post)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not PopulationEstimate.objects.exists()
    assert not AuditEvent.objects.filter(action="population_estimate.save").exists()


def test_the_page_checks_the_csrf_token_though_it_sets_its_own_upload_handler(
    cast: Cast,
) -> None:
    http = login(cast["me_officer"], HttpClient(enforce_csrf_checks=True))
    response = http.post(PAGE, {"list1": lines(FIRST), "list2": lines(SECOND)})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="population.capture_recapture").exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("me_officer", 200),
        ("site_manager", 200),
        ("admin", 200),
        ("staff", 403),
        ("outreach", 403),
        ("clinician", 403),
        ("case_manager", 403),
        ("alert_reviewer", 403),
    ],
)
def test_people_who_see_aggregates_reach_the_page_and_no_one_else(
    cast: Cast, role: str, status: int
) -> None:
    assert login(cast[role]).get(PAGE).status_code == status


def test_the_page_is_not_cached_by_the_browser(officer: HttpClient) -> None:
    response = officer.get(PAGE)
    assert "no-store" in response["Cache-Control"]


def test_the_error_stream_holds_no_uic(officer: HttpClient) -> None:
    # A malformed list is answered without echoing its bad line anywhere but the
    # textarea the person typed it in.
    response = officer.post(PAGE, {"list1": "ANJOF891\nQQQQQQQQ\n", "list2": lines(SECOND)})
    page = response.content.decode()
    errors = page[page.index('id="id_list1_error"') :]
    errors = errors[: errors.index("</p>")]
    assert "QQQQ" not in errors
    assert StringIO(page).read().count("QQQQQQQQ") == 1  # the textarea only
