"""Clients known only by their Harbour client code.

``harbour export-bundle`` writes the pseudonymous client code (``XXXXX-XXXXX``) in
the ``uic`` column, never the raw UIC, and the format promises that such an export
imports again. Into the Harbour that wrote it, the code finds the client. Into
another Harbour, nobody there can know the UIC, so the client is created with the
code alone and a pseudonym that can never collide with a UIC's: the UIC pseudonyms
are keyed hashes of "uic:…", these of "code-only:…". Such a client has no partial
digests, so the near-duplicate check cannot see it until it is merged with the
record made when the person registers again with their UIC.
"""

from __future__ import annotations

import re

from harbour.clients import pseudonym as ps
from harbour.exchange.values import Invalid
from harbour.lib.keys import Key

# The shape client_code() writes. A UIC in the programme's scheme could in theory be
# ten characters written with a dash after the fifth; the code reading wins then,
# as the documentation says, because that is what an export contains.
_CODE_SHAPE = re.compile(r"^[0-9A-Za-z]{5}-[0-9A-Za-z]{5}$")


def looks_like_code(text: str) -> bool:
    return bool(_CODE_SHAPE.match(text))


def parse_code(text: str) -> str:
    """The code in its canonical form (upper case, O read as 0, I and L as 1)."""
    code = ps.normalise_code(text)
    if not code or any(ch not in ps._ALPHABET for ch in code.replace("-", "")):
        raise Invalid("looks like a client code (XXXXX-XXXXX) but is not one.")
    return code


def code_only_pseudonym(code: str, key: Key | None = None) -> str:
    return ps._mac(key or ps.current_key(), f"code-only:{code}")
