"""Accessibility as a reader on a phone or a keyboard meets it, in real headless Chromium against a
real ``kholuu serve`` (both catalogs): every page a person opens — the public catalog and, signed
in as an administrator, every staff page without a URL variable plus an AIP and a record — passes
axe-core's WCAG 2.1 A and AA rules (labels, contrast, names, landmarks, language), fits a 390 px
wide phone screen without sideways scrolling, and the sign-in works from the keyboard alone.

axe-core is the engine browsers' own audit tools use; the test takes the copy bundled in the
``axe-playwright-python`` wheel and runs it in the page (no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.settings import Settings
from tests.accounts import PASSWORD, add_staff
from tests.conftest import cli_env
from tests.public_seed import OPEN_CODE
from tests.public_seed import seed as seed_public
from tests.web.browser import artefacts_dir, chromium, needs_chromium, signed_in
from tests.web.test_web import PERIOD, serving
from tests.web.test_web import seed as seed_staff

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
NOT_PAGES = ("static", "logout", "healthz", "sitemap", "oai", "api", "/dip/", "uploads")
"""Endpoints that are not pages a person reads: files, machine interfaces, actions."""


def staff_pages(app: Flask) -> list[str]:
    """Every GET page without a URL variable, from the app's own route table: a page added later
    is audited without editing this test."""
    paths = {
        rule.rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ()) and not rule.arguments
    }
    return sorted(p for p in paths if not any(part in p for part in NOT_PAGES) and p != "/login")


def violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations of the page as loaded: ``rule (impact): targets``."""
    page.evaluate(AXE_SOURCE)  # through the debugger protocol: the page's own CSP stays in force
    found: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG,
    )
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in found["violations"]
    ]


def fits_phone(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def audit(page: Page, base: str, path: str, folder: Path) -> list[str]:
    """What is wrong with one page on a phone (axe's rules do not depend on the width, the
    layout does); a screenshot of it."""
    page.set_viewport_size(PHONE)
    response = page.goto(base + path.lstrip("/"))
    assert response is not None and response.status == 200, (path, response and response.status)
    problems = [f"{path}: {v}" for v in violations(page)]
    if not fits_phone(page):
        problems.append(f"{path}: wider than a {PHONE['width']} px phone screen")
    name = path.strip("/").replace("/", "-").split("?")[0] or "home"
    page.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
    return problems


@needs_chromium
@pytest.mark.timeout(300)
def test_every_page_passes_wcag_aa_fits_a_phone_and_signs_in_by_keyboard(
    settings: Settings, sessions: sessionmaker[Session], home: Path, database_url: str, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    seed_staff(sessions, settings)
    seed_public(sessions)
    staff = add_staff(sessions, settings)
    pages = staff_pages(create_app(settings, sessions))
    assert {"/", "/aips", "/incidents", "/restrictions", "/transfers", "/requests"} <= set(pages)
    folder = artefacts_dir(tmp_path, request.node.name.replace("[", "-").rstrip("]"))
    problems: list[str] = []
    with serving(cli_env(home, database_url, KHOLUU_LANG="vi")) as served, chromium() as browser:
        base = served.base
        public = browser.new_page(locale="vi-VN")
        for path in ("login", "search?q=quyet+dinh", f"records/{OPEN_CODE}", "requests/new"):
            problems += audit(public, base, path, folder)
        # The keyboard alone: Tab to each field, Enter to send.
        public.goto(base + "login")
        for _ in range(20):  # past any link before the form, in page order
            if public.evaluate("document.activeElement.name") == "login":
                break
            public.keyboard.press("Tab")
        assert public.evaluate("document.activeElement.name") == "login"
        public.keyboard.type(staff[Role.ADMINISTRATOR])
        public.keyboard.press("Tab")
        assert public.evaluate("document.activeElement.name") == "password"
        public.keyboard.type(PASSWORD)
        with public.expect_navigation():
            public.keyboard.press("Enter")
        assert "/login" not in public.url and public.locator("[data-user]").count() == 1
        public.close()
        with signed_in(browser, base, staff[Role.ADMINISTRATOR], PASSWORD) as page:
            page.goto(base + "aips")
            aip_path = page.locator("a[href*='/aips/']").first.get_attribute("href")
            assert aip_path
            extra = [aip_path, f"reports/fixity?since={PERIOD['since']}&until={PERIOD['until']}"]
            for path in [*pages, *extra]:
                problems += audit(page, base, path, folder)
    assert problems == [], "\n".join(problems)
