"""A programme can set its own UIC scheme before it registers anyone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from harbour.clients import services
from harbour.clients.uic import UICError
from tests.factory import Cast, make_client

THREE_PARTS = [
    {"key": "initials", "label": "Your initials", "kind": "letters", "length": 2},
    {"key": "day", "label": "Day of birth", "kind": "digits", "length": 2},
    {
        "key": "sex",
        "label": "Sex at birth",
        "kind": "choice",
        "length": 1,
        "choices": [["F", "Female"], ["M", "Male"]],
    },
]


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_a_new_scheme_changes_the_registration_form(cast: Cast, tmp_path: Path) -> None:
    call_command("uic-scheme", set=write(tmp_path, THREE_PARTS))
    scheme = services.scheme()
    assert [c.key for c in scheme.components] == ["initials", "day", "sex"]
    assert scheme.build({"initials": "ab", "day": "07", "sex": "F"}) == "AB07F"
    with pytest.raises(UICError) as bad:
        scheme.build({"initials": "ab", "day": "7", "sex": "F"})
    assert bad.value.component == "day"
    from tests.factory import login

    page = login(cast["staff"]).get("/clients/").content.decode()
    assert "Day of birth" in page and "Mother" not in page


def test_the_scheme_cannot_change_once_clients_are_registered(cast: Cast, tmp_path: Path) -> None:
    make_client(cast.north)
    with pytest.raises(CommandError, match="impossible to find"):
        call_command("uic-scheme", set=write(tmp_path, THREE_PARTS))


def test_a_bad_scheme_is_refused_naming_the_component_and_field(db: None, tmp_path: Path) -> None:
    bad = [{"key": "x", "label": "X", "kind": "emoji", "length": 9}]
    with pytest.raises(CommandError) as error:
        call_command("uic-scheme", set=write(tmp_path, bad))
    assert "component 1: kind" in str(error.value) and "component 1: length" in str(error.value)
