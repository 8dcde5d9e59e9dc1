"""Production refuses to start insecurely, and passes Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harbour.lib.keys import new_entry

HARBOUR = str(Path(sys.executable).parent / "harbour")
STRONG_SECRET = "p9Zr-3kLq8vN2xT7wY4mB6cF1hJ5sD0gA_eR9uI3oP7lK2jH6nM8bV4cX1zQ5wE3"


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HARBOUR_VAR_DIR": "/tmp/harbour-settings-test"}
    return subprocess.run(
        [HARBOUR, *args], capture_output=True, text=True, env={**base, **env}, timeout=120
    )


def production(**overrides: str) -> dict[str, str]:
    env = {
        "HARBOUR_ENV": "production",
        "SECRET_KEY": STRONG_SECRET,
        "ALLOWED_HOSTS": "harbour.example.org",
        "HARBOUR_PSEUDONYM_KEYS": new_entry("p1"),
        "HARBOUR_FIELD_KEYS": new_entry("f1"),
        "DATABASE_URL": "sqlite:////tmp/harbour-settings-test/prod.sqlite3",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def test_production_passes_the_deployment_checks_with_everything_set() -> None:
    result = run(["check", "--deploy", "--fail-level", "WARNING"], **production())
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_a_default_or_weak_secret_key() -> None:
    for secret in ["", "short", "django-insecure-" + "x" * 60]:
        result = run(["check"], **production(SECRET_KEY=secret))
        assert result.returncode != 0
        assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_pseudonymisation_key() -> None:
    result = run(["check"], **production(HARBOUR_PSEUDONYM_KEYS=""))
    assert result.returncode != 0
    assert "pseudonymisation key" in result.stderr


def test_production_refuses_a_short_pseudonymisation_key() -> None:
    result = run(["check"], **production(HARBOUR_PSEUDONYM_KEYS="p1:c2hvcnQ="))
    assert result.returncode != 0
    assert "pseudonymisation key" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts_or_with_a_wildcard() -> None:
    for hosts in ["", "*"]:
        result = run(["check"], **production(ALLOWED_HOSTS=hosts))
        assert result.returncode != 0
        assert "ALLOWED_HOSTS" in result.stderr


def test_production_refuses_debug() -> None:
    result = run(["check"], **production(DEBUG="yes"))
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_a_bad_value_in_the_environment_names_the_variable() -> None:
    result = run(["check"], HARBOUR_IDLE_MINUTES="thirty")
    assert result.returncode != 0
    assert "HARBOUR_IDLE_MINUTES" in result.stderr


def test_production_reads_keys_from_a_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "pseudonym.keys"
    key_file.write_text(new_entry("p2") + "\n")
    result = run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        **production(HARBOUR_PSEUDONYM_KEYS="", HARBOUR_PSEUDONYM_KEY_FILE=str(key_file)),
    )
    assert result.returncode == 0, result.stderr
