"""What drug checking tells the public, signed out: the alert card, its QR code and
picture, the Atom and JSON feeds partners poll, and the board of recent results.

Nothing public is finer than a region or a week: no sample number, no site, no
person, no day of collection. A draft, or an alert decided against, does not exist.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import resolve as resolve_url
from django.utils import timezone
from PIL import Image

from harbour.accounts import access
from harbour.drugchecking import services
from harbour.drugchecking.dictionary import resolve
from harbour.drugchecking.models import Alert, AlertStatus, FindingRole, Sample
from harbour.sites.models import Organisation, Site
from tests.factory import Cast, login, make_client

ATOM = "{http://www.w3.org/2005/Atom}"


def today() -> dt.date:
    return timezone.localdate()


def page(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def checked(
    cast: Cast,
    expected: str = "heroin",
    found: tuple[tuple[str, str], ...] = (("heroin", "primary"), ("fentanyl", "primary")),
    *,
    site: Site | None = None,
    day: dt.date | None = None,
    region: str | None = None,
    client: Any = None,
) -> Sample:
    sample, _ = services.take_sample(
        cast["staff"],
        site or cast.north,
        date=day or today(),
        expected=[resolve(expected)] if expected else [],
        expected_unknown=not expected,
        form="powder",
        region=region,
        client=client,
    )
    items = []
    for name, role in found:
        substance = resolve(name)
        assert substance is not None, name
        items.append(services.FoundIn(substance, role=role))
    services.record_analysis(cast["staff"], sample, method="ftir", found=items)
    return sample


def the_alert(cast: Cast) -> Alert:
    checked(cast)
    return Alert.objects.get(substance__name="fentanyl", rule="unexpected")


def sent(cast: Cast) -> Alert:
    alert = the_alert(cast)
    return services.publish(
        cast["alert_reviewer"], alert, title="Fentanyl in heroin", message=alert.message
    )


def photo_upload() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 180, 150)).save(out, "JPEG")
    return SimpleUploadedFile("pic.jpg", out.getvalue(), content_type="image/jpeg")


def private_words(cast: Cast) -> list[str]:
    """What must never reach a public page: sample numbers, sites, people."""
    words = [s.number for s in Sample.objects.all()]
    words += [cast.north.code, cast.south.code, cast.north.name, cast.south.name]
    return words


# -- the alert card -------------------------------------------------------------------------


def test_a_draft_or_a_dismissed_alert_has_no_public_card(cast: Cast) -> None:
    alert = the_alert(cast)
    anyone = HttpClient()
    for suffix in ("", "qr.svg", "photo.jpg"):
        assert anyone.get(f"/public/alerts/{alert.pk}/{suffix}").status_code == 404
    services.close(cast["alert_reviewer"], alert, reason="A test sample.")
    assert anyone.get(f"/public/alerts/{alert.pk}/").status_code == 404
    # Not even for staff: a draft is reviewed on the review screen, never published early.
    assert login(cast["staff"]).get(f"/public/alerts/{alert.pk}/").status_code == 404


def test_the_card_of_a_sent_alert_is_open_to_anyone(cast: Cast) -> None:
    Organisation.objects.update_or_create(pk=1, defaults={"name": "Safer Together"})
    alert = sent(cast)
    response = HttpClient().get(f"/public/alerts/{alert.pk}/")
    assert response.status_code == 200
    text = page(response)
    assert "Fentanyl in heroin" in text
    assert "Safer Together" in text
    assert "Region A" in text
    assert "Issued" in text and "Revision 1" in text
    assert "<h2>What to do</h2>" in text  # the message's list, as a list
    assert "<li>Do not use alone." in text
    assert f"http://testserver/public/alerts/{alert.pk}/" in text  # shareable
    assert f'src="/public/alerts/{alert.pk}/qr.svg"' in text
    assert "photo.jpg" not in text  # no picture was taken
    for word in private_words(cast):
        assert word not in text, word


def test_the_qr_code_opens_the_card(cast: Cast) -> None:
    alert = sent(cast)
    response = HttpClient().get(f"/public/alerts/{alert.pk}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)  # noqa: S314 - our own server's output
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")


def test_the_card_shows_the_picture_of_the_sample(cast: Cast) -> None:
    alert = sent(cast)
    sample = alert.signals.get().sample
    services.attach_photo(cast["staff"], sample, photo_upload())
    text = page(HttpClient().get(f"/public/alerts/{alert.pk}/"))
    assert f'src="/public/alerts/{alert.pk}/photo.jpg"' in text
    response = HttpClient().get(f"/public/alerts/{alert.pk}/photo.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (40, 30)


def test_a_withdrawn_alert_says_when_and_why(cast: Cast) -> None:
    alert = sent(cast)
    services.close(cast["alert_reviewer"], alert, reason="The laboratory corrected it.")
    response = HttpClient().get(f"/public/alerts/{alert.pk}/")
    assert response.status_code == 200
    text = page(response)
    assert "Withdrawn on" in text and "because: The laboratory corrected it." in text


def test_an_updated_alert_shows_its_revision(cast: Cast) -> None:
    alert = sent(cast)
    services.revise(cast["alert_reviewer"], alert, title="Fentanyl in heroin: 2", message="New.")
    text = page(HttpClient().get(f"/public/alerts/{alert.pk}/"))
    assert "Revision 2" in text and "Updated" in text


# -- feeds ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["public:alerts_atom", "public:alerts_json"])
def test_the_feeds_are_declared_public(name: str) -> None:
    from django.urls import reverse

    match = resolve_url(reverse(name))
    assert access.declared_capability(match.func) == "public"


def withdrawn_and_sent(cast: Cast) -> tuple[Alert, Alert, Alert]:
    """One sent, one withdrawn, one still a draft."""
    gone = sent(cast)
    services.close(cast["alert_reviewer"], gone, reason="Result corrected.")
    xylazine = resolve("xylazine")
    assert xylazine is not None
    checked(cast, found=(("heroin", "primary"), ("xylazine", "trace")))
    out = Alert.objects.get(substance=xylazine)
    services.publish(cast["alert_reviewer"], out, title="Xylazine in heroin", message=out.message)
    nitazene = checked(cast, found=(("heroin", "primary"), ("isotonitazene", "primary")))
    waiting = Alert.objects.get(signals__sample=nitazene, rule="unexpected")
    assert waiting.status == AlertStatus.DRAFT
    return Alert.objects.get(pk=out.pk), Alert.objects.get(pk=gone.pk), waiting


def test_the_atom_feed_is_valid_and_holds_sent_and_withdrawn_alerts(cast: Cast) -> None:
    out, gone, waiting = withdrawn_and_sent(cast)
    response = HttpClient().get("/public/alerts.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert response["Cache-Control"] == "public, max-age=300"
    feed = ET.fromstring(response.content)  # noqa: S314 - our own server's output
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = {e.findtext(f"{ATOM}id"): e for e in feed.findall(f"{ATOM}entry")}
    assert set(entries) == {f"urn:uuid:{out.pk}", f"urn:uuid:{gone.pk}"}
    for entry in entries.values():
        for required in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{required}") is not None, required
        updated = entry.findtext(f"{ATOM}updated")
        assert updated and dt.datetime.fromisoformat(updated.replace("Z", "+00:00"))
    withdrawn = entries[f"urn:uuid:{gone.pk}"]
    assert withdrawn.findtext(f"{ATOM}title", "").startswith("Withdrawn:")
    assert "Result corrected." in withdrawn.findtext(f"{ATOM}content", "")
    link = entries[f"urn:uuid:{out.pk}"].find(f"{ATOM}link")
    assert link is not None and link.get("href") == f"http://testserver/public/alerts/{out.pk}/"
    text = response.content.decode()
    assert waiting.title not in text
    for word in private_words(cast):
        assert word not in text, word


def test_the_json_feed_follows_json_feed_1_1(cast: Cast) -> None:
    out, gone, _ = withdrawn_and_sent(cast)
    services.revise(cast["alert_reviewer"], out, title="Xylazine in heroin, again", message="x")
    response = HttpClient().get("/public/alerts.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/feed+json"
    assert response["Cache-Control"] == "public, max-age=300"
    feed = json.loads(response.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert {"title", "home_page_url", "feed_url", "items"} <= set(feed)
    assert feed["feed_url"] == "http://testserver/public/alerts.json"
    items = {item["id"]: item for item in feed["items"]}
    assert set(items) == {f"urn:uuid:{out.pk}", f"urn:uuid:{gone.pk}"}
    for item in items.values():
        keys = {"id", "url", "title", "content_text", "date_published", "date_modified"}
        assert keys <= set(item)
        dt.datetime.fromisoformat(item["date_modified"])
    revised = items[f"urn:uuid:{out.pk}"]
    assert revised["_harbour"] == {
        "status": "sent",
        "substance": "xylazine",
        "substance_class": revised["_harbour"]["substance_class"],
        "region": "Region A",
        "revision": 2,
        "rule": "unexpected",
        "withdrawn_at": None,
        "withdrawn_because": None,
    }
    withdrawn = items[f"urn:uuid:{gone.pk}"]
    assert withdrawn["title"].startswith("Withdrawn:")
    assert withdrawn["_harbour"]["status"] == "withdrawn"
    assert "Result corrected." in withdrawn["content_text"]
    text = response.content.decode()
    for word in private_words(cast):
        assert word not in text, word


# -- the results board ----------------------------------------------------------------------


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def test_the_board_shows_week_region_and_what_was_found_never_who_or_where(cast: Cast) -> None:
    person = make_client(cast.north)
    day = today() - dt.timedelta(days=8)
    checked(
        cast,
        found=(("heroin", "primary"), ("fentanyl", "trace"), ("mannitol", "primary")),
        day=day,
        client=person,
    )
    response = HttpClient().get("/public/drug-checking/")
    assert response.status_code == 200
    text = page(response)
    assert f"Week of {monday(day):%-d %b %Y}" in text
    assert "Region A" in text and "Powder" in text
    assert 'fentanyl <span class="tag">trace</span>' in text
    assert "unexpected" in text
    assert "mannitol" in text  # a cut is listed apart, not as what was found
    found = text.split("<dt>Found</dt>", 1)[1].split("</dd>", 1)[0]
    assert "mannitol" not in found
    for word in [*private_words(cast), person.code]:
        assert word not in text, word
    if day != monday(day):
        assert f"{day:%-d %b %Y}" not in text  # never the day itself


def test_a_sample_without_a_result_is_not_on_the_board(cast: Cast) -> None:
    services.take_sample(
        cast["staff"], cast.north, date=today(), expected=[resolve("cocaine")], form="crystal"
    )
    text = page(HttpClient().get("/public/drug-checking/"))
    assert "0 results" in text and "Crystal" not in text


def test_the_board_filters_by_region_and_by_substance(cast: Cast) -> None:
    checked(cast, region="Harbour East")
    checked(cast, expected="cocaine", found=(("cocaine", "primary"),), region="Harbour West")
    anyone = HttpClient()
    text = page(anyone.get("/public/drug-checking/", {"region": "Harbour West"}))
    assert "1 result " in text and "cocaine" in text
    fentanyl = resolve("fentanyl")
    assert fentanyl is not None
    text = page(anyone.get("/public/drug-checking/", {"found": str(fentanyl.pk)}))
    assert "1 result " in text and "Harbour East" in text
    rows = text.split('<ol class="board-list">', 1)[1]
    assert "Harbour West" not in rows


def test_the_board_leads_with_the_alerts_out_now(cast: Cast) -> None:
    alert = sent(cast)
    text = page(HttpClient().get("/public/drug-checking/"))
    assert f'href="/public/alerts/{alert.pk}/"' in text
    assert 'href="/public/alerts.atom"' in text and 'href="/public/alerts.json"' in text


def test_the_board_keeps_to_the_last_twelve_weeks(cast: Cast) -> None:
    checked(cast, day=today() - dt.timedelta(weeks=14), region="Long Ago")
    assert "Long Ago" not in page(HttpClient().get("/public/drug-checking/"))


def test_a_strip_result_shows_as_its_family(cast: Cast) -> None:
    sample, _ = services.take_sample(
        cast["staff"], cast.north, date=today(), expected=[resolve("cocaine")], form="powder"
    )
    services.record_strip(cast["staff"], sample, target="fentanyl", outcome="positive")
    text = page(HttpClient().get("/public/drug-checking/"))
    assert "fentanyl (test strip)" in text and "unexpected" in text


def test_a_percentage_is_not_needed_for_the_board(cast: Cast) -> None:
    heroin = resolve("heroin")
    assert heroin is not None
    sample, _ = services.take_sample(
        cast["staff"], cast.north, date=today(), expected=[heroin], form="powder"
    )
    services.record_analysis(
        cast["staff"],
        sample,
        method="lab",
        found=[services.FoundIn(heroin, role=FindingRole.PRIMARY, percent=Decimal("70"))],
    )
    assert HttpClient().get("/public/drug-checking/").status_code == 200
