"""Drug checking screens: a sample taken in, its strips and laboratory results, the
result given back in plain words, and who may see which samples.

Everything goes through the screens, as the people at the site would use them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django.utils import timezone
from PIL import Image

from harbour.accounts.models import Membership, Role
from harbour.audit.models import AuditEvent
from harbour.drugchecking import services
from harbour.drugchecking.dictionary import resolve
from harbour.drugchecking.models import Analysis, Method, Sample
from harbour.drugchecking.views import client_samples
from harbour.sites.models import Site
from tests.factory import Cast, login, make_client, make_user


def today() -> dt.date:
    return timezone.localdate()


def page(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def intake_body(site: Site, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "expected": "heroin",
        "form": "powder",
        "colour": "brown",
        "markings": "",
        "used_already": "no",
        "effects": "",
        "overdose": "unknown",
        "region": "Region A",
        "date": today().isoformat(),
        "site": site.pk,
        "sample_id": str(uuid.uuid4()),
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def take_in(http: HttpClient, site: Site, **fields: Any) -> Any:
    return http.post("/drug-checking/new/", intake_body(site, **fields))


def a_sample(cast: Cast, site: Site | None = None, expected: str = "heroin", **kw: Any) -> Sample:
    found = resolve(expected)
    sample, _ = services.take_sample(
        cast["staff"], site or cast.north, date=today(), expected=[found] if found else [], **kw
    )
    return sample


def lab(sample: Sample, *names: str, method: str = Method.LAB) -> None:
    found = []
    for name in names:
        substance = resolve(name)
        assert substance is not None, name
        found.append(services.FoundIn(substance))
    services.record_analysis(None, sample, method=method, found=found, date=today())


def url(sample: Sample, what: str = "") -> str:
    return f"/drug-checking/samples/{sample.pk}/{what}"


def components(*rows: tuple[str, str, str], **head: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "method": "lab",
        "date": today().isoformat(),
        "technique": "GC-MS",
        "c-TOTAL_FORMS": "8",
        "c-INITIAL_FORMS": "0",
        "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "8",
    }
    for i in range(8):
        name, role, percent = rows[i] if i < len(rows) else ("", "primary", "")
        data[f"c-{i}-substance"] = name
        data[f"c-{i}-role"] = role
        data[f"c-{i}-percent"] = percent
    data.update(head)
    return data


# -- taking a sample in -------------------------------------------------------------


def test_staff_take_in_a_sample_and_get_its_number_for_the_bag(cast: Cast) -> None:
    http = login(cast["staff"])
    form = http.get("/drug-checking/new/")
    assert form.status_code == 200
    text = page(form)
    assert 'list="substance-names"' in text and '<option value="heroin">' in text
    assert "a region only — never a seller or an address" in text.lower()
    assert 'name="sample_id"' in text

    response = take_in(http, cast.north, expected="heroin; fentanyl", colour="white")
    sample = Sample.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(sample)
    assert sample.number.startswith(f"NTH-01-{today():%y%m%d}-")
    assert sample.site == cast.north
    assert {s.name for s in sample.expected.all()} == {"heroin", "fentanyl"}
    assert sample.expected_as_said == "heroin; fentanyl"
    assert sample.region == "Region A"
    assert sample.client is None
    shown = page(http.get(response["Location"]))
    assert f'<strong class="bag-number">{sample.number}</strong>' in shown
    assert "Awaiting a result" in shown


def test_an_unknown_word_is_pointed_out_and_nothing_typed_is_lost(cast: Cast) -> None:
    http = login(cast["staff"])
    response = take_in(http, cast.north, expected="herion", colour="pale brown")
    assert response.status_code == 422
    text = page(response)
    assert "Not in the substance dictionary: “herion”. Did you mean heroin?" in text
    assert 'id="id_expected_error"' in text
    assert 'value="pale brown"' in text and 'value="herion"' in text
    assert not Sample.objects.exists()


def test_other_and_did_not_know_are_answers_too(cast: Cast) -> None:
    http = login(cast["staff"])
    assert take_in(http, cast.north, expected="other").status_code == 302
    assert take_in(http, cast.north, expected="", expected_unknown="on").status_code == 302
    assert [s.expected_unknown for s in Sample.objects.all()] == [True, True]


def test_what_was_expected_is_asked(cast: Cast) -> None:
    http = login(cast["staff"])
    response = take_in(http, cast.north, expected="")
    assert response.status_code == 422
    assert "Say what the person expected it to be, or tick that they did not know." in page(
        response
    )
    assert not Sample.objects.exists()


def test_a_date_in_the_future_is_refused(cast: Cast) -> None:
    http = login(cast["staff"])
    tomorrow = today() + dt.timedelta(days=1)
    response = take_in(http, cast.north, date=tomorrow.isoformat())
    assert response.status_code == 422
    assert 'id="id_date_error"' in page(response)
    assert "This date is in the future." in page(response)
    assert not Sample.objects.exists()


def test_a_double_submit_takes_the_sample_in_once(cast: Cast) -> None:
    http = login(cast["staff"])
    body = intake_body(cast.north)
    first = http.post("/drug-checking/new/", body)
    again = http.post("/drug-checking/new/", body, follow=True)
    assert Sample.objects.count() == 1
    sample = Sample.objects.get()
    assert first["Location"] == url(sample)
    assert f"This sample was already taken in: {sample.number}." in page(again)


def test_a_sample_followed_up_for_a_client_is_linked_and_its_reading_audited(
    cast: Cast,
) -> None:
    person = make_client(cast.north)
    http = login(cast["staff"])
    form = page(http.get(f"/drug-checking/new/?client={person.pk}"))
    assert person.code in form
    response = http.post(f"/drug-checking/new/?client={person.pk}", intake_body(cast.north))
    sample = Sample.objects.get()
    assert sample.client == person
    before = AuditEvent.objects.filter(action="sample.viewed").count()
    text = page(http.get(response["Location"]))
    assert f'href="/clients/{person.pk}/"' in text and person.code in text
    assert AuditEvent.objects.filter(action="sample.viewed").count() == before + 1
    # The alert reviewer checks samples but never reads a client's record.
    reviewer = page(login(cast["alert_reviewer"]).get(url(sample)))
    assert "Followed up by the programme" in reviewer and person.code not in reviewer
    # The result the person takes away never carries their code.
    assert person.code not in page(http.get(url(sample, "result/")))
    assert list(client_samples(cast["staff"], person)) == [sample]
    assert list(client_samples(cast.sam, person)) == []


def test_a_client_of_another_site_cannot_be_linked(cast: Cast) -> None:
    person = make_client(cast.south)
    http = login(cast["staff"])
    assert http.get(f"/drug-checking/new/?client={person.pk}").status_code == 403
    response = http.post(f"/drug-checking/new/?client={person.pk}", intake_body(cast.north))
    assert response.status_code == 403
    assert not Sample.objects.exists()


def test_a_worker_at_two_sites_chooses_where_and_nowhere_else(cast: Cast) -> None:
    both = make_user("both_sites", Role.STAFF, cast.north)
    Membership.objects.create(user=both, role=Role.STAFF, site=cast.south)
    elsewhere = Site.objects.create(code="EST-01", name="East", parent=cast.region)
    http = login(both)
    assert '<select name="site"' in page(http.get("/drug-checking/new/"))
    assert take_in(http, cast.south).status_code == 302
    assert Sample.objects.get().site == cast.south
    response = take_in(http, elsewhere)
    assert response.status_code == 422 and 'id="id_site_error"' in page(response)
    assert Sample.objects.count() == 1


def test_the_client_profile_section_lists_the_samples_to_follow_up(cast: Cast) -> None:
    person = make_client(cast.north)
    sample = a_sample(cast, client=person)
    html = render_to_string(
        "drugchecking/_client_section.html",
        {"client": person, "drug_samples": client_samples(cast["staff"], person)},
    )
    text = re.sub(r"\s+", " ", html)
    assert f'href="{url(sample)}">{sample.number}</a>' in text
    assert "awaiting a result" in text
    assert f'href="/drug-checking/new/?client={person.pk}"' in text


# -- who may do what -----------------------------------------------------------------


def test_outreach_peers_take_samples_in(cast: Cast) -> None:
    http = login(cast["outreach"])
    assert http.get("/drug-checking/").status_code == 200
    assert take_in(http, cast.north).status_code == 302
    assert Sample.objects.get().created_by == cast["outreach"]


@pytest.mark.parametrize("role", ["me_officer", "admin", "case_manager"])
def test_roles_without_drug_checking_are_refused(cast: Cast, role: str) -> None:
    sample = a_sample(cast)
    http = login(cast[role])
    assert http.get("/drug-checking/").status_code == 403
    assert http.get("/drug-checking/new/").status_code == 403
    assert take_in(http, cast.north).status_code == 403
    assert http.get(url(sample)).status_code == 403
    assert http.get(url(sample, "result/")).status_code == 403
    assert Sample.objects.count() == 1


def test_a_south_sample_is_refused_to_north_staff(cast: Cast) -> None:
    south = a_sample(cast, cast.south)
    north = a_sample(cast, cast.north)
    services.attach_photo(None, south, _jpeg())
    http = login(cast["staff"])
    listing = page(http.get("/drug-checking/"))
    assert north.number in listing and south.number not in listing
    searched = page(http.get(f"/drug-checking/?q={south.number}"))
    assert url(south) not in searched and "No sample number matches" in searched
    for what in ("", "strip/", "analysis/", "result/", "photo.jpg"):
        assert http.get(url(south, what)).status_code == 403, what
    assert http.post(url(south, "strip/"), {"fentanyl": "positive"}).status_code == 403
    assert http.post(url(south, "given-back/")).status_code == 403
    assert http.post(url(south, "photo/"), {"photo": _jpeg()}).status_code == 403
    assert not south.analyses.exists()
    # Sam works at South and sees it.
    assert cast.sam is not None
    assert login(cast.sam).get(url(south)).status_code == 200


# -- the list ------------------------------------------------------------------------


def test_the_list_has_tabs_and_finds_a_number(cast: Cast) -> None:
    waiting = a_sample(cast)
    ready = a_sample(cast, expected="cocaine")
    lab(ready, "cocaine")
    given = a_sample(cast, expected="cocaine")
    lab(given, "cocaine", "mannitol")
    services.give_back(None, given)
    http = login(cast["staff"])

    def numbers(query: str) -> set[str]:
        text = page(http.get(f"/drug-checking/{query}"))
        return {s.number for s in (waiting, ready, given) if s.number in text}

    assert numbers("") == {waiting.number, ready.number, given.number}
    assert numbers("?show=waiting") == {waiting.number}
    assert numbers("?show=ready") == {ready.number}
    text = page(http.get("/drug-checking/"))
    assert "Take in a sample" in text
    assert "Result ready to give back" in text and "Result given back" in text
    # The summary names what was found, not the cut.
    row = text.split(given.number, 1)[1].split("</tr>")[0]
    assert "cocaine" in row and "mannitol" not in row
    response = http.get(f"/drug-checking/?q={ready.number.lower()}")
    assert response.status_code == 302 and response["Location"] == url(ready)


# -- strips and laboratory results ---------------------------------------------------


def test_several_strips_at_once(cast: Cast) -> None:
    sample = a_sample(cast)
    http = login(cast["outreach"])
    form = page(http.get(url(sample, "strip/")))
    assert "Fentanyl strip" in form and "Nitazene strip" in form
    response = http.post(
        url(sample, "strip/"),
        {"fentanyl": "positive", "benzodiazepine": "negative", "date": today().isoformat()},
    )
    assert response.status_code == 302
    strips = {(a.strip_target, a.strip_outcome) for a in sample.analyses.all()}
    assert strips == {("fentanyl", "positive"), ("benzodiazepine", "negative")}
    text = page(http.get(url(sample)))
    assert "Strip results recorded: fentanyl positive, benzodiazepine negative." in text
    assert "Fentanyl test strip</strong>: Positive: found" in text


def test_a_second_tap_on_record_records_each_strip_once(cast: Cast) -> None:
    sample = a_sample(cast)
    http = login(cast["staff"])
    shown = re.search(
        r'name="submission" value="([0-9a-f-]+)"', page(http.get(url(sample, "strip/")))
    )
    assert shown is not None
    body = {"fentanyl": "positive", "date": today().isoformat(), "submission": shown.group(1)}
    for _ in range(2):
        assert http.post(url(sample, "strip/"), body).status_code == 302
    assert sample.analyses.count() == 1


def test_no_strip_chosen_is_said(cast: Cast) -> None:
    sample = a_sample(cast)
    response = login(cast["staff"]).post(url(sample, "strip/"), {"date": today().isoformat()})
    assert response.status_code == 422
    assert "Choose a result for at least one strip." in page(response)
    assert not sample.analyses.exists()


def test_a_laboratory_result_with_three_substances(cast: Cast) -> None:
    sample = a_sample(cast)
    http = login(cast["staff"])
    assert http.get(url(sample, "analysis/")).status_code == 200
    rows = [("heroin", "primary", "40"), ("fentanyl", "trace", ""), ("caffeine", "primary", "20")]
    response = http.post(url(sample, "analysis/"), components(*rows))
    assert response.status_code == 302
    analysis = Analysis.objects.get(sample=sample)
    assert analysis.method == "lab" and analysis.technique == "GC-MS"
    found = {(f.substance.name, f.role, f.percent) for f in analysis.findings.all()}
    assert {(n, r) for n, r, _ in found} == {
        ("heroin", "primary"),
        ("fentanyl", "trace"),
        ("caffeine", "primary"),
    }
    assert "Laboratory (e.g. GC-MS) result recorded: 3 substances." in page(http.get(url(sample)))


def test_errors_name_the_row_and_keep_what_was_typed(cast: Cast) -> None:
    sample = a_sample(cast)
    http = login(cast["staff"])
    rows = [("heroin", "primary", "40"), ("fentanly", "primary", ""), ("heroin", "trace", "")]
    response = http.post(url(sample, "analysis/"), components(*rows))
    assert response.status_code == 422
    text = page(response)
    assert "Row 2, substance: “fentanly” is not in the substance dictionary." in text
    assert "Did you mean fentanyl?" in text
    assert 'id="id_c-1-substance_error"' in text
    assert 'value="fentanly"' in text and 'value="40"' in text
    assert not sample.analyses.exists()

    rows = [("heroin", "primary", "40"), ("heroin", "trace", "")]
    text = page(http.post(url(sample, "analysis/"), components(*rows)))
    assert "Row 2, substance: heroin is already in row 1." in text

    rows = [("heroin", "primary", "70"), ("caffeine", "primary", "50")]
    text = page(http.post(url(sample, "analysis/"), components(*rows)))
    assert "The percentages add up to more than 100." in text

    text = page(http.post(url(sample, "analysis/"), components(("", "primary", "30"))))
    assert "Row 1, substance: Name the substance this percentage is for." in text

    text = page(http.post(url(sample, "analysis/"), components()))
    assert "Add at least one substance, or tick “nothing detected”." in text

    both = components(("heroin", "primary", ""), nothing_found="on")
    assert "untick “nothing detected”" in page(http.post(url(sample, "analysis/"), both))
    assert not sample.analyses.exists()


# -- the result given back -----------------------------------------------------------


def test_heroin_expected_and_fentanyl_found_says_so_in_words(cast: Cast) -> None:
    sample = a_sample(cast, expected="heroin")
    lab(sample, "heroin", "fentanyl", "mannitol", method=Method.FTIR)
    services.record_strip(None, sample, target="fentanyl", outcome="positive")
    text = page(login(cast["outreach"]).get(url(sample, "result/")))
    assert sample.number in text
    assert "You expected</h2> <p>Heroin</p>" in text
    fentanyl = text.split('<strong class="dc-name">fentanyl</strong>', 1)[1].split("</li>")[0]
    assert "Not what you expected" in fentanyl
    heroin = text.split('<strong class="dc-name">heroin</strong>', 1)[1].split("</li>")[0]
    assert "Not what you expected" not in heroin
    assert "Something you did not expect was found" in text
    assert "Fentanyl or a drug like it was found" in text
    assert "Have naloxone ready" in text
    # Cuts are listed apart, in smaller words.
    assert 'class="dc-also"' in text and "mannitol" in text.split('class="dc-also"')[1]
    assert (
        '<strong>Fentanyl</strong>: found <span class="dc-flag">Not what you expected</span>'
        in text
    )
    assert "Tested with test strips and an FTIR spectrometer." in text


def test_nothing_found_says_what_that_means(cast: Cast) -> None:
    sample = a_sample(cast, expected="cocaine")
    lab(sample)
    text = page(login(cast["staff"]).get(url(sample, "result/")))
    assert "No drug was found" in text
    assert "That does not make your drug safe" in text


def test_the_result_is_given_back_once_there_is_one(cast: Cast) -> None:
    sample = a_sample(cast)
    http = login(cast["staff"])
    assert "The result is not ready yet." in page(http.get(url(sample, "result/")))
    early = http.post(url(sample, "given-back/"), follow=True)
    assert "There is no result to give back yet." in page(early)
    sample.refresh_from_db()
    assert sample.given_back_at is None
    lab(sample, "heroin")
    assert "Result given back" in page(http.get(url(sample)))
    done = http.post(url(sample, "given-back/"), follow=True)
    assert f"Result of {sample.number} given back." in page(done)
    sample.refresh_from_db()
    assert sample.given_back_at is not None
    assert http.get(url(sample, "given-back/")).status_code == 405


# -- the photo -----------------------------------------------------------------------


def _jpeg(gps: bool = True) -> io.BytesIO:
    """A picture as a phone takes it: with the place it was taken in its EXIF."""
    image = Image.new("RGB", (64, 48), (180, 140, 90))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 40.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    out.seek(0)
    out.name = "sample.jpg"
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(0x8825)
    return out


def test_a_photo_is_kept_without_the_place_it_was_taken(cast: Cast) -> None:
    sample = a_sample(cast)
    http = login(cast["staff"])
    assert http.get(url(sample, "photo.jpg")).status_code == 404
    response = http.post(url(sample, "photo/"), {"photo": _jpeg()})
    assert response.status_code == 302
    picture = http.get(url(sample, "photo.jpg"))
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/jpeg"
    assert picture["Cache-Control"] == "private, no-store"
    kept = Image.open(io.BytesIO(picture.content))
    assert kept.size == (64, 48)
    assert not kept.getexif()
    assert b"Exif" not in picture.content and b"PhoneMaker" not in picture.content
    assert f'src="{url(sample, "photo.jpg")}"' in page(http.get(url(sample)))


def test_a_photo_at_intake_and_a_file_that_is_not_one(cast: Cast) -> None:
    http = login(cast["staff"])
    assert take_in(http, cast.north, photo=_jpeg()).status_code == 302
    assert not Image.open(io.BytesIO(bytes(Sample.objects.get().photo.jpeg))).getexif()

    junk = io.BytesIO(b"not a picture")
    junk.name = "notes.jpg"
    response = take_in(http, cast.north, photo=junk, colour="grey")
    assert response.status_code == 422
    assert "This file is not a picture Harbour can read." in page(response)
    assert 'value="grey"' in page(response)
    assert Sample.objects.count() == 1  # the intake is undone with its picture

    sample = Sample.objects.get()
    junk.seek(0)
    response = http.post(url(sample, "photo/"), {"photo": junk})
    assert response.status_code == 422
    assert 'id="photo_photo_error"' in page(response)
