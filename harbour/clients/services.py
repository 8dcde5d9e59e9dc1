"""Every change to a client record goes through these functions, each audited."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from harbour.audit.services import record
from harbour.clients import pseudonym as ps
from harbour.clients.models import Client, ClientLink, ClientPartial, Merge
from harbour.clients.uic import Scheme
from harbour.sites.models import Organisation, Site

# Fields compared when the same id arrives twice (offline sync, re-import).
PROFILE_FIELDS = ("gender", "birth_year", "injects", "opioid_dependent")


class ClientError(Exception):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class AlreadyRegistered(ClientError):
    def __init__(self, client: Client) -> None:
        super().__init__("This UIC is already registered.", field="uic")
        self.client = client


class Conflict(ClientError):
    pass


def scheme() -> Scheme:
    return Scheme.from_json(Organisation.get().uic_scheme)


@dataclass
class Lookup:
    client: Client | None
    possible_duplicates: list[Client]


def find(parts: list[str]) -> Lookup:
    """Find a client by UIC components, under any key of the ring.

    A client found under an old key is re-keyed on the spot: this is how a key
    rotation reaches every client who comes back (see docs/decisions/0002).
    """
    all_d = ps.all_digests(parts)
    matches = {
        c.pseudonym: c for c in Client.objects.filter(pseudonym__in=[d.pseudonym for d in all_d])
    }
    client = None
    for d in all_d:
        if d.pseudonym in matches:
            client = matches[d.pseudonym]
            if d.key_id != ps.current_key().id:
                _rekey(client, parts)
            client = client.active_record
            break
    condition = Q()
    for d in all_d:
        for position, digest in enumerate(d.partials):
            condition |= Q(position=position, digest=digest)
    near_ids = set(ClientPartial.objects.filter(condition).values_list("client_id", flat=True))
    near = {Client.objects.get(pk=pk).active_record for pk in near_ids}
    near.discard(client)  # type: ignore[arg-type]
    return Lookup(client, sorted(near, key=lambda c: c.code))


def _rekey(client: Client, parts: list[str]) -> None:
    current = ps.digests(parts, ps.current_key())
    with transaction.atomic():
        Client.objects.filter(pk=client.pk).update(
            pseudonym=current.pseudonym, key_id=current.key_id
        )
        _write_partials(client, current)
    client.pseudonym, client.key_id = current.pseudonym, current.key_id


def _write_partials(client: Client, d: ps.Digests) -> None:
    ClientPartial.objects.filter(client=client).delete()
    ClientPartial.objects.bulk_create(
        ClientPartial(client=client, position=i, digest=digest)
        for i, digest in enumerate(d.partials)
    )


def _same_profile(client: Client, values: dict[str, Any]) -> list[str]:
    return [f for f in PROFILE_FIELDS if f in values and getattr(client, f) != values[f]]


@transaction.atomic
def register(
    actor: Any,
    site: Site,
    parts: list[str],
    *,
    client_id: uuid.UUID | None = None,
    registered_on: dt.date | None = None,
    consent_on: dt.date | None = None,
    phone: str = "",
    reminders: bool = False,
    audit_action: str = "client.create",
    **profile: Any,
) -> tuple[Client, bool]:
    """Register a client, or return the existing one when the same id is sent again.

    Returns (client, created). Raises AlreadyRegistered when the UIC is known under
    another id, Conflict when the id is known with other content.
    """
    today = timezone.localdate()
    d = ps.digests(parts, ps.current_key())
    if client_id is not None:
        existing = Client.objects.filter(pk=client_id).first()
        if existing is not None:
            same_person = existing.pseudonym in {x.pseudonym for x in ps.all_digests(parts)}
            differing = _same_profile(existing, profile)
            if not same_person:
                raise Conflict("This id belongs to a client with another UIC.", field="id")
            if differing:
                raise Conflict(
                    "This id is already registered with other "
                    + ", ".join(differing).replace("_", " ")
                    + ".",
                    field=differing[0],
                )
            return existing, False
    found = find(parts)
    if found.client is not None:
        raise AlreadyRegistered(found.client)
    client = Client(
        id=client_id or uuid.uuid4(),
        code=ps.client_code(d.pseudonym),
        pseudonym=d.pseudonym,
        key_id=d.key_id,
        site=site,
        registered_on=registered_on or today,
        consent_on=consent_on or today,
        phone=phone,
        reminders=reminders and bool(phone),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **{k: v for k, v in profile.items() if k in PROFILE_FIELDS},
    )
    try:
        with transaction.atomic():
            client.save(force_insert=True)
    except IntegrityError:
        # Two counters registering the same person at the same instant.
        existing = Client.objects.filter(pseudonym=d.pseudonym).first()
        if existing is None:
            raise
        raise AlreadyRegistered(existing) from None
    _write_partials(client, d)
    ClientLink.objects.create(client=client, site=site, since=client.registered_on)
    record(
        actor,
        audit_action,
        client,
        site=site,
        detail={
            "code": client.code,
            "duplicates_flagged": [c.code for c in found.possible_duplicates],
        },
    )
    return client, True


@transaction.atomic
def update(actor: Any, client: Client, site: Site | None, **changes: Any) -> list[str]:
    """Change profile fields; returns the names of the fields that changed."""
    allowed = {*PROFILE_FIELDS, "phone", "consent_on", "reminders"}
    changed = []
    for name, value in changes.items():
        if name not in allowed:
            raise ClientError(f"{name} cannot be changed here.", field=name)
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed.append(name)
    if changed:
        client.save()
        # Field names only: the audit log never holds a phone number.
        record(actor, "client.update", client, site=site, detail={"fields": changed})
    return changed


def viewed(actor: Any, client: Client, site: Site | None, what: str = "profile") -> None:
    record(actor, "client.view", client, site=site, detail={"code": client.code, "view": what})


@transaction.atomic
def link(actor: Any, client: Client, site: Site) -> bool:
    """Let a site see a client who came there in person (they gave their UIC)."""
    _, created = ClientLink.objects.get_or_create(
        client=client, site=site, defaults={"since": timezone.localdate()}
    )
    if created:
        record(actor, "client.link", client, site=site, detail={"code": client.code})
    return created


def _movable_relations() -> list[Any]:
    """Every relation to Client that holds a person's records (contacts, tests…)."""
    skip = {ClientPartial, ClientLink, Merge, Client}
    return [
        rel
        for rel in Client._meta.related_objects
        if rel.related_model not in skip and rel.one_to_many
    ]


