"""Pluggable text-message gateways. A reminder names no service, no condition, no
programme: a phone may be seen by others."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from harbour.casework.models import Appointment, OutboxMessage

log = logging.getLogger(__name__)


class Backend(Protocol):
    def send(self, to: str, body: str, appointment: Appointment | None) -> None: ...


class OutboxBackend:
    """Keeps messages in Harbour's outbox: the default, and what tests and demos use."""

    def send(self, to: str, body: str, appointment: Appointment | None) -> None:
        OutboxMessage.objects.create(to=to, body=body, appointment=appointment, backend="outbox")


class ConsoleBackend(OutboxBackend):
    """Also prints the message (without the number) for a developer watching the console."""

    def send(self, to: str, body: str, appointment: Appointment | None) -> None:
        super().send(to, body, appointment)
        print(f"[sms] to …{to[-3:]}: {body}")


def backend() -> Backend:
    cls = import_string(settings.SMS_BACKEND)
    return cls()  # type: ignore[no-any-return]
