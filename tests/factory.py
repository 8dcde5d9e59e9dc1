"""Builders for tests: sites, users of each role, clients from plain UIC parts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.test import Client as HttpClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from harbour.accounts.models import TWO_FACTOR_ROLES, Membership, Role, User
from harbour.clients import services
from harbour.clients.models import Client
from harbour.clients.uic import DEFAULT_SCHEME
from harbour.sites.models import Site, SiteKind

PASSWORD = "correct horse battery staple"


def uic(
    mother: str = "AN", father: str = "JO", sex: str = "F", year: str = "89", order: str = "1"
) -> dict[str, str]:
    return {"mother": mother, "father": father, "sex": sex, "year": year, "order": order}


def parts(**kwargs: str) -> list[str]:
    return DEFAULT_SCHEME.parts(uic(**kwargs))


def form_data(**kwargs: str) -> dict[str, str]:
    """The find-or-register form's UIC inputs."""
    return {f"uic_{k}": v for k, v in uic(**kwargs).items()}


def make_site(
    code: str, kind: str = SiteKind.FIXED, parent: Site | None = None, name: str = ""
) -> Site:
    return Site.objects.create(code=code, name=name or code, kind=kind, parent=parent)


def make_user(username: str, role: str | None, site: Site | None, **extra: Any) -> User:
    user = User.objects.create_user(username, password=PASSWORD, **extra)
    if role is not None:
        Membership.objects.create(user=user, role=role, site=site)
    return user


def make_client(site: Site, actor: User | None = None, **uic_parts: str) -> Client:
    profile = {
        "gender": uic_parts.pop("gender", "female"),
        "birth_year": uic_parts.pop("birth_year", 1989),
        "injects": uic_parts.pop("injects", "yes"),
        "opioid_dependent": uic_parts.pop("opioid_dependent", "unknown"),
    }
    client, _ = services.register(actor, site, parts(**uic_parts), **profile)
    return client


def login(user: User, http: HttpClient | None = None) -> HttpClient:
    """A test browser signed in as ``user``, past two-factor when the role needs it."""
    http = http or HttpClient()
    http.force_login(user)
    if user.roles() & TWO_FACTOR_ROLES:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="test", defaults={"confirmed": True}
        )
        session = http.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return http


@dataclass
class Cast:
    region: Site
    north: Site
    south: Site
    users: dict[str, User] = field(default_factory=dict)
    sam: User | None = None  # site staff at South
    nobody: User | None = None  # signed in, no role

    def __getitem__(self, role: str) -> User:
        return self.users[role]


def reference_data() -> None:
    """What data migrations load (the catalogue, the substance dictionary).

    Tests that flush the database (browser tests, threads) empty those tables for the
    tests after them in the same worker: put back what is missing.
    """
    import importlib

    from harbour.drugchecking.dictionary import ensure_dictionary
    from harbour.visits.models import CatalogueItem

    catalogue = importlib.import_module("harbour.visits.migrations.0003_default_catalogue")
    for order, (code, name, options) in enumerate(catalogue.DEFAULT_ITEMS, start=1):
        CatalogueItem.objects.get_or_create(
            code=code, defaults={"name": name, "options": options, "sort_order": order * 10}
        )
    ensure_dictionary()


def make_cast() -> Cast:
    reference_data()
    region = make_site("REG-A", SiteKind.REGION, name="Region A")
    north = make_site("NTH-01", parent=region, name="North Centre")
    south = make_site("STH-01", SiteKind.DROP_IN, parent=region, name="South Drop-in")
    cast = Cast(region, north, south)
    for role in Role:
        # Administrators and M&E officers often work for the whole programme;
        # here they hold North only, so the matrix also shows their limits.
        cast.users[role.value] = make_user(f"{role.value}_north", role.value, north)
    cast.sam = make_user("sam_south", Role.STAFF, south)
    cast.nobody = make_user("nobody", None, None)
    return cast


def today() -> dt.date:
    return dt.date.today()
