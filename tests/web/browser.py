"""Headless Chromium driven by Playwright (``/usr/bin/chromium``, never a downloaded browser):
logging in through the login form as a person does, pages as the browser built them, and
screenshots kept as test artefacts.

Screenshots go to ``$KHOLUU_TEST_ARTEFACTS`` when it is set (kept after the run; CI uploads the
folder), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="headless Chromium is not installed (Debian: apt-get install chromium)",
)
ARTEFACTS_ENV = "KHOLUU_TEST_ARTEFACTS"


def artefacts_dir(tmp_path: Path, test_name: str) -> Path:
    """Where this test's screenshots go."""
    root = os.environ.get(ARTEFACTS_ENV)
    folder = Path(root) / test_name if root else tmp_path / "artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def signed_in(browser: Browser, base: str, login: str, password: str) -> Iterator[Page]:
    """A page of a fresh browser context (its own cookies) that has logged in through the form."""
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(base + "login")
        page.get_by_label("Tên đăng nhập").fill(login)
        page.get_by_label("Mật khẩu").fill(password)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{login} could not log in: {page.url}"
        yield page
    finally:
        context.close()


def dom(page: Page, base: str, path: str) -> Any:
    """The DOM Chromium built from ``path`` (the pages have no script: the figures are markup)."""
    page.goto(base + path.lstrip("/"))
    return lxml_html.document_fromstring(page.content())


def fetch(page: Page, base: str, path: str) -> tuple[int, bytes]:
    """A request with the page's cookies (a download, an error page), not rendered."""
    response = page.request.get(base + path.lstrip("/"), max_redirects=0)
    return response.status, response.body()


__all__ = ["CHROMIUM", "artefacts_dir", "chromium", "dom", "fetch", "needs_chromium", "signed_in"]