@transaction.atomic
def merge(actor: Any, survivor: Client, duplicate: Client, reason: str = "") -> Merge:
    if survivor.pk == duplicate.pk:
        raise ClientError("A record cannot be merged with itself.", field="duplicate")
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise ClientError("One of these records is already merged.", field="duplicate")
    locked = list(Client.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk]))
    if len(locked) != 2:
        raise ClientError("One of these records no longer exists.", field="duplicate")
    moved: dict[str, Any] = {}
    for rel in _movable_relations():
        model = rel.related_model
        field = rel.field.name
        ids = list(model.objects.filter(**{field: duplicate}).values_list("pk", flat=True))
        if ids:
            model.objects.filter(pk__in=ids).update(**{field: survivor})
            moved[model._meta.label] = {"field": field, "ids": [str(i) for i in ids]}
    added_links = []
    for dup_link in ClientLink.objects.filter(client=duplicate):
        _, created = ClientLink.objects.get_or_create(
            client=survivor, site=dup_link.site, defaults={"since": dup_link.since}
        )
        if created:
            added_links.append(dup_link.site_id)
    moved["links_added"] = added_links
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into", "updated_at"])
    m = Merge.objects.create(
        survivor=survivor, merged=duplicate, moved=moved, reason=reason[:200], by=actor
    )
    record(
        actor,
        "client.merge",
        survivor,
        site=survivor.site,
        detail={"kept": survivor.code, "merged": duplicate.code, "merge": m.pk},
    )
    return m


@transaction.atomic
def undo_merge(actor: Any, m: Merge) -> None:
    from django.apps import apps

    m = Merge.objects.select_for_update().get(pk=m.pk)
    if m.undone_at is not None:
        raise ClientError("This merge was already undone.", field="merge")
    for label, info in m.moved.items():
        if label == "links_added":
            continue
        model = apps.get_model(label)
        model.objects.filter(pk__in=info["ids"]).update(**{info["field"]: m.merged})
    ClientLink.objects.filter(
        client=m.survivor, site_id__in=m.moved.get("links_added", [])
    ).delete()
    Client.objects.filter(pk=m.merged_id).update(merged_into=None, updated_at=timezone.now())
    m.undone_at = timezone.now()
    m.undone_by = actor
    m.save(update_fields=["undone_at", "undone_by"])
    record(
        actor,
        "client.unmerge",
        m.survivor,
        site=m.survivor.site,
        detail={"kept": m.survivor.code, "restored": m.merged.code, "merge": m.pk},
    )
