"""Each staff role in real headless Chromium (Playwright, /usr/bin/chromium) against a real
``kholuu serve``, on SQLite and PostgreSQL: log in through the form, see the pages the role may
see (the fixity report naming a damaged file only to custody staff and auditors), be refused the
others, log out. A screenshot of every step is kept (``KHOLUU_TEST_ARTEFACTS``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Role
from repository.i18n import Translator
from repository.settings import Settings
from tests.accounts import PASSWORD, add_staff
from tests.conftest import cli_env
from tests.web.browser import artefacts_dir, chromium, needs_chromium, signed_in
from tests.web.test_web import PERIOD, seed, serving

VI = Translator("vi")
DAMAGED = "Địa bạ.pdf"  # the file the seeded audit found corrupt
FIXITY = f"reports/fixity?since={PERIOD['since']}&until={PERIOD['until']}"
MAY_SEE: dict[Role, set[str]] = {
    Role.ADMINISTRATOR: {
        "dashboard",
        "fixity",
        "aips",
        "ingest",
        "incidents",
        "restrictions",
        "transfers",
        "requests",
        "policy",
        "users",
    },
    Role.PRESERVATION_OFFICER: {
        "dashboard",
        "fixity",
        "aips",
        "ingest",
        "incidents",
        "restrictions",
        "transfers",
        "policy",
    },
    Role.AUDITOR: {"dashboard", "fixity", "aips", "incidents", "restrictions", "transfers", "policy"},
    Role.READER_SERVICES: {"dashboard", "aips", "restrictions", "requests"},  # and the access requests' queue
    Role.RECORDS_OFFICER: {"transfers"},  # their own agency's only
}
"""Written out by hand (not read from the rule table): what the issue says each role may see."""


def shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def visit(page: Page, base: str, path: str) -> int:
    response = page.goto(base + path)
    assert response is not None
    return response.status


@needs_chromium
@pytest.mark.timeout(300)
def test_each_role_logs_in_sees_its_pages_is_refused_the_others_and_logs_out(
    settings: Settings, sessions: sessionmaker[Session], home: Path, database_url: str, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    seed(sessions, settings)
    staff = add_staff(sessions, settings)
    folder = artefacts_dir(tmp_path, request.node.name.replace("[", "-").rstrip("]"))
    with serving(cli_env(home, database_url, KHOLUU_LANG="vi")) as served, chromium() as browser:
        base = served.base
        anonymous = browser.new_page()
        assert visit(anonymous, base, FIXITY) == 200 and "/login?next=" in anonymous.url
        assert DAMAGED not in anonymous.content()
        shot(anonymous, folder, "public-fixity")
        anonymous.close()
        for role, login in staff.items():
            with signed_in(browser, base, login, PASSWORD) as page:
                shot(page, folder, f"{role.value}-landing")
                nav = set(page.locator("nav.pages a").all_inner_texts())
                expected_nav = {VI.text(f"web.nav.{p}") for p in MAY_SEE[role]}
                assert nav == expected_nav, role
                assert page.locator("[data-user]").inner_text().startswith(login)
                for name, path in (("dashboard", ""), ("fixity", FIXITY)):
                    status = visit(page, base, path)
                    shot(page, folder, f"{role.value}-{name}")
                    if name in MAY_SEE[role]:
                        assert status == 200, (role, name)
                        assert not page.locator("p.error-message").count()
                    else:
                        assert status == 403, (role, name)
                        assert page.locator("p.error-message").inner_text() == VI.text("web.forbidden")
                    assert (DAMAGED in page.content()) == (name == "fixity" and name in MAY_SEE[role])
                visit(page, base, "account")
                assert page.locator("dd[data-field='role']").get_attribute("data-value") == role.value
                page.get_by_role("button", name=VI.text("web.auth.logout")).click()
                page.wait_for_load_state()
                assert page.url == base + "login"
                assert visit(page, base, "") == 200 and page.url.startswith(base + "login")  # logged out
                shot(page, folder, f"{role.value}-logged-out")
    assert len(list(folder.glob("*.png"))) == 1 + 4 * len(staff)
