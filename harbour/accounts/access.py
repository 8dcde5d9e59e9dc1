"""Who may do what, where: the one place Harbour decides access.

Every view and API endpoint declares the capability it needs (``@requires`` or a
``capability`` attribute); ``AccessMiddleware`` refuses any view that declares none
and any user who holds the capability at no site. Object-level checks (is this
client at one of my sites?) go through ``require`` / ``client_scope`` below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from harbour.accounts.models import Role

if TYPE_CHECKING:
    from harbour.clients.models import Client
    from harbour.sites.models import Site


class Cap(StrEnum):
    CLIENT_FIND = "client.find"  # find or register a client, record a contact
    CLIENT_VIEW = "client.view"  # open a client's record
    CLIENT_EDIT = "client.edit"
    CLIENT_CONTACT_DETAILS = "client.contact_details"  # see or change the phone number
    CLIENT_MERGE = "client.merge"
    AGGREGATES = "aggregates.view"  # counts and indicators, no client records
    DHIS2_REPORT = "dhis2.report"  # send figures to the ministry's DHIS2, and how they map
    SITE_OVERVIEW = "site.overview"  # a site's day: contacts, overdoses, stock levels
    STOCK_MANAGE = "stock.manage"  # deliveries, transfers, adjustments, counts
    SESSION_MANAGE = "session.manage"  # a site's regular sessions, e.g. women-only hours
    CATALOGUE_MANAGE = "catalogue.manage"  # what the programme hands out
    OST_VIEW = "ost.view"  # a person's OST episodes, prescriptions and doses
    OST_DISPENSE = "ost.dispense"  # give doses, small dose changes within the step
    OST_PRESCRIBE = "ost.prescribe"  # enrol, prescribe, review, end an episode
    TEST_RECORD = "test.record"  # voluntary tests and their results (peers test in outreach)
    TREATMENT_MANAGE = "treatment.manage"  # HIV, hepatitis C and TB treatment, viral loads
    SAMPLE_RECORD = "sample.record"  # drug checking: samples, results, giving them back
    ALERT_REVIEW = "alert.review"  # send, update or withdraw drug alerts; the alert rules
    CASEWORK = "casework"  # caseloads, referrals, appointments and reminders
    PARTNER_MANAGE = "partner.manage"  # the directory of partner services
    SITE_MANAGE = "site.manage"
    USER_MANAGE = "user.manage"
    AUDIT_VIEW = "audit.view"
    SELF = "self"  # one's own account pages: any signed-in user


_FRONT_LINE = {Cap.CLIENT_FIND, Cap.CLIENT_VIEW, Cap.SITE_OVERVIEW, Cap.SELF}

POLICY: dict[str, frozenset[Cap]] = {
    # Peers check drugs with strips in outreach.
    Role.OUTREACH: frozenset(_FRONT_LINE | {Cap.TEST_RECORD, Cap.SAMPLE_RECORD}),
    # Site staff include the nurses who dispense OST.
    Role.STAFF: frozenset(
        _FRONT_LINE
        | {
            Cap.CLIENT_EDIT,
            Cap.STOCK_MANAGE,
            Cap.OST_VIEW,
            Cap.OST_DISPENSE,
            Cap.TEST_RECORD,
            Cap.SAMPLE_RECORD,
        }
    ),
    Role.CLINICIAN: frozenset(
        _FRONT_LINE
        | {
            Cap.CLIENT_EDIT,
            Cap.OST_VIEW,
            Cap.OST_DISPENSE,
            Cap.OST_PRESCRIBE,
            Cap.TEST_RECORD,
            Cap.TREATMENT_MANAGE,
            Cap.SAMPLE_RECORD,
        }
    ),
    Role.CASE_MANAGER: frozenset(
        _FRONT_LINE
        | {
            Cap.CLIENT_EDIT,
            Cap.CLIENT_CONTACT_DETAILS,
            Cap.CLIENT_MERGE,
            Cap.OST_VIEW,
            Cap.TREATMENT_MANAGE,
            Cap.CASEWORK,
        }
    ),
    Role.SITE_MANAGER: frozenset(
        _FRONT_LINE
        | {
            Cap.CLIENT_EDIT,
            Cap.CLIENT_CONTACT_DETAILS,
            Cap.CLIENT_MERGE,
            Cap.AGGREGATES,
            Cap.STOCK_MANAGE,
            Cap.SESSION_MANAGE,
            Cap.OST_VIEW,
            Cap.CASEWORK,
            Cap.PARTNER_MANAGE,
            Cap.SAMPLE_RECORD,
        }
    ),
    # The person a programme designates to decide which drug alerts go out, and how
    # the rules raise them. Samples only: never a client's record.
    Role.ALERT_REVIEWER: frozenset({Cap.SAMPLE_RECORD, Cap.ALERT_REVIEW, Cap.SELF}),
    # M&E officers work with numbers, never with a person's record.
    Role.ME_OFFICER: frozenset({Cap.AGGREGATES, Cap.DHIS2_REPORT, Cap.SITE_OVERVIEW, Cap.SELF}),
    # Administrators run the system; they do not need to read client records.
    Role.ADMIN: frozenset(
        {
            Cap.SITE_MANAGE,
            Cap.SESSION_MANAGE,
            Cap.CATALOGUE_MANAGE,
            Cap.PARTNER_MANAGE,
            Cap.USER_MANAGE,
            Cap.AUDIT_VIEW,
            Cap.AGGREGATES,
            Cap.DHIS2_REPORT,
            Cap.SITE_OVERVIEW,
            Cap.SELF,
        }
    ),
}


@dataclass(frozen=True)
class Scope:
    """The sites where a user holds a capability: all of them, or a set of ids."""

    everywhere: bool
    site_ids: frozenset[int]

    def __bool__(self) -> bool:
        return self.everywhere or bool(self.site_ids)

    def covers(self, site_id: int | None) -> bool:
        return self.everywhere or (site_id is not None and site_id in self.site_ids)

    def filter(self, queryset: QuerySet[Any], field: str = "site") -> QuerySet[Any]:
        if self.everywhere:
            return queryset
        return queryset.filter(**{f"{field}__in": self.site_ids})


NOWHERE = Scope(False, frozenset())
EVERYWHERE = Scope(True, frozenset())


def scope(user: Any, cap: Cap) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOWHERE
    if cap == Cap.SELF:
        # One's own account pages need no role: a person waiting for one must
        # still be able to sign in, see that, and sign out.
        return EVERYWHERE
    cache: dict[Cap, Scope] = user.__dict__.setdefault("_harbour_scopes", {})
    if cap in cache:
        return cache[cap]
    from harbour.sites.models import descendants_map

    tree: dict[int, set[int]] | None = None
    ids: set[int] = set()
    everywhere = False
    for role, site_id in user.memberships.values_list("role", "site_id"):
        if cap not in POLICY.get(role, frozenset()):
            continue
        if site_id is None:
            everywhere = True
            break
        if tree is None:
            tree = descendants_map()
        ids |= tree.get(site_id, {site_id})
    result = Scope(everywhere, frozenset(ids))
    cache[cap] = result
    return result


def has(user: Any, cap: Cap, site: Site | int | None = None) -> bool:
    s = scope(user, cap)
    if site is None:
        return bool(s)
    site_id = site if isinstance(site, int) else site.pk
    return s.covers(site_id)


def require(user: Any, cap: Cap, site: Site | int | None = None) -> None:
    if not has(user, cap, site):
        raise PermissionDenied(f"Your role does not allow {cap.value} here.")


def client_scope(user: Any, cap: Cap) -> QuerySet[Client]:
    """The clients this user may see with ``cap``: registered at or served at their sites."""
    from harbour.clients.models import Client

    s = scope(user, cap)
    base = Client.objects.filter(merged_into__isnull=True)
    if s.everywhere:
        return base
    if not s.site_ids:
        return base.none()
    return base.filter(Q(site__in=s.site_ids) | Q(links__site__in=s.site_ids)).distinct()


def require_client(user: Any, cap: Cap, client: Client) -> None:
    if not client_scope(user, cap).filter(pk=client.pk).exists():
        raise PermissionDenied("This client's record is not at one of your sites.")


def working_sites(user: Any, cap: Cap = Cap.CLIENT_FIND) -> list[Site]:
    from harbour.sites.models import Site, SiteKind

    s = scope(user, cap)
    qs = Site.objects.filter(active=True).exclude(kind=SiteKind.REGION)
    return list(s.filter(qs, field="id"))


# -- declaring what a view needs ------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def requires(cap: Cap) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.harbour_capability = cap  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    view.harbour_public = True  # type: ignore[attr-defined]
    return view


def declared_capability(view: Any) -> Cap | str | None:
    """The capability a resolved view declares; "public" for open pages; None if none."""
    targets: Iterable[Any] = (view, getattr(view, "cls", None), getattr(view, "view_class", None))
    for target in targets:
        if target is None:
            continue
        if getattr(target, "harbour_public", False):
            return "public"
        cap = getattr(target, "harbour_capability", None) or getattr(target, "capability", None)
        if cap is not None:
            return cap
    return None
