"""The random draws every stream shares.

Each stream is its own ``random.Random``, seeded from the programme's seed and the
stream's name, so drawing more from one stream never shifts what another draws.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def stream(seed: int, name: str) -> random.Random:
    """The generator of one named stream of a programme."""
    # The seed is text so each stream starts from a different state for the same seed.
    return random.Random(f"{seed}:{name}")  # noqa: S311 - demo data, not secrets


def pick(rng: random.Random, values: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(values, weights)[0]


def draw_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the stream, so ids repeat with the seed (``uuid4`` would not)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)
