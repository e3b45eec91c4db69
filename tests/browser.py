"""Browser tests' tools: Debian's Chromium driven by Playwright, axe-core on every page a journey visits, and a
screenshot of each page under build/screenshots/ (a test artifact, never committed).

Not a test module. A browser test uses `shared_cloud()` (tests/e2e_people.py) for the local cloud and
`browser_session()` here, and calls `look(page, name)` after every navigation: it fails on any WCAG 2.2 A/AA
violation and keeps the screenshot.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("KABINET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def chromium() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if not found:
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium) or set "
                    "KABINET_CHROMIUM", pytrace=False)
    return found


@contextmanager
def browser_session(javascript: bool = True, locale: str = "ru-RU") -> Iterator[Any]:
    """A fresh browser context (no cookies) in a headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=ARGS, headless=True)
        try:
            context = browser.new_context(java_script_enabled=javascript, locale=locale,
                                          viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            if not javascript:  # axe is JavaScript: it checks a copy of each page in a context that runs it
                context.kabinet_axe = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
            yield context
        finally:
            browser.close()


def look(page: Any, name: str) -> None:
    """Screenshot the page and run axe-core on it: no WCAG 2.2 A/AA violation may stay."""
    from axe_playwright_python.sync_playwright import Axe

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"), full_page=True)
    heading = page.locator("main h1").first.inner_text() if page.locator("main h1").count() else ""
    assert heading not in ("Что-то пошло не так", "Something went wrong"), f"{name}: an internal error page"
    checked = page
    checker = getattr(page.context, "kabinet_axe", None)
    if checker is not None:  # the very HTML the no-JavaScript browser got, its styles from the same server
        checked = checker.new_page()
        origin = re.match(r"https?://[^/]+", page.url).group()  # type: ignore[union-attr]
        checked.set_content(page.content().replace("<head>", f'<head><base href="{origin}/">', 1))
    assert checked.locator("h1").count() == 1, f"{name}: one h1"
    result = Axe().run(checked, options={"runOnly": {"type": "tag", "values": WCAG}})
    if checked is not page:
        checked.close()
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result.response["violations"]]
    assert violations == [], f"{name} ({page.url}): accessibility violations {violations}"


RATE_LIMITED = re.compile("Слишком много запросов с вашего адреса|Too many requests from your address")
TYPED = ("() => Array.from(document.querySelectorAll('main form input[name]:not([type=hidden]):not([type=checkbox])"
         ":not([type=radio]):not([type=file]), main form textarea[name]')).map(e => [e.name, e.value])")


def _press(page: Any, button: str | None) -> None:
    with page.expect_navigation():
        if button:
            page.get_by_role("button", name=button).click()
        else:
            page.locator("main form button[type=submit]").first.click()


def submit(page: Any, button: str | None = None) -> None:
    """Press the form's submit button (by its visible text) and wait for the next page.

    chalice local gives every client the address 127.0.0.1, so a module's journeys share one per-IP allowance
    (30 a minute): refused for that, the journey waits out the minute as a person would, types the same values
    again and presses once more."""
    typed = page.evaluate(TYPED)
    _press(page, button)
    for _ in range(2):
        summary = page.locator(".error-summary")
        if not (summary.count() and RATE_LIMITED.search(summary.inner_text())):
            return
        time.sleep(61)
        for name, value in typed:
            page.locator(f'main form [name="{name}"]').first.fill(value)
        _press(page, button)


def sign_in(page: Any, base: str, login: str, password: str, next_path: str = "/") -> None:
    """The sign-in page, as a person fills it, landing on `next_path`."""
    page.goto(f"{base}/login?next={next_path}")
    page.get_by_label("Телефон, e-mail или СНИЛС").fill(login)
    page.get_by_label("Пароль").fill(password)
    submit(page, "Войти")


def reload_until(page: Any, what: str, probe: Any, seconds: float = 20) -> None:
    """Reload the page (as a person presses «Обновить») until `probe()` holds: the local cloud's workers run
    within seconds."""
    deadline = time.monotonic() + seconds
    while not probe():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s ({page.url})"
        time.sleep(0.4)
        page.reload()
