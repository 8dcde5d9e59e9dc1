"""The demo's drug checking service: three months of samples at the main site and one
more, results by strip, FTIR and laboratory, the alerts the rules raise from them, and
two of those sent by the demo alert reviewer.

Samples go through the real services, in the order they were collected, so the rules
see history as it happened. The recent story: blue "M30" pills sold as oxycodone that
hold a nitazene, three of them in a fortnight at the main site.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from harbour.accounts.models import User
from harbour.clients.models import YesNoUnknown
from harbour.demo.generate.rng import pick, stream
from harbour.drugchecking import services
from harbour.drugchecking.dictionary import Lookup, ensure_dictionary
from harbour.drugchecking.models import Alert, AlertStatus, Rule
from harbour.drugchecking.services import FoundIn
from harbour.sites.models import Site

SAMPLES_PER_WEEK = 9
LAB_DELAY_DAYS = 18  # a laboratory result comes back weeks later


@dataclass(frozen=True)
class Recipe:
    """What people bring in, and what is usually in it: (substance, chance, role)."""

    expected: str
    form: str
    weight: int
    found: tuple[tuple[str, float, str], ...]


RECIPES: Sequence[Recipe] = (
    Recipe(
        "heroin",
        "powder",
        30,
        (
            ("heroin", 0.75, "primary"),
            ("fentanyl", 0.45, "primary"),
            ("xylazine", 0.2, "primary"),
            ("6-monoacetylmorphine (6-MAM)", 0.5, "trace"),
            ("caffeine", 0.4, "primary"),
            ("acetaminophen", 0.25, "primary"),
        ),
    ),
    Recipe(
        "cocaine",
        "powder",
        20,
        (
            ("cocaine", 0.97, "primary"),
            ("levamisole", 0.4, "primary"),
            ("lidocaine", 0.2, "primary"),
            ("fentanyl", 0.06, "trace"),
        ),
    ),
    Recipe(
        "methamphetamine",
        "crystal",
        15,
        (
            ("methamphetamine", 0.97, "primary"),
            ("dimethyl sulfone (MSM)", 0.3, "primary"),
        ),
    ),
    Recipe(
        "fentanyl",
        "powder",
        12,
        (
            ("fentanyl", 0.95, "primary"),
            ("4-ANPP", 0.6, "trace"),
            ("xylazine", 0.35, "primary"),
            ("mannitol", 0.4, "primary"),
            ("bromazolam", 0.08, "primary"),
        ),
    ),
    Recipe(
        "MDMA",
        "pill",
        9,
        (("MDMA", 0.85, "primary"), ("eutylone", 0.15, "primary"), ("caffeine", 0.2, "primary")),
    ),
    Recipe("ketamine", "powder", 5, (("ketamine", 0.95, "primary"),)),
    Recipe(
        "",
        "powder",
        9,
        (
            ("fentanyl", 0.5, "primary"),
            ("methamphetamine", 0.3, "primary"),
            ("xylazine", 0.2, "primary"),
            ("lactose", 0.4, "primary"),
        ),
    ),
)

# Usual shares (%) an FTIR reading gives; outside these, the rules' thresholds speak.
PURITY = {
    "heroin": (20, 58),
    "fentanyl": (2, 14),
    "cocaine": (45, 88),
    "methamphetamine": (70, 95),
    "MDMA": (40, 80),
    "ketamine": (60, 95),
    "xylazine": (5, 25),
}

COLOURS = ("white", "off-white", "light brown", "beige", "grey")


def write_drugchecking(
    sites: Sequence[Site], start: dt.date, end: dt.date, seed: int, staff: User, reviewer: User
) -> int:
    """Write the demo's samples and alerts; returns how many samples."""
    ensure_dictionary()
    lookup = Lookup.load()
    rng = stream(seed, "drugchecking")
    plans: list[tuple[dt.date, Site, Recipe | None]] = []
    day = start
    while day <= end:
        for _ in range(rng.choices((0, 1, 2, 3), (30, 40, 20, 10))[0]):
            site = sites[0] if rng.random() < 0.7 else sites[-1]
            plans.append((day, site, pick(rng, RECIPES, [r.weight for r in RECIPES])))
        day += dt.timedelta(days=1)
    # The recent story: nitazene pills sold as oxycodone at the main site.
    for back in (11, 6, 2):
        plans.append((end - dt.timedelta(days=back), sites[0], None))
    plans.sort(key=lambda p: p[0])
    for day, site, recipe in plans:
        if recipe is None:
            _nitazene_pill(lookup, site, day, end, staff)
        else:
            _sample(rng, lookup, site, day, end, recipe, staff)
    # Someone is waiting at the counter for today's result.
    waiting = lookup.find("cocaine")
    services.take_sample(
        staff, sites[0], date=end, expected=[waiting] if waiting else [], form="powder"
    )
    _review(reviewer)
    return len(plans) + 1


