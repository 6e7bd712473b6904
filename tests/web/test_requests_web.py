"""Dissemination requests in the web app through Flask's test client (SQLite and PostgreSQL): the
public form and what it never shows, reader services' queue and decisions, the status page behind
its follow-up key, and the download link: byte ranges (a middle range, a resumed download), one
complete download, then a clear refusal; an expired link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html
from sqlalchemy import update

from entrypoints.web import create_app
from repository.catalog.records import Dossier
from repository.catalog.requests import DisseminationRequest, RequestStatus
from repository.i18n import Translator
from tests import dip_requests
from tests.accounts import add_staff
from tests.dip_requests import FILE_CODE, Stored
from tests.web.test_access import csrf_token, log_in

VI = Translator("vi")
READER = {
    "requester_name": "Nguyễn Thị Hoa",
    "requester_contact": "hoa@example.vn",
    "purpose": "01",
    "purpose_content": "Tìm hiểu lịch sử trụ sở",
}


request_folders, stored = dip_requests.request_folders, dip_requests.stored  # the fixtures


@pytest.fixture
def app(stored: Stored) -> Flask:
    add_staff(stored.sessions, stored.settings)
    return create_app(stored.settings, stored.sessions)


def page_of(data: bytes) -> Any:
    return lxml_html.document_fromstring(data)


def submit(client: FlaskClient, target: str, **extra: str) -> Any:
    return client.post(
        "/requests/new", data=READER | {"target": target, "csrf_token": csrf_token(client)} | extra
    )


def follow_link(response: Any) -> str:
    (href,) = page_of(response.data).xpath("//a[@data-follow-link]/@href")
    return str(href)


def staff_client(app: Flask, login: str = "doc.gia") -> FlaskClient:
    client = app.test_client()
    assert log_in(client, login).status_code == 302
    return client


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: dict[str, str]
    data: bytes


def fetch(client: FlaskClient, url: str, *, method: str = "GET", **headers: str) -> Fetched:
    """One request, its body read and the response closed (the ZIP's file with it)."""
    with client.open(url, method=method, headers=headers) as r:
        return Fetched(r.status_code, dict(r.headers), r.get_data())


def download_link(app: Flask, follow: str) -> str:
    """The reader asks the status page for the link (POST with the key)."""
    reader = app.test_client()
    request_id, key = re.fullmatch(r"/requests/([^?]+)\?key=(.+)", follow).groups()  # type: ignore[union-attr]
    got = reader.post(f"/requests/{request_id}/link", data={"key": key, "csrf_token": csrf_token(reader)})
    assert got.status_code == 200, got.text
    (href,) = page_of(got.data).xpath("//a[@data-download-link]/@href")
    return str(href)


def approved_request(app: Flask, stored: Stored) -> tuple[str, str]:
    """A public request approved by reader services; its id and follow-up path."""
    done = submit(app.test_client(), FILE_CODE)
    assert done.status_code == 201, done.text
    follow = follow_link(done)
    request_id = follow.split("/")[2].split("?")[0]
    staff = staff_client(app)
    approved = staff.post(f"/requests/{request_id}/approve", data={"csrf_token": csrf_token(staff)})
    assert approved.status_code == 302, approved.text
    return request_id, follow


def test_the_public_form_shows_only_the_requests_own_data(app: Flask, stored: Stored) -> None:
    client = app.test_client()
    form = page_of(client.get("/requests/new").data)
    for field in ("requester_name", "requester_contact", "target", "purpose"):
        (label,) = form.xpath(f"//label[@for='{field}']")  # every field has its label
        assert label.text_content().strip() == VI.text(f"web.request.{field}")
    with stored.sessions() as s:
        titles = [d.title for d in s.query(Dossier).all()]
    refused = submit(client, stored.aips.undescribed)  # no public records: refused, nothing named
    assert refused.status_code == 409 and VI.text(
        "request.not_public", {"target": stored.aips.undescribed}
    ) in (refused.text)
    done = submit(client, FILE_CODE)
    assert done.status_code == 201
    follow = follow_link(done)
    status = client.get(follow)
    assert status.status_code == 200 and "Nguyễn Thị Hoa" in status.text
    assert VI.text("request.status.submitted") in status.text
    for title in titles:
        assert title not in done.text and title not in status.text
    request_id = follow.split("/")[2].split("?")[0]
    assert client.get(f"/requests/{request_id}").status_code == 404  # no key: nothing
    assert client.get(f"/requests/{request_id}?key=wrong").status_code == 404
    assert client.get("/requests").status_code == 302  # the queue is reader services'


def test_reader_services_approve_and_refuse_from_the_queue(app: Flask, stored: Stored) -> None:
    reader = app.test_client()
    first = follow_link(submit(reader, FILE_CODE)).split("/")[2].split("?")[0]
    second = follow_link(submit(reader, FILE_CODE)).split("/")[2].split("?")[0]
    staff = staff_client(app)
    queue = page_of(staff.get("/requests?status=submitted").data)
    assert set(queue.xpath("//tr/@data-request")) == {first, second}

    token = csrf_token(staff)
    no_reason = staff.post(f"/requests/{second}/refuse", data={"csrf_token": token, "reason": " "})
    assert no_reason.status_code == 400 and VI.text("request.reason_required") in no_reason.text
    assert (
        staff.post(f"/requests/{second}/refuse", data={"csrf_token": token, "reason": "Sai mã"}).status_code
        == 302
    )
    refused = page_of(staff.get(f"/requests/{second}").data)
    assert refused.xpath("//dd[@data-field='status']/@data-value") == ["refused"]
    assert refused.xpath("//dd[@data-field='reason']/text()") == ["Sai mã"]
    assert refused.xpath("//dd[@data-field='decided_by']/text()") == ["doc.gia"]

    assert staff.post(f"/requests/{first}/approve", data={"csrf_token": token}).status_code == 302
    again = staff.post(f"/requests/{first}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and 'data-code="request.wrong_state"' in again.text
    ready = page_of(staff.get(f"/requests/{first}").data)
    assert ready.xpath("//dd[@data-field='status']/@data-value") == ["ready"]

    auditor = staff_client(app, "kiem.toan")
    assert (
        auditor.post(f"/requests/{first}/refuse", data={"csrf_token": csrf_token(auditor)}).status_code == 403
    )
    without_csrf = staff.post(f"/requests/{second}/approve")
    assert without_csrf.status_code == 400


def test_an_undescribed_aip_needs_the_decision_number_on_the_web(app: Flask, stored: Stored) -> None:
    staff = staff_client(app)
    entered = staff.post(
        "/requests/new", data=READER | {"target": stored.aips.undescribed, "csrf_token": csrf_token(staff)}
    )
    assert entered.status_code == 201
    request_id = follow_link(entered).split("/")[2].split("?")[0]
    with stored.sessions() as s:
        row = s.get(DisseminationRequest, request_id)
        assert row is not None and row.submitted_by == "doc.gia" and row.user_id is not None  # the account
    token = csrf_token(staff)
    missing = staff.post(f"/requests/{request_id}/approve", data={"csrf_token": token})
    assert missing.status_code == 409
    assert VI.text("request.decision_required", {"aip_id": stored.aips.undescribed}) in missing.text
    done = staff.post(f"/requests/{request_id}/approve", data={"csrf_token": token, "decision": "27/QĐ-TTLT"})
    assert done.status_code == 302
    shown = page_of(staff.get(f"/requests/{request_id}").data)
    assert shown.xpath("//dd[@data-field='decision']/text()") == ["27/QĐ-TTLT"]
    assert shown.xpath("//dd[@data-field='status']/@data-value") == ["ready"]


def test_the_download_streams_ranges_resumes_counts_once_then_refuses(app: Flask, stored: Stored) -> None:
    request_id, follow = approved_request(app, stored)
    link = download_link(app, follow)
    assert link.startswith("/dip/")
    zip_bytes = (stored.home / "dips" / f"{request_id}.zip").read_bytes()
    size = len(zip_bytes)
    client = app.test_client()

    head = fetch(client, link, method="HEAD")
    assert head.status == 200 and head.headers["Accept-Ranges"] == "bytes"
    assert int(head.headers["Content-Length"]) == size
    middle = fetch(client, link, Range="bytes=100-199")
    assert middle.status == 206 and middle.data == zip_bytes[100:200]
    assert middle.headers["Content-Range"] == f"bytes 100-199/{size}"
    first = fetch(client, link, Range=f"bytes=0-{size // 2 - 1}")
    assert first.status == 206
    with stored.sessions() as s:
        row = s.get(DisseminationRequest, request_id)
        assert row is not None and row.status is RequestStatus.READY and row.download_count == 0
        etag = row.dip_sha256
    rest = fetch(client, link, Range=f"bytes={size // 2}-", **{"If-Range": f'"{etag}"'})
    assert rest.status == 206 and first.data + rest.data == zip_bytes  # resumed to the end
    assert rest.headers["Content-Disposition"].startswith("attachment")
    with stored.sessions() as s:
        row = s.get(DisseminationRequest, request_id)
        assert row is not None and row.status is RequestStatus.DOWNLOADED and row.download_count == 1

    again = client.get(link)
    assert again.status_code == 410
    assert VI.text("request.link_used", {"request": request_id}) in again.text
    assert client.get("/dip/not-a-token").status_code == 404
    status = page_of(app.test_client().get(follow).data)
    assert status.xpath("//dd[@data-field='downloads']/text()") == ["1"]


def test_an_expired_link_gets_a_clear_page(app: Flask, stored: Stored) -> None:
    request_id, follow = approved_request(app, stored)
    link = download_link(app, follow)
    with stored.sessions.begin() as s:
        s.execute(
            update(DisseminationRequest)
            .where(DisseminationRequest.id == request_id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    expired = app.test_client().get(link)
    assert expired.status_code == 410
    assert VI.text("request.link_expired", {"request": request_id}) in expired.text
    english = app.test_client().get(link + "?lang=en")
    assert "has expired" in english.text
