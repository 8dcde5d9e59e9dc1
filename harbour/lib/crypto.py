"""Encryption at rest for the few contact details Harbour keeps (a phone number).

Uses the ``cryptography`` project's Fernet (AES-128-CBC with HMAC-SHA256) through
MultiFernet, so keys can be rotated: the newest key encrypts, every key decrypts,
and ``harbour rotate-field-keys`` re-encrypts old values with the newest key.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(ring_ids: tuple[str, ...]) -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("No field encryption key is configured.")
    return MultiFernet([Fernet(base64.urlsafe_b64encode(k.secret)) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(k.id for k in settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with the configured field keys."
        ) from None


def rotate(token: str) -> str:
    return fernet().rotate(token.encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored encrypted; it cannot be searched or sorted, by design."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
