"""A made-up harm reduction programme, drawn from a seeded random generator.

Nothing here touches the database: ``Programme`` yields plans (sites, clients with
their contacts and OST episodes, anonymous contacts, a recent cluster of overdoses,
stock deliveries) that ``harbour.demo.writer`` writes in batches. Everything comes from
``random.Random`` seeded with the programme's seed, in a fixed order that does not
depend on batch sizes, so the same seed, end date and catalogue always give the same
programme, whether it has 50 clients or 100,000.

What happens in each contact (equipment handed out, information, drop-in services,
consumption sessions, overdoses) is drawn from its own stream, so it never shifts the
clients and contact dates drawn before it.

The raw UICs exist only in memory here (``Programme.uics``, for tests to check that
none of them reaches the database); the writer stores keyed digests only.

The modules follow the streams (``rng.stream`` seeds each one):

- ``sites``: the site layout, what each kind of site does and how busy it is, and the
  women-only sessions, all fixed by the site count;
- ``clients``: who the clients are and when they come (stream ``clients``);
- ``contacts``: what happens in a contact (``services``) and anonymous contacts
  (``anonymous``);
- ``overdoses``: overdose details and the main site's recent cluster (``overdoses``);
- ``stock``: deliveries sized from what was handed out (``stock``);
- ``ost``: OST episodes with their prescriptions and missed days (``ost``), drawn
  client by client; the daily doses follow from them without a draw, so they stream
  to the database however many there are;
- ``care``: tests, treatments and viral loads (``care``), drawn client by client;
- ``casework``: the demo case manager's partners, caseload, referrals, appointments
  and reminders at the main site (``casework``), drawn once after the clients;
- ``programme``: ``Programme``, which draws them in order and keeps the tallies;
- ``scale``: the per-client rates (``Rates``: the demo's by default) and the named
  scales (``SCALES``, e.g. ``national``).

A draw added, removed or moved in a stream shifts everything that stream draws after
it, for every seed, and leaves the other streams alone: to add something new without
changing the rest of the programme, give it a stream of its own.
"""

from harbour.demo.generate.care import HIV_CLINIC
from harbour.demo.generate.casework import PARTNERS
from harbour.demo.generate.clients import REGISTRATION_DAYS, SECOND_SITE_SHARE
from harbour.demo.generate.contacts import ANONYMOUS_SHARE
from harbour.demo.generate.ost import DISPENSING_KINDS, dose_id, doses
from harbour.demo.generate.overdoses import RECENT_DAYS
from harbour.demo.generate.plans import (
    AppointmentPlan,
    CarePlan,
    CaseworkPlan,
    ClientPlan,
    ConsumptionPlan,
    ContactPlan,
    Counts,
    DeliveryPlan,
    DosePlan,
    EpisodePlan,
    LinePlan,
    OverdosePlan,
    PrescriptionPlan,
    ReferralPlan,
    TestPlan,
    TreatmentPlan,
    ViralLoadPlan,
)
from harbour.demo.generate.programme import Programme
from harbour.demo.generate.scale import NATIONAL_RATES, SCALES, Rates, Scale
from harbour.demo.generate.sites import (
    REGIONS,
    WOMEN_ONLY_SESSION,
    SessionPlan,
    SitePlan,
    site_layout,
)
from harbour.demo.generate.stock import RUNNING_LOW

__all__ = [
    "ANONYMOUS_SHARE",
    "DISPENSING_KINDS",
    "HIV_CLINIC",
    "NATIONAL_RATES",
    "PARTNERS",
    "RECENT_DAYS",
    "REGIONS",
    "REGISTRATION_DAYS",
    "RUNNING_LOW",
    "SCALES",
    "SECOND_SITE_SHARE",
    "WOMEN_ONLY_SESSION",
    "AppointmentPlan",
    "CarePlan",
    "CaseworkPlan",
    "ClientPlan",
    "ConsumptionPlan",
    "ContactPlan",
    "Counts",
    "DeliveryPlan",
    "DosePlan",
    "EpisodePlan",
    "LinePlan",
    "OverdosePlan",
    "PrescriptionPlan",
    "Programme",
    "Rates",
    "ReferralPlan",
    "Scale",
    "SessionPlan",
    "SitePlan",
    "TestPlan",
    "TreatmentPlan",
    "ViralLoadPlan",
    "dose_id",
    "doses",
    "site_layout",
]
