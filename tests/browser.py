"""Shared Playwright fixtures for the browser tests (tests/test_browser_*.py).

One headless Chromium per test session; each test gets a fresh context (no shared
cookies) at phone width (``phone``, 360×740) or desktop width (``desktop``,
1280×800), served by pytest-django's ``live_server`` over a transactional database.

Every page a test visits is held to the same rules: no console error (a Content
Security Policy violation is one), no server error, no horizontal scroll, and a
visible label for every form input. ``Screen.check`` enforces them and saves a
screenshot to test-artifacts/screens/<name>-<phone|desktop>.png.

Without Chromium (or Playwright) the browser tests fail, so CI cannot pass by
silently skipping them. A developer without it may set HARBOUR_ALLOW_NO_BROWSER=1
to skip them.

A test module loads the fixtures with ``pytest_plugins = ["tests.browser"]``, so
they are registered once for the session, and imports ``Screen`` for type hints
only (``if TYPE_CHECKING``), so this module is imported as a plugin first and its
asserts are rewritten. Sign in with ``screen.sign_in(user)``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from harbour.accounts.models import User
from tests.factory import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"

_ALLOW_NO_BROWSER = os.environ.get("HARBOUR_ALLOW_NO_BROWSER") == "1"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

# Reports a CSP violation as a console error even if Chromium's own report changes.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""

# Inputs a person can see whose labels they cannot: none, hidden, or empty.
_UNLABELLED = """
() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== "hidden" && s.opacity !== "0";
  };
  const bad = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || !visible(el)) continue;
    const ok = Array.from(el.labels || []).some((l) => visible(l) && l.textContent.trim());
    if (!ok) bad.push(el.name || el.id || el.outerHTML.slice(0, 80));
  }
  return bad;
}
"""


@dataclass
class Screen:
    """A browser tab at one width, talking to the live server."""

    page: Page
    base_url: str
    kind: str  # "phone" or "desktop"
    width: int
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> None:
        self.page.goto(self.url(path))

    def submit(self, button: Locator) -> None:
        """Click or press a button that loads a new page, and wait for that page."""
        with self.page.expect_navigation():
            button.click()

    def press(self, key: str) -> None:
        """Press a key that loads a new page (Enter in a form), and wait for it."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def check(self, name: str) -> None:
        """Save a screenshot and hold the page to the rules every page must keep."""
        page = self.page
        page.wait_for_load_state("load")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"{name}-{self.kind}.png"), full_page=True)
        errors, self.errors[:] = list(self.errors), []  # reported here, not again at teardown
        assert not errors, f"{name}: console or server errors: {errors}"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= self.width + 1, f"{name}: scrolls sideways ({scroll}px > {self.width}px)"
        unlabelled = page.evaluate(_UNLABELLED)
        assert not unlabelled, f"{name}: inputs without a visible label: {unlabelled}"

    def focused(self) -> str:
        """The focused element's name, id or text: what the keyboard is on now."""
        return str(
            self.page.evaluate(
                "(() => { const e = document.activeElement;"
                " return e.name || e.id || e.textContent.trim(); })()"
            )
        )

    def message(self) -> str:
        return self.page.locator(".messages").inner_text()

    # -- signing in ------------------------------------------------------------------

    def sign_in(self, user: User, password: str = PASSWORD, *, name: str = "") -> None:
        """Sign in through the real form, and through two-factor when the role needs it.

        With ``name``, the sign-in and two-factor pages are checked and photographed.
        """
        page = self.page
        self.goto("/account/login/")
        if name:
            self.check(f"{name}-login")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        self.submit(page.get_by_role("button", name="Sign in"))
        if "/account/two-factor/" in page.url:
            if name:
                self.check(f"{name}-two-factor")
            page.get_by_label("6-digit code").fill(self.totp_code(user))
            self.submit(page.get_by_role("button", name="Check code"))
        assert "/account/" not in page.url, f"sign-in did not get past {page.url}"

    @staticmethod
    def totp_code(user: User) -> str:
        """The code the person's authenticator app would show now.

        A code is accepted once: a second sign-in within the same 30 seconds uses the
        next step's code, which the server accepts (it tolerates one step of drift).
        """
        # The device the two-factor page checks against, chosen as the view chooses it.
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        assert device is not None, f"{user.username} has no authenticator device"
        now = int((time.time() - device.t0) // device.step) + device.drift
        counter = max(now, device.last_t + 1)
        return str(hotp(device.bin_key, counter, digits=device.digits)).zfill(device.digits)


def _missing() -> str:
    if sync_playwright is None:
        return "the playwright package is not installed"
    if not CHROMIUM.exists():
        return f"Chromium is missing at {CHROMIUM} (run `bash scripts/system-deps`)"
    return ""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The one Chromium of this test session."""
    missing = _missing()
    if missing and _ALLOW_NO_BROWSER:
        pytest.skip(f"{missing}; HARBOUR_ALLOW_NO_BROWSER=1, so the browser tests are skipped")
    if missing:
        pytest.fail(
            f"{missing}. The browser tests do not skip themselves: "
            "set HARBOUR_ALLOW_NO_BROWSER=1 to skip them on purpose."
        )
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


_TEST_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember whether the test itself failed, so teardown does not report it twice."""
    report = yield
    if call.when == "call":
        item.stash[_TEST_FAILED] = call.excinfo is not None
    return report


def _screen(
    request: pytest.FixtureRequest,
    browser: Browser,
    base_url: str,
    kind: str,
    viewport: dict[str, int],
) -> Iterator[Screen]:
    context = browser.new_context(viewport=viewport, locale="en-GB")  # type: ignore[arg-type]
    context.set_default_timeout(5_000)
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    screen = Screen(page, base_url, kind, viewport["width"])

    error_pages: set[str] = set()

    def on_response(response: Any) -> None:
        if response.request.resource_type == "document" and response.status < 500:
            if response.status >= 400:
                error_pages.add(response.url)  # a 403, 404 or 422 page, meant as such
        elif response.status >= 400:
            screen.errors.append(f"HTTP {response.status} {response.url}")

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        where = msg.location.get("url") or page.url
        if msg.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        ) and (where.split("#")[0] in error_pages):
            return  # Chromium reports the page's own status; the page itself loaded
        screen.errors.append(f"{msg.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: screen.errors.append(f"script error: {exc}"))
    page.on("response", on_response)
    yield screen
    context.close()
    if not request.node.stash.get(_TEST_FAILED, False):
        assert not screen.errors, f"console or server errors: {screen.errors}"


@pytest.fixture
def phone(
    request: pytest.FixtureRequest, browser: Browser, live_server: Any, transactional_db: None
) -> Iterator[Screen]:
    yield from _screen(request, browser, live_server.url, "phone", PHONE)


@pytest.fixture
def desktop(
    request: pytest.FixtureRequest, browser: Browser, live_server: Any, transactional_db: None
) -> Iterator[Screen]:
    yield from _screen(request, browser, live_server.url, "desktop", DESKTOP)
