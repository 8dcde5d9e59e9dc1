"""Test settings: fixed keys, the test environment, and the story's cast.

The cast (see tests/factory.py): two sites in one region, North (NTH-01) and
South (STH-01), and one person of each role at North, plus Sam, site staff at South.
"""

from __future__ import annotations

import pytest

from tests.factory import Cast, make_cast


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture(autouse=True)
def _no_axes_leak(settings: object) -> None:
    """Each test starts with no failed-login history."""
    from axes.utils import reset

    try:
        reset()
    except Exception:  # noqa: S110 - the table may not exist in non-db tests
        pass
