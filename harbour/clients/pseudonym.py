"""Keyed pseudonyms of UICs.

The raw UIC never reaches the database. What is stored:

* ``pseudonym`` = HMAC-SHA256(key, "uic:" + UIC), to find a returning client;
* ``partial`` digests = HMAC-SHA256(key, "partial:i:" + UIC with component i blanked),
  one per component, so that two codes differing in one component (a common typing
  error) can be flagged as possible duplicates without storing either code;
* a short client code derived from the first pseudonym, stable for life, which can
  be printed on a card.

A UIC has little entropy (a few million possibilities): without the key anyone could
hash them all. The key is what protects it, so it lives outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from harbour.lib.keys import Key

# Crockford's base32: no I, L, O or U, so a code read aloud or handwritten survives.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


def ring() -> list[Key]:
    keys: list[Key] = settings.PSEUDONYM_KEYS
    if not keys:
        raise ImproperlyConfigured("No pseudonymisation key is configured.")
    return keys


def current_key() -> Key:
    return ring()[0]


def _mac(key: Key, message: str) -> str:
    return hmac.new(key.secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Digests:
    key_id: str
    pseudonym: str
    partials: tuple[str, ...]


def digests(parts: list[str], key: Key) -> Digests:
    uic = "".join(parts)
    partials = []
    for index in range(len(parts)):
        masked = "|".join("*" if i == index else p for i, p in enumerate(parts))
        partials.append(_mac(key, f"partial:{index}:{masked}"))
    return Digests(key.id, _mac(key, f"uic:{uic}"), tuple(partials))


def all_digests(parts: list[str]) -> list[Digests]:
    """Digests under every key of the ring, newest first (for finding old records)."""
    return [digests(parts, key) for key in ring()]


def client_code(pseudonym: str) -> str:
    raw = int(hashlib.sha256(("code:" + pseudonym).encode()).hexdigest(), 16)
    chars = []
    for _ in range(CODE_LENGTH):
        raw, rem = divmod(raw, 32)
        chars.append(_ALPHABET[rem])
    code = "".join(chars)
    return f"{code[:5]}-{code[5:]}"


def normalise_code(text: str) -> str:
    cleaned = "".join(text.split()).upper().replace("-", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != CODE_LENGTH:
        return ""
    return f"{cleaned[:5]}-{cleaned[5:]}"
