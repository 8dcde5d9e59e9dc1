from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from harbour.accounts import access
from harbour.accounts.access import Cap
from harbour.api import serializers as s
from harbour.clients import services as clients
from harbour.clients.models import Client
from harbour.sites.models import Site
from harbour.visits import services as visits


def _site_for(request: Request, site: Site, cap: Cap = Cap.CLIENT_FIND) -> Site:
    if not access.has(request.user, cap, site):
        raise PermissionDenied("You do not work at this site.")
    return site


def _client(request: Request, pk: Any, cap: Cap) -> Client:
    client = get_object_or_404(Client, pk=pk, merged_into__isnull=True)
    if not access.client_scope(request.user, cap).filter(pk=client.pk).exists():
        # Same answer as a missing record: another site's clients do not exist for you.
        raise NotFound("No such client at your sites.")
    return client


def _optional_client(request: Request, pk: Any) -> Client | None:
    """A record's client: none for an anonymous one, refused if not at the user's sites."""
    if not pk:
        return None
    try:
        return _client(request, pk, Cap.CLIENT_FIND)
    except NotFound:
        raise ValidationError({"client": "No such client at your sites."}) from None


class SiteList(APIView):
    capability = Cap.SELF

    @extend_schema(responses=s.SiteSerializer(many=True))
    def get(self, request: Request) -> Response:
        sites = access.working_sites(request.user)
        return Response(s.SiteSerializer(sites, many=True).data)


class ClientLookup(APIView):
    capability = Cap.CLIENT_FIND

    @extend_schema(request=s.LookupSerializer, responses=s.LookupResultSerializer)
    def post(self, request: Request) -> Response:
        data = s.LookupSerializer(data=request.data, context={"scheme": clients.scheme()})
        data.is_valid(raise_exception=True)
        site = _site_for(request, data.validated_data["site"])
        found = clients.find(data.validated_data["uic"])
        client = found.client
        if client is not None:
            if not access.client_scope(request.user, Cap.CLIENT_VIEW).filter(pk=client.pk).exists():
                clients.link(request.user, client, site)
            clients.viewed(request.user, client, site, what="api.lookup")
        in_scope = access.client_scope(request.user, Cap.CLIENT_VIEW)
        near = [c.code for c in found.possible_duplicates if in_scope.filter(pk=c.pk).exists()]
        return Response(
            {
                "client": s.ClientSerializer(client).data if client else None,
                "possible_duplicates": near,
            }
        )


class ClientCreate(APIView):
    capability = Cap.CLIENT_FIND

    @extend_schema(
        request=s.RegisterSerializer, responses={201: s.ClientSerializer, 200: s.ClientSerializer}
    )
    def post(self, request: Request) -> Response:
        data = s.RegisterSerializer(data=request.data, context={"scheme": clients.scheme()})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        site = _site_for(request, v["site"])
        profile = {k: v.get(k) for k in clients.PROFILE_FIELDS}
        try:
            client, created = clients.register(
                request.user, site, v["uic"], client_id=v.get("id"), **profile
            )
        except clients.AlreadyRegistered as exc:
            existing = exc.client
            visible = access.client_scope(request.user, Cap.CLIENT_VIEW).filter(pk=existing.pk)
            return Response(
                {
                    "errors": [{"field": "uic", "message": "This UIC is already registered."}],
                    "client": s.ClientSerializer(existing).data if visible.exists() else None,
                },
                status=status.HTTP_409_CONFLICT,
            )
        except clients.Conflict as exc:
            return Response(
                {"errors": [{"field": exc.field, "message": str(exc)}]},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            s.ClientSerializer(client).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ClientDetail(APIView):
    capability = Cap.CLIENT_VIEW

    @extend_schema(responses=s.ClientSerializer)
    def get(self, request: Request, pk: Any) -> Response:
        client = _client(request, pk, Cap.CLIENT_VIEW)
        clients.viewed(request.user, client, None, what="api")
        return Response(s.ClientSerializer(client).data)

    @extend_schema(request=s.ClientUpdateSerializer, responses=s.ClientSerializer)
    def patch(self, request: Request, pk: Any) -> Response:
        client = _client(request, pk, Cap.CLIENT_EDIT)
        data = s.ClientUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        clients.update(request.user, client, None, **data.validated_data)
        return Response(s.ClientSerializer(client).data)


class ContactCreate(APIView):
    capability = Cap.CLIENT_FIND

    @extend_schema(request=s.ContactSerializer, responses={201: s.ContactOutSerializer})
    def post(self, request: Request) -> Response:
        data = s.ContactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        site = _site_for(request, v["site"])
        client = _optional_client(request, v.get("client"))
        lines = [
            visits.Line(d["item"], d["quantity"], d.get("option", ""), d.get("secondary", False))
            for d in v.get("distributions", [])
        ]
        extra = visits.Services(
            returned_equipment=v.get("returned_equipment"),
            info_topics=v.get("info_topics", []),
            naloxone_training=v.get("naloxone_training", False),
            dropin_services=v.get("dropin_services", []),
            referral_note=v.get("referral_note", ""),
            consumption=v.get("consumption"),
            session=visits.current_session(site),
        )
        try:
            contact, created = visits.record_contact(
                request.user,
                site,
                client,
                contact_id=v.get("id"),
                date=v.get("date"),
                lines=lines,
                services=extra,
            )
        except visits.ContactConflict as exc:
            return Response(
                {"errors": [{"field": exc.field, "message": str(exc)}]},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            s.ContactOutSerializer(contact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class OverdoseCreate(APIView):
    capability = Cap.CLIENT_FIND

    @extend_schema(request=s.OverdoseSerializer, responses={201: s.OverdoseOutSerializer})
    def post(self, request: Request) -> Response:
        data = s.OverdoseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        site = _site_for(request, v["site"])
        client = _optional_client(request, v.get("client"))
        try:
            overdose, created = visits.report_overdose(
                request.user,
                site,
                date=v["date"],
                client=client,
                naloxone_doses=v["naloxone_doses"],
                outcome=v["outcome"],
                ems_called=v["ems_called"],
                source=v["source"],
                overdose_id=v.get("id"),
            )
        except visits.ContactConflict as exc:
            raise ValidationError({exc.field: str(exc)}) from None
        return Response(
            s.OverdoseOutSerializer(overdose).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
