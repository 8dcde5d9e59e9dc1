"""A case manager merges a duplicate record into the right one, then undoes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harbour.clients.models import Client
from tests.factory import make_cast, make_client

if TYPE_CHECKING:
    from tests.browser import Screen

pytest_plugins = ["tests.browser"]  # the browser, phone and desktop fixtures
pytestmark = pytest.mark.browser


def test_a_case_manager_merges_a_duplicate_and_undoes_it(phone: Screen) -> None:
    cast = make_cast()
    keep = make_client(cast.north, cast["staff"], order="1")
    duplicate = make_client(cast.north, cast["staff"], order="2")
    page = phone.page
    phone.sign_in(cast["case_manager"])

    page.get_by_label("Client code from the card").fill(keep.code)
    phone.submit(page.get_by_role("button", name="Open"))
    duplicates = page.locator(
        "section", has=page.get_by_role("heading", name="Possible duplicates")
    )
    expect(duplicates).to_contain_text(duplicate.code)
    phone.check("profile-with-duplicate")

    phone.submit(duplicates.get_by_role("link", name="Merge into this record"))
    expect(page.get_by_role("heading", name=f"Merge a duplicate into {keep.code}")).to_be_visible()
    expect(page.get_by_label("Code of the duplicate record")).to_have_value(duplicate.code)
    page.get_by_label("Why").fill("Same person, gave another birth order")
    page.get_by_label("I checked that both records are the same person").check()
    phone.check("merge")
    phone.submit(page.get_by_role("button", name="Merge", exact=True))

    expect(page.get_by_role("status")).to_contain_text(
        f"{duplicate.code} was merged into {keep.code}. This can be undone."
    )
    merged = page.locator("section", has=page.get_by_role("heading", name="Merged records"))
    expect(merged).to_contain_text(duplicate.code)
    expect(merged).to_contain_text("Same person, gave another birth order")
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == keep.pk
    phone.check("profile-merged")

    phone.submit(merged.get_by_role("button", name="Undo"))
    expect(page.get_by_role("status")).to_contain_text(
        f"The merge was undone: {duplicate.code} is a separate record again."
    )
    expect(merged).to_contain_text("undone")
    expect(merged.get_by_role("button", name="Undo")).to_have_count(0)
    assert Client.objects.get(pk=duplicate.pk).merged_into_id is None
    phone.check("profile-merge-undone")
