"""A dissemination request end to end in real headless Chromium (Playwright, /usr/bin/chromium)
against a real ``kholuu serve``, on SQLite and PostgreSQL: a reader fills in the public form,
reader services log in and approve it (the DIP is built), the reader opens the follow-up link,
gets the one-time download link and downloads a ZIP that is the DIP (its METS and the Vietnamese
index ``muc-luc.html``), byte for byte the file the archive built; the link is then refused. A
screenshot of every step is kept (``KHOLUU_TEST_ARTEFACTS``)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page

from repository.i18n import Translator
from tests import dip_requests
from tests.accounts import PASSWORD, add_staff
from tests.dip_requests import FILE_CODE, Stored
from tests.web.browser import artefacts_dir, chromium, needs_chromium, signed_in
from tests.web.test_web import serving

VI = Translator("vi")


request_folders, stored = dip_requests.request_folders, dip_requests.stored  # the fixtures


def shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


@needs_chromium
@pytest.mark.timeout(300)
def test_a_reader_requests_reader_services_approve_and_the_reader_downloads_the_dip(
    stored: Stored, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    add_staff(stored.sessions, stored.settings)
    folder = artefacts_dir(tmp_path, request.node.name.replace("[", "-").rstrip("]"))
    with serving(stored.env(KHOLUU_LANG="vi")) as served, chromium() as browser:
        base = served.base
        reader_context = browser.new_context(locale="vi-VN", accept_downloads=True)
        reader = reader_context.new_page()
        reader.goto(base + "requests/new")
        reader.get_by_label(VI.text("web.request.requester_name")).fill("Nguyễn Thị Hoa")
        reader.get_by_label(VI.text("web.request.requester_contact")).fill("hoa@example.vn")
        reader.get_by_label(VI.text("web.request.target")).fill(FILE_CODE)
        reader.get_by_label(VI.text("web.request.purpose"), exact=True).select_option("01")
        reader.get_by_label(VI.text("web.request.purpose_content")).fill("Tìm hiểu lịch sử trụ sở")
        shot(reader, folder, "1-reader-form")
        reader.get_by_role("button", name=VI.text("web.request.submit")).click()
        reader.wait_for_load_state()
        request_id = reader.locator("h1[data-request]").get_attribute("data-request")
        assert request_id and request_id.startswith("YC-")
        follow = reader.locator("a[data-follow-link]").get_attribute("href")
        assert follow and "key=" in follow
        shot(reader, folder, "2-reader-submitted")

        with signed_in(browser, base, "doc.gia", PASSWORD) as staff:
            staff.goto(base + "requests?status=submitted")
            shot(staff, folder, "3-reader-services-queue")
            staff.get_by_role("link", name=request_id).click()
            staff.wait_for_load_state()
            staff.get_by_role("button", name=VI.text("web.request.approve")).click()
            staff.wait_for_load_state()
            assert staff.locator("dd[data-field='status']").get_attribute("data-value") == "ready"
            assert staff.locator("dd[data-field='decided_by']").inner_text() == "doc.gia"
            shot(staff, folder, "4-reader-services-approved")

        reader.goto(base + follow.lstrip("/"))
        assert reader.locator("dd[data-field='status']").get_attribute("data-value") == "ready"
        reader.get_by_role("button", name=VI.text("web.request.get_link")).click()
        reader.wait_for_load_state()
        shot(reader, folder, "5-reader-link")
        with reader.expect_download() as info:
            reader.locator("a[data-download-link]").click()
        saved = tmp_path / "dip.zip"
        info.value.save_as(saved)
        link = reader.locator("a[data-download-link]").get_attribute("href")
        assert link and link.startswith("/dip/")

        built = stored.home / "dips" / f"{request_id}.zip"
        assert saved.read_bytes() == built.read_bytes()
        with zipfile.ZipFile(saved) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
            (index,) = [n for n in names if n.endswith("/documentation/muc-luc.html")]
            top = index.split("/", 1)[0]
            assert f"{top}/METS.xml" in names
            assert "Mục lục" in zf.read(index).decode("utf-8")

        response = reader.goto(base + link.lstrip("/"))
        assert response is not None and response.status == 410
        assert reader.locator("p.error-message").inner_text() == VI.text(
            "request.link_used", {"request": request_id}
        )
        shot(reader, folder, "6-reader-link-used")
        reader.goto(base + follow.lstrip("/"))
        assert reader.locator("dd[data-field='status']").get_attribute("data-value") == "downloaded"
        reader_context.close()
    assert len(list(folder.glob("*.png"))) == 6