def _sample(
    rng: random.Random,
    lookup: Lookup,
    site: Site,
    day: dt.date,
    end: dt.date,
    recipe: Recipe,
    staff: User,
) -> None:
    expected = lookup.find(recipe.expected) if recipe.expected else None
    sample, _ = services.take_sample(
        staff,
        site,
        date=day,
        expected=[expected] if expected else [],
        expected_as_said=recipe.expected,
        expected_unknown=expected is None,
        form=recipe.form,
        colour=rng.choice(COLOURS),
        used_already=pick(rng, list(YesNoUnknown.values), (45, 35, 20)),
        overdose=pick(rng, list(YesNoUnknown.values), (6, 80, 14)),
    )
    found = [(name, role) for name, chance, role in recipe.found if rng.random() < chance] or [
        (recipe.found[0][0], "primary")
    ]
    age = (end - day).days
    if age < 2 and rng.random() < 0.6:
        return  # still waiting for its result
    if "fentanyl" not in recipe.expected and rng.random() < 0.35:
        has_fentanyl = any(name == "fentanyl" for name, _ in found)
        services.record_strip(
            staff,
            sample,
            target="fentanyl",
            outcome="positive" if has_fentanyl else "negative",
            date=day,
        )
    method = "lab" if age > LAB_DELAY_DAYS and rng.random() < 0.3 else "ftir"
    items: list[FoundIn] = []
    share = 100
    for name, role in found:
        substance = lookup.find(name)
        if substance is None:
            continue
        percent = None
        if method == "ftir" and role == "primary":
            low, high = PURITY.get(name, (5, 30))
            percent = Decimal(min(rng.randint(low, high), share))
            share -= int(percent)
        items.append(FoundIn(substance, role=role, percent=percent))
    when = min(day + dt.timedelta(days=LAB_DELAY_DAYS if method == "lab" else 0), end)
    services.record_analysis(
        staff,
        sample,
        method=method,
        found=items,
        date=when,
        technique="GC-MS" if method == "lab" else "",
    )
    if rng.random() < 0.85:
        services.give_back(staff, sample)


def _nitazene_pill(lookup: Lookup, site: Site, day: dt.date, end: dt.date, staff: User) -> None:
    oxycodone = lookup.find("oxycodone")
    sample, _ = services.take_sample(
        staff,
        site,
        date=day,
        expected=[oxycodone] if oxycodone else [],
        expected_as_said="M30, oxy",
        form="pill",
        colour="light blue",
        markings="M | 30",
        used_already=YesNoUnknown.YES,
        effects="much stronger than usual, went out for a while",
        overdose=YesNoUnknown.YES if day < end - dt.timedelta(days=5) else YesNoUnknown.UNKNOWN,
    )
    services.attach_photo(staff, sample, _pill_picture())
    found = [FoundIn(s) for s in (lookup.find("metonitazene"),) if s is not None]
    acetaminophen = lookup.find("acetaminophen")
    if acetaminophen:
        found.append(FoundIn(acetaminophen, role="trace"))
    services.record_analysis(staff, sample, method="ftir", found=found, date=day)
    services.give_back(staff, sample)


def _pill_picture() -> SimpleUploadedFile:
    """A drawn blue M30 pill: the demo's stand-in for a photo taken at the counter."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (236, 232, 224))
    draw = ImageDraw.Draw(image)
    draw.ellipse((120, 60, 360, 300), fill=(140, 190, 225), outline=(90, 140, 180), width=6)
    draw.line((240, 90, 240, 270), fill=(90, 140, 180), width=5)
    draw.text((175, 165), "M", fill=(60, 100, 140), font_size=48)
    draw.text((258, 165), "30", fill=(60, 100, 140), font_size=48)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return SimpleUploadedFile("pill.jpg", out.getvalue(), content_type="image/jpeg")


def _review(reviewer: User) -> None:
    """The reviewer has sent the fentanyl-in-cocaine alert and the xylazine one; the
    nitazene cluster waits for review, so the demo shows both."""
    for substance, rule in (("fentanyl", Rule.UNEXPECTED), ("xylazine", Rule.UNEXPECTED)):
        alert = (
            Alert.objects.filter(
                status=AlertStatus.DRAFT,
                rule=rule,
                substance__name=substance,
                signals__sample__expected__name__in=["cocaine", "heroin"],
            )
            .order_by("-updated_at")
            .first()
        )
        if alert is not None:
            services.publish(reviewer, alert, title=alert.title, message=alert.message)


def demo_sites(site_ids: dict[str, int], main_code: str) -> list[Site]:
    """The main site first, then the other site that takes samples."""
    main = Site.objects.get(pk=site_ids[main_code])
    other = (
        Site.objects.filter(pk__in=site_ids.values())
        .exclude(pk=main.pk)
        .exclude(kind="region")
        .order_by("code")
        .first()
    )
    return [main, other] if other else [main]


def alert_count() -> int:
    return Alert.objects.count()
