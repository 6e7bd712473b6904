"""The staff workspace's newer pages in real headless Chromium (Playwright, /usr/bin/chromium)
against one real ``kholuu serve`` per backend (SQLite, PostgreSQL), shared by the module's tests:
an auditor reads the format policy; an administrator creates an account with the keyboard,
disables it and issues an API token, on a phone-sized screen; a preservation officer rejects a
transfer; an agency's records officer confirms the receipt of their own. Each test uses its own
browser context (its own login). Screenshots are kept (``KHOLUU_TEST_ARTEFACTS``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from repository.catalog.db import make_engine, session_factory
from repository.catalog.records_store import add_agency
from repository.i18n import Translator
from repository.settings import load_settings
from tests.accounts import AGENCY, FAST_ARGON2, PASSWORD, add_staff
from tests.conftest import cli_env, module_catalog, run_cli, write_home_config
from tests.web.browser import artefacts_dir, chromium, needs_chromium, signed_in
from tests.web.test_web import serving
from workflows.records.transfers import receive

VI = Translator("vi")
OTHER = "H49.20"
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Workspace:
    base: str
    browser: Browser
    folder: Path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def workspace(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("headless Chromium is not installed")
    root = tmp_path_factory.mktemp(f"staff-{request.param}")
    with ExitStack() as stack:
        url = stack.enter_context(module_catalog(request, root))
        home = root / "home"
        write_home_config(home, FAST_ARGON2)
        env = cli_env(home, url, KHOLUU_LANG="vi")
        assert run_cli("init", "--json", env=env).returncode == 0
        settings = load_settings(home, environ={}, overrides={"catalog": {"url": url}})
        engine = make_engine(url)
        sessions = session_factory(engine)
        add_staff(sessions, settings)
        with sessions.begin() as s:
            add_agency(s, OTHER, "Sở Tài chính tỉnh An Giang")
            for organ, name in ((AGENCY, "noi-vu-2025.zip"), (OTHER, "tai-chinh-2025.zip")):
                receive(
                    s,
                    settings,
                    organ_id=organ,
                    package_name=name,
                    received_at=datetime.now(UTC),
                    by="Lê Thị B",
                )
        engine.dispose()
        served = stack.enter_context(serving(env))
        browser = stack.enter_context(chromium())
        yield Workspace(served.base, browser, artefacts_dir(root, f"staff-{request.param}"))


def shot(page: Page, ws: Workspace, name: str) -> None:
    path = ws.folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@needs_chromium
@pytest.mark.timeout(120)
def test_an_auditor_reads_the_format_policy(workspace: Workspace) -> None:
    with signed_in(workspace.browser, workspace.base, "kiem.toan", PASSWORD) as page:
        page.get_by_role("link", name=VI.text("web.nav.policy")).click()
        page.wait_for_url("**/policy")
        assert page.locator("h1").inner_text() == VI.text("web.policy.title")
        assert page.locator("[data-read-only]").inner_text() == VI.text("web.policy.data_file")
        assert page.locator("main form[method=post]").count() == 0  # read only
        page.get_by_label(VI.text("web.policy.find_puid")).fill("fmt/18")
        with page.expect_navigation():
            page.keyboard.press("Enter")  # the form sent from the keyboard
        page.wait_for_url("**/policy/formats/fmt/18")
        assert page.locator("h1").get_attribute("data-puid") == "fmt/18"
        assert page.locator("tr[data-field=risk]").get_attribute("data-source") == "shipped"
        shot(page, workspace, "auditor-policy-fmt18")


@needs_chromium
@pytest.mark.timeout(120)
def test_an_administrator_manages_an_account_on_a_phone(workspace: Workspace) -> None:
    with signed_in(workspace.browser, workspace.base, "quan.tri", PASSWORD) as page:
        page.set_viewport_size(PHONE)
        page.goto(workspace.base + "users")
        form = page.locator("form.add-user")
        form.get_by_label(VI.text("web.users.login")).fill("lan.pham")
        form.get_by_label(VI.text("web.users.display_name")).fill("Phạm Thị Lan")
        form.get_by_label(VI.text("web.users.role")).select_option("records_officer")
        form.get_by_label(VI.text("web.users.agency")).select_option(AGENCY)
        form.get_by_label(VI.text("web.users.password"), exact=True).fill(PASSWORD)
        form.get_by_label(VI.text("web.users.password_again")).fill(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")  # submitted from the keyboard
        page.wait_for_load_state()
        assert page.locator("[data-done]").inner_text() == VI.text("web.users.added", {"login": "lan.pham"})
        assert fits_the_screen(page)
        shot(page, workspace, "administrator-users-phone")
        account = page.locator("details[data-user-row='lan.pham']")
        account.locator("summary").focus()
        page.keyboard.press("Enter")  # opened with the keyboard
        account.get_by_role("button", name=VI.text("web.users.disable")).click()
        page.wait_for_load_state()
        assert page.locator("details[data-user-row='lan.pham']").get_attribute("data-active") == "0"
        account = page.locator("details[data-user-row='lan.pham']")
        account.locator("summary").click()
        account.get_by_label(VI.text("web.users.token_label")).fill("máy thu thập")
        account.get_by_role("button", name=VI.text("web.users.issue_token")).click()
        page.wait_for_load_state()
        token = page.locator("[data-token]").input_value()
        assert token.startswith("klu_")
        shot(page, workspace, "administrator-token-once")
        page.goto(workspace.base + "users")
        assert page.locator("[data-token]").count() == 0 and token not in page.content()  # shown once


@needs_chromium
@pytest.mark.timeout(120)
def test_a_preservation_officer_rejects_a_transfer(workspace: Workspace) -> None:
    with signed_in(workspace.browser, workspace.base, "bao.quan", PASSWORD) as page:
        page.goto(workspace.base + "transfers")
        row = page.locator("tr[data-organ='H49.20']")
        row.get_by_label(VI.text("web.transfers.reject")).check()
        row.get_by_label(VI.text("web.transfers.reason")).fill("Thiếu mục lục hồ sơ")
        row.get_by_role("button", name=VI.text("web.transfers.decide")).click()
        page.wait_for_load_state()
        row = page.locator("tr[data-organ='H49.20']")
        assert row.locator("td[data-status]").get_attribute("data-status") == "rejected"
        assert row.locator("[data-decided-by]").inner_text() == VI.text(
            "web.transfers.decided_by", {"by": "bao.quan"}
        )
        shot(page, workspace, "preservation-officer-rejected")


@needs_chromium
@pytest.mark.timeout(120)
def test_a_records_officer_confirms_the_receipt_of_their_own_transfer(workspace: Workspace) -> None:
    with signed_in(workspace.browser, workspace.base, "van.thu", PASSWORD) as page:
        page.goto(workspace.base + "transfers")
        assert page.locator("tr[data-transfer]").count() == 1  # their agency's only
        assert page.locator("form.decide").count() == 0
        page.get_by_role(
            "button", name=VI.text("web.transfers.confirm_for", {"package": "noi-vu-2025.zip"})
        ).click()
        page.wait_for_load_state()
        assert page.locator(f"tr[data-organ='{AGENCY}'] [data-confirmed]").count() == 1
        shot(page, workspace, "records-officer-confirmed")
