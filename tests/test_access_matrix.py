"""Every role × every endpoint × own site / other site.

The expectations below are written out by hand, not derived from the policy in
harbour/accounts/access.py, so a change to the policy that nobody meant shows here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from harbour.accounts.models import Role
from harbour.casework import services as casework
from harbour.casework.models import Appointment, PartnerService, Referral
from harbour.clients.models import Client, Merge
from harbour.drugchecking import services as drugchecking
from harbour.drugchecking.dictionary import resolve
from harbour.drugchecking.models import Alert, Sample
from harbour.ost import services as ost
from harbour.ost.models import Episode
from harbour.testing import services as testing
from harbour.testing.models import Test, Treatment
from harbour.visits.models import SiteSession
from tests.factory import Cast, form_data, login, make_client, today, uic

OUTREACH, STAFF, CLINICIAN, CASE, MANAGER, ME, ADMIN, REVIEWER = (
    Role.OUTREACH,
    Role.STAFF,
    Role.CLINICIAN,
    Role.CASE_MANAGER,
    Role.SITE_MANAGER,
    Role.ME_OFFICER,
    Role.ADMIN,
    Role.ALERT_REVIEWER,
)
FRONT_LINE = {OUTREACH, STAFF, CLINICIAN, CASE, MANAGER}
EVERYONE = set(Role)
# Drug checking: peers with strips, site staff, clinicians, managers, and the reviewer.
SAMPLES = {OUTREACH, STAFF, CLINICIAN, MANAGER, REVIEWER}


@dataclass
class World:
    cast: Cast
    own: Client  # registered at North, where every role of the cast works
    other: Client  # registered at South only
    merge: Merge
    session: SiteSession
    episodes: dict[object, Episode]
    referrals: dict[object, Referral]
    appointments: dict[object, Appointment]
    partner: PartnerService
    lab_tests: dict[object, Test]
    treatments: dict[object, Treatment]
    samples: dict[object, Sample]  # a sample with a result and a picture at the client's site
    draft: Alert
    sent: Alert

    def episode_for(self, client: Client) -> Episode:
        return self.episodes[client.pk]

    def sample(self, client: Client) -> str:
        return f"/drug-checking/samples/{self.samples[client.pk].pk}/"


@dataclass
class Endpoint:
    name: str
    allowed: set[str]  # roles allowed, for a record at their own site
    call: Callable[[HttpClient, World, Client], int]
    per_client: bool = True  # False: the endpoint is not about one client record


def get(path: Callable[[World, Client], str]) -> Callable[[HttpClient, World, Client], int]:
    return lambda http, w, c: http.get(path(w, c)).status_code


def post(
    path: Callable[[World, Client], str], data: Callable[[World, Client], dict] | None = None
) -> Callable[[HttpClient, World, Client], int]:
    return lambda http, w, c: http.post(path(w, c), (data or (lambda *_: {}))(w, c)).status_code


def api(
    method: str, path: Callable[[World, Client], str], body: Callable[[World, Client], dict]
) -> Callable[[HttpClient, World, Client], int]:
    def call(http: HttpClient, w: World, c: Client) -> int:
        fn = getattr(http, method)
        return fn(path(w, c), json.dumps(body(w, c)), content_type="application/json").status_code

    return call


def opens_profile(
    call: Callable[[HttpClient, World, Client], object],
) -> Callable[[HttpClient, World, Client], int]:
    """Finding by card code answers "not found" with a redirect; only the profile is a hit."""

    def check(http: HttpClient, w: World, c: Client) -> int:
        response = call(http, w, c)
        status: int = response.status_code  # type: ignore[attr-defined]
        if status == 302 and response["Location"] != f"/clients/{c.pk}/":  # type: ignore[index]
            return 404
        return status

    return check


def site_of(c: Client) -> str:
    return c.site.code


ENDPOINTS = [
    # HTML screens
    Endpoint("clients:find", FRONT_LINE, get(lambda w, c: "/clients/"), per_client=False),
    Endpoint("clients:profile", FRONT_LINE, get(lambda w, c: f"/clients/{c.pk}/")),
    Endpoint("clients:card", FRONT_LINE, get(lambda w, c: f"/clients/{c.pk}/card/")),
    Endpoint(
        "clients:edit",
        {STAFF, CLINICIAN, CASE, MANAGER},
        get(lambda w, c: f"/clients/{c.pk}/edit/"),
    ),
    Endpoint("clients:contact", FRONT_LINE, post(lambda w, c: f"/clients/{c.pk}/contact/")),
    Endpoint("clients:merge", {CASE, MANAGER}, get(lambda w, c: f"/clients/{c.pk}/merge/")),
    Endpoint(
        "clients:undo_merge",
        {CASE, MANAGER},
        post(lambda w, c: f"/clients/merges/{w.merge.pk}/undo/"),
        per_client=False,
    ),
    Endpoint(
        "clients:anonymous", FRONT_LINE, post(lambda w, c: "/clients/anonymous/"), per_client=False
    ),
    Endpoint(
        "clients:find_by_code",
        FRONT_LINE,
        opens_profile(lambda http, w, c: http.post("/clients/code/", {"code": c.code})),
    ),
    Endpoint(
        "visits:contact_anonymous",
        FRONT_LINE,
        get(lambda w, c: "/visits/contact/"),
        per_client=False,
    ),
    Endpoint("visits:contact", FRONT_LINE, get(lambda w, c: f"/visits/contact/{c.pk}/")),
    Endpoint(
        "visits:overdose", FRONT_LINE, get(lambda w, c: "/visits/overdose/"), per_client=False
    ),
    Endpoint(
        "visits:site", FRONT_LINE | {ME, ADMIN}, get(lambda w, c: "/visits/site/"), per_client=False
    ),
    Endpoint(
        "visits:site_detail",
        FRONT_LINE | {ME, ADMIN},
        get(lambda w, c: f"/visits/site/{w.cast.north.pk}/"),
        per_client=False,
    ),
    Endpoint(
        "stock:levels", FRONT_LINE | {ME, ADMIN}, get(lambda w, c: "/stock/"), per_client=False
    ),
    Endpoint("visits:catalogue", {ADMIN}, get(lambda w, c: "/visits/catalogue/"), per_client=False),
    Endpoint(
        "visits:catalogue_create",
        {ADMIN},
        get(lambda w, c: "/visits/catalogue/new/"),
        per_client=False,
    ),
    Endpoint(
        "visits:catalogue_edit", {ADMIN}, get(lambda w, c: "/visits/catalogue/1/"), per_client=False
    ),
    Endpoint(
        "visits:sessions", {MANAGER, ADMIN}, get(lambda w, c: "/visits/sessions/"), per_client=False
    ),
    Endpoint(
        "visits:session_edit",
        {MANAGER, ADMIN},
        get(lambda w, c: f"/visits/sessions/{w.session.pk}/"),
        per_client=False,
    ),
    Endpoint("ost:dispensing", {STAFF, CLINICIAN}, get(lambda w, c: "/ost/"), per_client=False),
    Endpoint(
        "ost:dose_review",
        {STAFF, CLINICIAN, CASE, MANAGER},
        get(lambda w, c: "/ost/dose-review/"),
        per_client=False,
    ),
    Endpoint("ost:enrol", {CLINICIAN}, get(lambda w, c: f"/ost/enrol/{c.pk}/")),
    Endpoint(
        "ost:episode",
        {STAFF, CLINICIAN, CASE, MANAGER},
        get(lambda w, c: f"/ost/episodes/{w.episode_for(c).pk}/"),
    ),
    Endpoint(
        "ost:dispense",
        {STAFF, CLINICIAN},
        post(
            lambda w, c: f"/ost/episodes/{w.episode_for(c).pk}/dispense/",
            lambda w, c: {"taken": "observed"},
        ),
    ),
    Endpoint(
        "ost:prescribe",
        {STAFF, CLINICIAN},
        post(
            lambda w, c: f"/ost/episodes/{w.episode_for(c).pk}/prescribe/",
            lambda w, c: {
                "dose_mg": "65",
                "phase": "maintenance",
                "valid_from": str(today()),
                "reason": "Person asks for a small increase",
            },
        ),
    ),
    Endpoint(
        "ost:review",
        {CLINICIAN},
        post(
            lambda w, c: f"/ost/episodes/{w.episode_for(c).pk}/review/",
            lambda w, c: {"note": "Checked"},
        ),
    ),
    Endpoint(
        "ost:end",
        {CLINICIAN},
        post(
            lambda w, c: f"/ost/episodes/{w.episode_for(c).pk}/end/",
            lambda w, c: {"end_date": str(today()), "reason": "transferred"},
        ),
    ),
    Endpoint(
        "ost:take_homes",
        {STAFF, CLINICIAN},
        post(
            lambda w, c: f"/ost/episodes/{w.episode_for(c).pk}/take-homes/",
            lambda w, c: {"start": str(today()), "days": "1"},
        ),
    ),
    Endpoint(
        "ost:letter",
        {CLINICIAN},
        get(lambda w, c: f"/ost/episodes/{w.episode_for(c).pk}/travel-letter.pdf"),
    ),
    Endpoint("casework:morning", {CASE, MANAGER}, get(lambda w, c: "/casework/"), per_client=False),
    Endpoint("casework:client", {CASE, MANAGER}, get(lambda w, c: f"/casework/client/{c.pk}/")),
    Endpoint(
        "casework:refer",
        {CASE, MANAGER},
        post(
            lambda w, c: f"/casework/client/{c.pk}/refer/",
            lambda w, c: {
                "kind": "housing",
                "made_on": str(today()),
                "referral_id": str(uuid.uuid4()),
            },
        ),
    ),
    Endpoint(
        "casework:book",
        {CASE, MANAGER},
        post(
            lambda w, c: f"/casework/client/{c.pk}/book/",
            lambda w, c: {
                "at": (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
            },
        ),
    ),
    Endpoint(
        "casework:assign",
        {CASE, MANAGER},
        post(
            lambda w, c: f"/casework/client/{c.pk}/assign/",
            lambda w, c: {"case_manager": w.cast[CASE].pk},
        ),
    ),
    Endpoint(
        "casework:reminders",
        {CASE, MANAGER},
        post(lambda w, c: f"/casework/client/{c.pk}/reminders/", lambda w, c: {"agrees": "yes"}),
    ),
    Endpoint(
        "casework:referral_status",
        {CASE, MANAGER},
        post(
            lambda w, c: f"/casework/referrals/{w.referrals[c.pk].pk}/status/",
            lambda w, c: {"status": "accepted"},
        ),
    ),
    Endpoint(
        "casework:attendance",
        {CASE, MANAGER},
        post(
            lambda w, c: f"/casework/appointments/{w.appointments[c.pk].pk}/attendance/",
            lambda w, c: {"attended": "yes"},
        ),
    ),
    Endpoint(
        "casework:partners",
        {CASE, MANAGER, ADMIN},
        get(lambda w, c: "/casework/partners/"),
        per_client=False,
    ),
    Endpoint(
        "casework:partner_create",
        {MANAGER, ADMIN},
        get(lambda w, c: "/casework/partners/new/"),
        per_client=False,
    ),
    Endpoint(
        "casework:partner_edit",
        {MANAGER, ADMIN},
        get(lambda w, c: f"/casework/partners/{w.partner.pk}/"),
        per_client=False,
    ),
    Endpoint(
        "testing:lists",
        {OUTREACH, STAFF, CLINICIAN, CASE},
        get(lambda w, c: "/testing/"),
        per_client=False,
    ),
    Endpoint(
        "testing:client",
        {OUTREACH, STAFF, CLINICIAN, CASE},
        get(lambda w, c: f"/testing/client/{c.pk}/"),
    ),
    Endpoint(
        "testing:record_test",
        {OUTREACH, STAFF, CLINICIAN},
        post(
            lambda w, c: f"/testing/client/{c.pk}/test/",
            lambda w, c: {
                "test": "hiv",
                "kind": "rapid",
                "date": str(today()),
                "result": "negative",
                "consent": "on",
            },
        ),
    ),
    Endpoint(
        "testing:enter_result",
        {OUTREACH, STAFF, CLINICIAN},
        post(
            lambda w, c: f"/testing/tests/{w.lab_tests[c.pk].pk}/result/",
            lambda w, c: {"result": "negative"},
        ),
    ),
    Endpoint(
        "testing:start_treatment",
        {CLINICIAN, CASE},
        post(
            lambda w, c: f"/testing/client/{c.pk}/treatment/",
            lambda w, c: {"condition": "tb", "start_date": str(today()), "where": "on_site"},
        ),
    ),
    Endpoint(
        "testing:end_treatment",
        {CLINICIAN, CASE},
        post(
            lambda w, c: f"/testing/treatments/{w.treatments[c.pk].pk}/end/",
            lambda w, c: {"end_date": str(today()), "outcome": "completed"},
        ),
    ),
    Endpoint(
        "testing:viral_load",
        {CLINICIAN, CASE},
        post(
            lambda w, c: f"/testing/client/{c.pk}/viral-load/",
            lambda w, c: {"condition": "hiv", "date": str(today()), "copies_per_ml": "0"},
        ),
    ),
    Endpoint(
        "testing:support",
        {OUTREACH, STAFF, CLINICIAN, CASE},
        post(
            lambda w, c: f"/testing/treatments/{w.treatments[c.pk].pk}/support/",
            lambda w, c: {"date": str(today()), "peer": "on"},
        ),
    ),
    Endpoint(
        "cascades:overview",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/testing/cascades/"),
        per_client=False,
    ),
    # Drug checking: a sample is at a site, and only that site's people (and the
    # programme-wide reviewer) open it.
    Endpoint(
        "drugchecking:samples", SAMPLES, get(lambda w, c: "/drug-checking/"), per_client=False
    ),
    Endpoint(
        "drugchecking:intake", SAMPLES, get(lambda w, c: "/drug-checking/new/"), per_client=False
    ),
    Endpoint("drugchecking:sample", SAMPLES, get(lambda w, c: w.sample(c))),
    Endpoint("drugchecking:strip", SAMPLES, get(lambda w, c: w.sample(c) + "strip/")),
    Endpoint("drugchecking:analysis", SAMPLES, get(lambda w, c: w.sample(c) + "analysis/")),
    Endpoint("drugchecking:result", SAMPLES, get(lambda w, c: w.sample(c) + "result/")),
    Endpoint("drugchecking:given_back", SAMPLES, post(lambda w, c: w.sample(c) + "given-back/")),
    Endpoint(
        "drugchecking:photo",
        SAMPLES,
        post(lambda w, c: w.sample(c) + "photo/", lambda w, c: {"photo": jpeg()}),
    ),
    Endpoint("drugchecking:photo_image", SAMPLES, get(lambda w, c: w.sample(c) + "photo.jpg")),
    # Every signed-in person reads the alerts that were sent; only the reviewer decides.
    Endpoint("alerts:list", EVERYONE, get(lambda w, c: "/drug-checking/alerts/"), per_client=False),
    Endpoint(
        "alerts:review",
        {REVIEWER},
        get(lambda w, c: f"/drug-checking/alerts/{w.draft.pk}/review/"),
        per_client=False,
    ),
    Endpoint(
        "alerts:rules",
        {REVIEWER},
        get(lambda w, c: "/drug-checking/alerts/rules/"),
        per_client=False,
    ),
    Endpoint(
        "alerts:substances",
        {REVIEWER},
        get(lambda w, c: "/drug-checking/alerts/substances/"),
        per_client=False,
    ),
    Endpoint(
        "alerts:substance_create",
        {REVIEWER},
        get(lambda w, c: "/drug-checking/alerts/substances/new/"),
        per_client=False,
    ),
    Endpoint(
        "alerts:substance_edit",
        {REVIEWER},
        get(lambda w, c: f"/drug-checking/alerts/substances/{resolve('heroin').pk}/"),
        per_client=False,
    ),
    Endpoint("reports:targets", {ADMIN}, get(lambda w, c: "/reports/targets/"), per_client=False),
    Endpoint("dhis2:home", {MANAGER, ME, ADMIN}, get(lambda w, c: "/dhis2/"), per_client=False),
    # Dashboards and report files: counts for the sites a person covers (North here).
    Endpoint(
        "dashboards:programme",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/dashboards/"),
        per_client=False,
    ),
    Endpoint(
        "dashboards:site",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/dashboards/site/NTH-01/?period=2025Q1"),
        per_client=False,
    ),
    Endpoint(
        "dashboards:chart",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/dashboards/chart/nsp.svg?period=2025Q1&site=NTH-01"),
        per_client=False,
    ),
    Endpoint(
        "dashboards:report_pdf",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/dashboards/report.pdf?period=2025Q1&site=NTH-01"),
        per_client=False,
    ),
    Endpoint(
        "dashboards:report_xlsx",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/dashboards/report.xlsx?period=2025Q1&site=NTH-01"),
        per_client=False,
    ),
    Endpoint(
        "dashboards:indicators_csv",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/dashboards/indicators.csv?period=2025Q1&site=NTH-01"),
        per_client=False,
    ),
    # The rest shows or sends the whole programme: a programme-wide membership only, which
    # nobody in the cast holds (tests/test_dhis2_screens.py has programme-wide people).
    Endpoint(
        "dhis2:export_json",
        set(),
        get(lambda w, c: "/dhis2/export.json?period=2025Q1"),
        per_client=False,
    ),
    Endpoint(
        "dhis2:export_adx",
        set(),
        get(lambda w, c: "/dhis2/export.adx.xml?period=2025Q1"),
        per_client=False,
    ),
    Endpoint(
        "dhis2:push",
        set(),
        post(lambda w, c: "/dhis2/push/", lambda w, c: {"period": "2025Q1", "mode": "dry_run"}),
        per_client=False,
    ),
    Endpoint("dhis2:mapping", set(), get(lambda w, c: "/dhis2/mapping/"), per_client=False),
    Endpoint("dhis2:server", set(), get(lambda w, c: "/dhis2/server/"), per_client=False),
    Endpoint(
        "reports:capture",
        {MANAGER, ME, ADMIN},
        get(lambda w, c: "/reports/capture-recapture/"),
        per_client=False,
    ),
    Endpoint("sites:list", {ADMIN}, get(lambda w, c: "/sites/"), per_client=False),
    Endpoint("sites:create", {ADMIN}, get(lambda w, c: "/sites/new/"), per_client=False),
    Endpoint(
        "sites:edit", {ADMIN}, get(lambda w, c: f"/sites/{w.cast.north.pk}/"), per_client=False
    ),
    Endpoint(
        "sites:summary", {MANAGER, ME, ADMIN}, get(lambda w, c: "/sites/summary/"), per_client=False
    ),
    Endpoint("accounts:user_list", {ADMIN}, get(lambda w, c: "/account/users/"), per_client=False),
    Endpoint(
        "accounts:user_create", {ADMIN}, get(lambda w, c: "/account/users/new/"), per_client=False
    ),
    Endpoint(
        "accounts:user_edit",
        {ADMIN},
        get(lambda w, c: f"/account/users/{w.cast.nobody.pk}/"),
        per_client=False,
    ),
    Endpoint(
        "accounts:user_reset_2fa",
        {ADMIN},
        post(lambda w, c: f"/account/users/{w.cast.nobody.pk}/reset-two-factor/"),
        per_client=False,
    ),
    Endpoint(
        "accounts:user_unlock",
        {ADMIN},
        post(lambda w, c: f"/account/users/{w.cast.nobody.pk}/unlock/"),
        per_client=False,
    ),
    Endpoint(
        "accounts:choose_site",
        EVERYONE,
        post(lambda w, c: "/account/site/", lambda w, c: {"site": w.cast.north.pk}),
        per_client=False,
    ),
    Endpoint("audit:list", {ADMIN}, get(lambda w, c: "/audit/"), per_client=False),
    Endpoint("audit:export", {ADMIN}, get(lambda w, c: "/audit/export.csv"), per_client=False),
    Endpoint("audit:verify", {ADMIN}, post(lambda w, c: "/audit/verify/"), per_client=False),
    Endpoint("home", EVERYONE, get(lambda w, c: "/"), per_client=False),
    # JSON API
    Endpoint("api:schema", EVERYONE, get(lambda w, c: "/api/v1/schema/"), per_client=False),
    Endpoint("api:sites", EVERYONE, get(lambda w, c: "/api/v1/sites/"), per_client=False),
    Endpoint("api:client_detail", FRONT_LINE, get(lambda w, c: f"/api/v1/clients/{c.pk}/")),
    Endpoint(
        "api:client_update",
        {STAFF, CLINICIAN, CASE, MANAGER},
        api("patch", lambda w, c: f"/api/v1/clients/{c.pk}/", lambda w, c: {"injects": "yes"}),
    ),
    Endpoint(
        "api:client_lookup",
        FRONT_LINE,
        api(
            "post",
            lambda w, c: "/api/v1/clients/lookup/",
            lambda w, c: {"site": site_of(c), "uic": uic(order="7")},
        ),
    ),
    Endpoint(
        "api:client_create",
        FRONT_LINE,
        api(
            "post",
            lambda w, c: "/api/v1/clients/",
            lambda w, c: {"site": site_of(c), "uic": uic(order="8"), "consent": True},
        ),
    ),
    Endpoint(
        "api:overdose_create",
        FRONT_LINE,
        api(
            "post",
            lambda w, c: "/api/v1/overdoses/",
            lambda w, c: {"site": "NTH-01", "date": "2026-11-01", "outcome": "survived"},
        ),
        per_client=False,
    ),
    Endpoint(
        "api:contact_create",
        FRONT_LINE,
        api(
            "post",
            lambda w, c: "/api/v1/contacts/",
            lambda w, c: {"site": site_of(c), "client": str(c.pk)},
        ),
    ),
]

OK = {200, 201, 302}
DENIED = {403, 404}

# Pages anyone may open without signing in: what a drug alert or the public board says.
PUBLIC: list[tuple[str, Callable[[World], str]]] = [
    ("public:board", lambda w: "/public/drug-checking/"),
    ("public:alerts_atom", lambda w: "/public/alerts.atom"),
    ("public:alerts_json", lambda w: "/public/alerts.json"),
    ("public:alert", lambda w: f"/public/alerts/{w.sent.pk}/"),
    ("public:alert_qr", lambda w: f"/public/alerts/{w.sent.pk}/qr.svg"),
    ("public:alert_photo", lambda w: f"/public/alerts/{w.sent.pk}/photo.jpg"),
    ("community:dashboard", lambda w: "/public/dashboard/"),
    ("community:dashboard_csv", lambda w: "/public/dashboard/dashboard.csv"),
]


@pytest.fixture
def world(cast: Cast) -> World:
    own = make_client(cast.north, mother="OW")
    other = make_client(cast.south, mother="OT")
    twin = make_client(cast.north, mother="OW", order="2")
    from harbour.clients import services

    m = services.merge(cast[MANAGER], own, twin)
    session = SiteSession.objects.create(site=cast.north, name="Women only", women_only=True)
    episodes = {}
    for client, site in [(own, cast.north), (other, cast.south)]:
        episodes[client.pk] = ost.enrol(
            cast["clinician"],
            client,
            site,
            medication="methadone",
            start_date=today(),
            consent_on=today(),
            dose_mg=Decimal("60"),
            phase="maintenance",
        )
    referrals = {c.pk: casework.refer(None, c, c.site, kind="housing")[0] for c in (own, other)}
    appointments = {
        c.pk: Appointment.objects.create(client=c, site=c.site, at=timezone.now())
        for c in (own, other)
    }
    partner = PartnerService.objects.create(name="Harbourside Housing", kind="housing")
    lab_tests = {
        c.pk: testing.record_test(
            None, c, c.site, test="hiv", kind="laboratory", date=today(), consent=True
        )[0]
        for c in (own, other)
    }
    treatments = {
        c.pk: testing.start_treatment(None, c, c.site, condition="hiv", start_date=today())
        for c in (own, other)
    }
    samples = {}
    for client in (own, other):
        # Two regions, so two alerts: one to send, one left as a draft.
        region = "Region A" if client == own else "East County"
        sample, _ = drugchecking.take_sample(
            None, client.site, date=today(), expected=[resolve("cocaine")], region=region
        )
        drugchecking.record_analysis(
            None, sample, method="ftir", found=[drugchecking.FoundIn(resolve("fentanyl"))]
        )
        drugchecking.attach_photo(None, sample, jpeg())
        samples[client.pk] = sample
    draft, sent = Alert.objects.order_by("region")  # East County, then Region A
    drugchecking.publish(None, sent, title="Fentanyl in cocaine", message="Take care.")
    return World(
        cast,
        own,
        other,
        m,
        session,
        episodes,
        referrals,
        appointments,
        partner,
        lab_tests,
        treatments,
        samples,
        draft,
        sent,
    )


def jpeg() -> SimpleUploadedFile:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 200, 255)).save(out, "JPEG")
    return SimpleUploadedFile("sample.jpg", out.getvalue(), content_type="image/jpeg")


def test_every_url_is_in_the_matrix() -> None:
    """A new screen or endpoint must be added to the matrix, with its expected roles."""
    names: set[str] = set()

    def walk(patterns: list, prefix: str = "") -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{p.namespace}:" if p.namespace else prefix)
            elif isinstance(p, URLPattern) and p.name:
                names.add(prefix + p.name)

    walk(get_resolver().url_patterns)
    covered = (
        {e.name for e in ENDPOINTS}
        | {name for name, _ in PUBLIC}
        | {
            "accounts:login",
            "accounts:logout",
            "accounts:two_factor",
            "api:client_update",
        }
    )
    # client_detail and client_update share one URL; login/logout/two-factor are tested apart.
    assert names - covered == set()


def as_each_role(world: World, call: Callable[[str, HttpClient], str | None]) -> list[str]:
    """Run ``call`` for every role on the same world, each in a savepoint rolled back
    after it, so no role sees what another changed. Returns what went wrong."""
    wrong = []
    for role in [r.value for r in Role]:
        with transaction.atomic():
            problem = call(role, login(world.cast[role]))
            transaction.set_rollback(True)
        if problem:
            wrong.append(problem)
    return wrong


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_each_role_reaches_only_what_it_needs_at_its_own_site(
    world: World, endpoint: Endpoint
) -> None:
    def check(role: str, http: HttpClient) -> str | None:
        status = endpoint.call(http, world, world.own)
        if role in endpoint.allowed and status not in OK:
            return f"{role} should reach {endpoint.name}, got {status}"
        if role not in endpoint.allowed and status not in DENIED:
            return f"{role} must not reach {endpoint.name}, got {status}"
        return None

    assert as_each_role(world, check) == []


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.per_client], ids=lambda e: e.name)
def test_no_role_reaches_a_client_of_another_site(world: World, endpoint: Endpoint) -> None:
    # api:client_lookup and api:client_create carry the site in the body: South is not
    # theirs, so they are refused outright, like the rest.
    def check(role: str, http: HttpClient) -> str | None:
        status = endpoint.call(http, world, world.other)
        if status not in DENIED:
            return f"{role} reached {endpoint.name} for another site's client: {status}"
        return None

    assert as_each_role(world, check) == []


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_signed_out_visitor_reaches_nothing(world: World, endpoint: Endpoint) -> None:
    status = endpoint.call(HttpClient(), world, world.own)
    assert status in {302, 401, 403, 404}


@pytest.mark.parametrize(("name", "path"), PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_pages_open_without_signing_in(world: World, name: str, path: Callable) -> None:
    assert HttpClient().get(path(world)).status_code == 200


def test_a_draft_alert_is_never_public(world: World) -> None:
    for suffix in ("", "qr.svg", "photo.jpg"):
        assert HttpClient().get(f"/public/alerts/{world.draft.pk}/{suffix}").status_code == 404
    feeds = HttpClient().get("/public/alerts.json").content.decode()
    assert str(world.draft.pk) not in feeds and str(world.sent.pk) in feeds


def test_staff_at_south_sees_south_clients_but_not_north_ones(world: World) -> None:
    http = login(world.cast.sam)
    assert http.get(f"/clients/{world.other.pk}/").status_code == 200
    assert http.get(f"/clients/{world.own.pk}/").status_code == 403
    assert http.get(f"/api/v1/clients/{world.own.pk}/").status_code == 404


def test_a_regional_role_covers_every_site_of_its_region(world: World) -> None:
    from tests.factory import make_user

    regional = make_user("regional", Role.STAFF, world.cast.region)
    http = login(regional)
    assert http.get(f"/clients/{world.own.pk}/").status_code == 200
    assert http.get(f"/clients/{world.other.pk}/").status_code == 200


def test_a_person_who_gives_their_uic_at_another_site_is_linked_there(world: World) -> None:
    """Finding by the full UIC works anywhere: the person is standing at the counter."""
    http = login(world.cast.sam)
    response = http.post("/clients/", form_data(mother="OW"))
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{world.own.pk}/"
    assert http.get(f"/clients/{world.own.pk}/").status_code == 200


def test_no_one_at_north_opens_souths_dashboard_or_its_files(world: World) -> None:
    for user in [world.cast["site_manager"], world.cast["me_officer"], world.cast["admin"]]:
        http = login(user)
        for path in (
            "/dashboards/site/STH-01/?period=2025Q1",
            "/dashboards/chart/nsp.svg?period=2025Q1&site=STH-01",
            "/dashboards/report.pdf?period=2025Q1&site=STH-01",
            "/dashboards/report.xlsx?period=2025Q1&site=STH-01",
            "/dashboards/indicators.csv?period=2025Q1&site=STH-01",
        ):
            assert http.get(path).status_code == 403, (user.username, path)


def test_a_site_overview_of_another_site_is_refused(world: World) -> None:
    for user in [world.cast["staff"], world.cast["me_officer"], world.cast["site_manager"]]:
        assert login(user).get(f"/visits/site/{world.cast.south.pk}/").status_code == 403
    assert login(world.cast.sam).get(f"/visits/site/{world.cast.south.pk}/").status_code == 200


def test_only_staff_and_managers_record_stock_movements(world: World) -> None:
    from harbour.visits.models import CatalogueItem

    item = CatalogueItem.objects.get(code="condom")
    body = {"action": "delivery", "item": item.pk, "quantity": "100"}
    for role, allowed in [
        ("staff", True),
        ("site_manager", True),
        ("outreach", False),
        ("me_officer", False),
        ("clinician", False),
    ]:
        status = login(world.cast[role]).post("/stock/", body).status_code
        assert (status == 302) == allowed, f"{role}: {status}"


def test_a_user_without_a_role_sees_no_client(world: World) -> None:
    http = login(world.cast.nobody)
    assert http.get("/clients/").status_code == 403
    assert http.get(f"/clients/{world.own.pk}/").status_code == 403
