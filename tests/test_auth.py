"""Signing in: argon2, lockout, idle timeout, two-factor for the roles that see most."""

from __future__ import annotations

import time

import pytest
from django.test import Client as HttpClient
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from harbour.accounts.models import Role
from tests.factory import PASSWORD, Cast, login


def sign_in(http: HttpClient, username: str, password: str = PASSWORD) -> object:
    return http.post("/account/login/", {"username": username, "password": password})


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_production_hashes_passwords_with_argon2() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "from harbour import settings; print(settings.PASSWORD_HASHERS[0])"],
        capture_output=True,
        text=True,
        check=True,
        env={
            "HARBOUR_ENV": "development",
            "PATH": "/usr/bin:/bin",
            "HARBOUR_VAR_DIR": "/tmp/harbour-hash-check",
        },
    )
    assert out.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_front_line_staff_sign_in_with_a_password_alone(cast: Cast) -> None:
    http = HttpClient()
    response = sign_in(http, "staff_north")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert http.get("/clients/").status_code == 200


def test_a_wrong_password_says_so_without_saying_which_part_was_wrong(cast: Cast) -> None:
    response = sign_in(HttpClient(), "staff_north", "wrong password")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "correct username and password" in response.content.decode()  # type: ignore[attr-defined]


def test_five_failed_sign_ins_lock_the_account_even_with_the_right_password(cast: Cast) -> None:
    http = HttpClient()
    for _ in range(5):
        sign_in(http, "staff_north", "wrong password")
    response = sign_in(http, "staff_north")
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert "locked" in response.content.decode()  # type: ignore[attr-defined]
    assert HttpClient().get("/clients/").status_code == 302  # still signed out
    # Another person's account is not affected.
    assert sign_in(HttpClient(), "outreach_north").status_code == 302  # type: ignore[attr-defined]


def test_an_administrator_can_unlock_an_account(cast: Cast) -> None:
    http = HttpClient()
    for _ in range(5):
        sign_in(http, "staff_north", "wrong password")
    login(cast["admin"]).post(f"/account/users/{cast['staff'].pk}/unlock/")
    assert sign_in(HttpClient(), "staff_north").status_code == 302  # type: ignore[attr-defined]


def test_a_session_ends_after_thirty_minutes_without_activity(cast: Cast) -> None:
    http = login(cast["staff"])
    assert http.get("/clients/").status_code == 200
    session = http.session
    session["last_seen"] = int(time.time()) - 31 * 60
    session.save()
    response = http.get("/clients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")
    assert http.get("/clients/").status_code == 302


def test_activity_keeps_a_session_alive(cast: Cast) -> None:
    http = login(cast["staff"])
    http.get("/clients/")
    session = http.session
    session["last_seen"] = int(time.time()) - 29 * 60
    session.save()
    assert http.get("/clients/").status_code == 200


@pytest.mark.parametrize("role", [Role.SITE_MANAGER, Role.ME_OFFICER, Role.ADMIN])
def test_roles_that_see_most_must_set_up_and_pass_two_factor(cast: Cast, role: str) -> None:
    http = HttpClient()
    sign_in(http, cast[role].username)
    response = http.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/")
    assert http.get("/api/v1/sites/").status_code == 403
    setup = http.get("/account/two-factor/").content.decode()
    assert "<svg" in setup  # the QR code to scan
    device = TOTPDevice.objects.get(user=cast[role])
    assert not device.confirmed
    bad = http.post(
        "/account/two-factor/",
        {"token": "000000" if current_code(device) != "000000" else "111111"},
    )
    assert bad.status_code == 200 and "not right" in bad.content.decode()
    again = http.post("/account/two-factor/", {"token": current_code(device)})
    assert "Too many wrong codes" in again.content.decode()  # throttled right after a failure
    device.refresh_from_db()
    device.throttle_reset()  # as if the wait had passed
    ok = http.post("/account/two-factor/", {"token": current_code(device), "next": "/"})
    assert ok.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert http.get("/api/v1/sites/").status_code == 200


def test_a_second_sign_in_asks_for_a_code_without_showing_the_secret_again(cast: Cast) -> None:
    user = cast[Role.ADMIN]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    http = HttpClient()
    sign_in(http, user.username)
    page = http.get("/account/two-factor/").content.decode()
    assert "<svg" not in page and "secret" not in page.lower().replace("secret=", "")


def test_front_line_roles_are_not_asked_for_two_factor(cast: Cast) -> None:
    http = HttpClient()
    sign_in(http, "outreach_north")
    assert http.get("/clients/").status_code == 200
