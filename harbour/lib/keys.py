"""Secret keys that live outside the database.

Two key rings: one for pseudonymising UICs (HMAC-SHA256) and one for encrypting
contact details at rest (Fernet). Each ring is a list of ``id:secret`` entries,
newest first, read from an environment variable or a key file. Keeping the keys
out of the database means a stolen database file alone cannot re-identify anyone.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_PSEUDONYM_KEY_BYTES = 32


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes


def parse_ring(text: str, source: str) -> list[Key]:
    ring: list[Key] = []
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key_id, sep, encoded = line.partition(":")
        if not sep or not key_id.strip() or not encoded.strip():
            raise ImproperlyConfigured(
                f"{source}: entry {number} must look like 'id:base64secret'."
            )
        try:
            secret = base64.urlsafe_b64decode(encoded.strip().encode())
        except ValueError:
            raise ImproperlyConfigured(f"{source}: entry {number} is not valid base64.") from None
        ring.append(Key(key_id.strip(), secret))
    ids = [k.id for k in ring]
    if len(set(ids)) != len(ids):
        raise ImproperlyConfigured(f"{source}: key ids must be unique.")
    return ring


def new_entry(key_id: str, size: int = 32) -> str:
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(size)).decode()}"


def load_ring(env_name: str, file_env_name: str, dev_file: Path | None) -> list[Key]:
    """Read a key ring from ``env_name``, else from the file named by ``file_env_name``.

    In development ``dev_file`` is created with a fresh random key on first use, so
    ``make demo`` works with no set-up; production passes ``dev_file=None``.
    """
    inline = os.environ.get(env_name)
    if inline:
        return parse_ring(inline, env_name)
    path_text = os.environ.get(file_env_name)
    path = Path(path_text) if path_text else dev_file
    if path is None:
        return []
    if not path.exists():
        if path_text:
            raise ImproperlyConfigured(f"{file_env_name} names {path}, which does not exist.")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a private temporary file, then link it into place: the link either
        # appears whole or fails because another process made the key a moment ago.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".new-key-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(new_entry("k1") + "\n")
            os.link(tmp, path)
        except FileExistsError:
            pass  # use theirs
        finally:
            os.unlink(tmp)
    return parse_ring(path.read_text(), str(path))
