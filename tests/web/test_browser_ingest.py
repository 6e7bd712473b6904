"""Ingest in the browser, in real headless Chromium (Playwright, /usr/bin/chromium) against a real
``kholuu serve``, on SQLite and PostgreSQL: a preservation officer logs in, uploads a sample SIP
through the ingest page (its script sends the chunks), follows the job page until the job has
finished, and opens the AIP page, on a desktop and on a phone's screen. Screenshots are kept
(``KHOLUU_TEST_ARTEFACTS``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page
from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Role
from repository.i18n import Translator
from repository.settings import Settings
from repository.storage.locations import open_locations
from tests.accounts import PASSWORD, add_staff
from tests.conftest import cli_env
from tests.web.browser import artefacts_dir, chromium, needs_chromium, signed_in
from tests.web.test_web import serving

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "sip-zip-bao-cao.zip"
VI = Translator("vi")


def shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


@needs_chromium
@pytest.mark.timeout(400)
def test_an_officer_uploads_a_sip_watches_the_job_finish_and_opens_the_aip(
    settings: Settings, sessions: sessionmaker[Session], home: Path, database_url: str, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    open_locations(settings, initialize=True)
    staff = add_staff(sessions, settings)
    folder = artefacts_dir(tmp_path, request.node.name.replace("[", "-").rstrip("]"))
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":  # a script refused by the CSP, a failed request
            problems.append(message.text)

    with serving(cli_env(home, database_url, KHOLUU_LANG="vi")) as served, chromium() as browser:
        base = served.base
        with signed_in(browser, base, staff[Role.PRESERVATION_OFFICER], PASSWORD) as page:
            page.on("console", console)
            page.get_by_role("link", name=VI.text("web.nav.ingest")).click()
            page.wait_for_load_state()
            page.get_by_label(
                VI.text("web.ingest.file", {"suffixes": ".zip, .tar, .tar.gz, .tgz"})
            ).set_input_files(str(SAMPLE))
            shot(page, folder, "1-ingest-page")
            page.get_by_role("button", name=VI.text("web.ingest.upload_submit")).click()
            page.wait_for_url("**/jobs/*", timeout=60_000)
            shot(page, folder, "2-job-running")
            link = page.locator("a[data-aip-link]")
            link.wait_for(timeout=300_000)  # the page follows the job and shows the link once it is done
            assert page.locator("#job-status").inner_text() == VI.text("web.job_status.completed")
            storage = page.locator("li[data-step='storage']")
            assert storage.get_attribute("data-step-status") == "done"
            assert storage.inner_text() == f"{VI.text('web.step.storage')}: {VI.text('web.step_status.done')}"
            shot(page, folder, "3-job-completed")
            link.click()
            page.wait_for_load_state()
            aip_id = page.locator("h1[data-aip]").get_attribute("data-aip") or ""
            assert aip_id.startswith("uuid-") and page.url.endswith(aip_id)
            assert page.locator("span[data-status]").inner_text() == VI.text("web.aip_status.stored")
            assert page.locator("table.timeline tr[data-event='virus check']").count() >= 1
            shot(page, folder, "4-aip-page")
            page.set_viewport_size({"width": 390, "height": 844})  # a phone
            page.reload()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
            shot(page, folder, "5-aip-page-phone")
            page.goto(base + "aips")
            assert page.locator(f"tr[data-aip='{aip_id}']").count() == 1
            shot(page, folder, "6-aip-list-phone")
    assert problems == []
