"""Test settings: fixed keys, the test environment, and the story's cast.

The cast (see tests/factory.py): two sites in one region, North (NTH-01) and
South (STH-01), and one person of each role at North, plus Sam, site staff at South.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.plugin import blocking_manager_key

from tests.factory import Cast, make_cast


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()  # with the reference data a flush may have removed


@pytest.fixture(autouse=True)
def _no_axes_leak(settings: object) -> None:
    """Each test starts with no failed-login history."""
    import contextlib

    from axes.utils import reset

    # The table may not exist in tests without a database.
    with contextlib.suppress(Exception):
        reset()


def _flushes_database(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback")
    ):
        return True
    names = getattr(item, "fixturenames", [])
    return "transactional_db" in names or "live_server" in names


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Transactional tests end with a flush, which the audit log's triggers refuse.

    Lift them for the flush only, and put them back for the next test.
    """
    flushes = _flushes_database(item)
    if flushes:
        from django.db import connection

        from harbour.audit import triggers

        with item.config.stash[blocking_manager_key].unblock():
            triggers.drop(connection)
    yield
    # After the last test the database itself is gone: nothing to put back.
    if flushes and nextitem is not None:
        from django.db import connection

        from harbour.audit import triggers

        with item.config.stash[blocking_manager_key].unblock():
            triggers.create(connection)
