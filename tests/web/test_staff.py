"""The staff workspace and /api/v1 through Flask's test client, on SQLite and PostgreSQL: a SIP
uploaded in chunks (a broken upload resumed from the server's offset) and ingested as a job in the
background; the job's status; the AIP list and page in Vietnamese; the transfer folder (no path
out of it); the coded-error JSON; the OpenAPI document (valid, every /api/v1 route in it)."""

from __future__ import annotations

import io
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from entrypoints.web.openapi import openapi_document, undocumented
from repository.actor import Role
from repository.i18n import Translator
from repository.settings import Settings
from repository.storage.locations import open_locations
from tests.accounts import FAST_ARGON2, add_staff
from tests.conftest import cli_env, run_cli, write_home_config
from tests.web.test_access import log_in
from workflows.accounts.tokens import issue_token

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "sip-zip-bao-cao.zip"
VI = Translator("vi")
CHUNK = 1000  # the sample is 3 kB: four chunks


def transfer_home(tmp_path: Path) -> Path:
    """A data folder whose transfer folder holds the sample SIP, with a copy beside (not in) it."""
    path = tmp_path / "home"
    write_home_config(path, FAST_ARGON2 + '[web]\ntransfer_folder = "transfers"\nupload_expiry_hours = 1\n')
    (path / "transfers").mkdir()
    shutil.copy(SAMPLE, path / "transfers" / SAMPLE.name)
    (path / "outside.zip").write_bytes(SAMPLE.read_bytes())
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return transfer_home(tmp_path)


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    open_locations(settings, initialize=True)  # as kholuu init does
    return create_app(settings, sessions)


@pytest.fixture
def staff(sessions: sessionmaker[Session], settings: Settings) -> dict[Role, str]:
    return add_staff(sessions, settings)


def bearer(sessions: sessionmaker[Session], login: str) -> dict[str, str]:
    with sessions.begin() as s:
        return {"Authorization": f"Bearer {issue_token(s, login, 'test').token}"}


def wait_for(client: FlaskClient, job_id: str, auth: dict[str, str], seconds: float = 240) -> dict[str, Any]:
    """Poll the job as the job page does, until it ends; every answer is a job status."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/jobs/{job_id}", headers=auth)
        assert r.status_code == 200, r.json
        job = r.json
        seen.add(job["status"])
        if job["status"] not in ("queued", "running"):
            job["seen"] = seen
            return dict(job)
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not end: {seen}")


def send(
    client: FlaskClient, upload_id: str, data: bytes, start: int, size: int, auth: dict[str, str]
) -> Any:
    return client.patch(
        f"/api/v1/uploads/{upload_id}",
        data=data,
        headers=auth | {"Content-Range": f"bytes {start}-{start + len(data) - 1}/{size}"},
        content_type="application/octet-stream",
    )


@pytest.mark.timeout(400)
def test_a_sip_uploaded_in_chunks_resumes_is_ingested_as_a_job_and_its_aip_page_shows_it(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], settings: Settings, database_url: str
) -> None:
    auth = bearer(sessions, staff[Role.PRESERVATION_OFFICER])
    client = app.test_client()
    data = SAMPLE.read_bytes()
    r = client.post("/api/v1/uploads", json={"name": f"C:\\Users\\x\\{SAMPLE.name}", "size": len(data)},
                    headers=auth)  # fmt: skip
    assert r.status_code == 201 and r.json["offset"] == 0 and r.json["name"] == SAMPLE.name
    upload_id = r.json["upload_id"]
    assert r.headers["Location"].endswith(upload_id)
    assert send(client, upload_id, data[:CHUNK], 0, len(data), auth).json["offset"] == CHUNK
    # the connection broke after the server had part of the next chunk: it keeps what arrived
    partial = send(client, upload_id, data[CHUNK : CHUNK + 100], CHUNK, len(data), auth)
    assert partial.json["offset"] == CHUNK + 100
    # the client resends the whole chunk: refused, with the offset to go on from
    again = send(client, upload_id, data[CHUNK : 2 * CHUNK], CHUNK, len(data), auth)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "web.upload.offset_mismatch"
    assert again.json["error"]["params"]["offset"] == CHUNK + 100
    offset = client.get(f"/api/v1/uploads/{upload_id}", headers=auth).json["offset"]
    early = client.post("/api/v1/ingests", json={"upload_id": upload_id}, headers=auth)
    assert early.status_code == 400 and early.json["error"]["code"] == "web.upload.incomplete"
    while offset < len(data):
        offset = send(client, upload_id, data[offset : offset + CHUNK], offset, len(data), auth).json[
            "offset"
        ]
    assert (settings.home / "uploads" / upload_id / SAMPLE.name).read_bytes() == data

    started = client.post("/api/v1/ingests", json={"upload_id": upload_id}, headers=auth)
    assert started.status_code == 202, started.json
    job = wait_for(client, started.json["job_id"], auth)
    assert job["status"] == "completed", job
    assert job["source_name"] == SAMPLE.name and job["aip_id"].startswith("uuid-")
    assert {s["name"] for s in job["steps"]} >= {"quarantine", "virus check", "storage"}
    deadline = time.monotonic() + 10  # the job's thread removes it once the job has ended
    while (settings.home / "uploads" / upload_id).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (settings.home / "uploads" / upload_id).exists()  # read into the AIP: removed

    aip_id = job["aip_id"]
    api = client.get(f"/api/v1/aips/{aip_id}", headers=auth).json
    assert api["aip_id"] == aip_id and api["files"] and api["copies"]
    listed = client.get("/api/v1/aips?per_page=1", headers=auth).json
    assert listed["total"] == 1 and listed["items"][0]["aip_id"] == aip_id

    pages = app.test_client()
    assert log_in(pages, staff[Role.READER_SERVICES]).status_code == 302
    check_aip_page(pages, api)
    audited = run_cli("audit", "--all", "--json", env=cli_env(settings.home, database_url))
    assert audited.returncode == 0, audited.stderr
    after = lxml_html.document_fromstring(pages.get(f"/aips/{aip_id}").data)
    (copy,) = after.xpath("//tr[@data-copy='primary']")
    assert copy.xpath("td[@data-outcome]/@data-outcome") == ["passed"]
    assert copy.xpath("td")[-1].text_content() == VI.text("web.fixity_outcome.passed")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", copy.xpath("td")[4].text_content())
    job_page = lxml_html.document_fromstring(pages.get(f"/jobs/{job['job_id']}").data)
    assert job_page.xpath("//a[@data-aip-link]/@href") == [f"/aips/{aip_id}"]


def check_aip_page(client: FlaskClient, api: dict[str, Any]) -> None:
    """The AIP list and page as a person reads them: Vietnamese dates and numbers, the files with
    their formats, the copies never checked yet, the PREMIS timeline in Vietnamese."""
    listing = lxml_html.document_fromstring(client.get("/aips").data)
    (row,) = listing.xpath(f"//tr[@data-aip='{api['aip_id']}']")
    assert row.xpath("td")[1].text_content().strip() == VI.text("web.aip_status.stored")
    r = client.get(f"/aips/{api['aip_id']}")
    assert r.status_code == 200
    page = lxml_html.document_fromstring(r.data)
    size = page.xpath("//dd[@data-bytes]")[0]
    assert size.text_content() == f"{api['bytes']:,}".replace(",", ".")  # 1.234.567
    assert re.fullmatch(
        r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.xpath("//dd[@data-stored-at]")[0].text_content()
    )
    originals = [f for f in api["files"] if f["role"] == "original"]
    for f in originals:
        (tr,) = page.xpath(f"//tr[@data-file='{f['aip_path']}']")
        assert (f["format_name"] or "—") in tr.text_content()
        assert VI.text(f"web.validity.{f['validity'].replace(' ', '_')}") in tr.text_content()
    copies = page.xpath("//tr[@data-copy]")
    assert len(copies) == len(api["copies"])
    assert all(VI.text("web.aip.never_checked") in c.text_content() for c in copies)
    timeline = page.xpath("//table[@class='timeline']//tr[@data-event]")
    assert {tr.get("data-event") for tr in timeline} >= {"ingestion start", "virus check", "ingestion end"}
    types = {tr.xpath("td")[1].text_content() for tr in timeline}
    assert VI.text("web.event_type.virus_check") in types
    assert {tr.xpath("td")[2].text_content() for tr in timeline} == {VI.text("web.outcome.success")}
    assert page.xpath("//li[@data-version='1']")


def test_transfer_folder_lists_its_sips_and_refuses_anything_else(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    client = app.test_client()
    assert log_in(client, staff[Role.ADMINISTRATOR]).status_code == 302
    page = lxml_html.document_fromstring(client.get("/ingest").data)
    assert page.xpath("//input[@name='transfer']/@value") == [SAMPLE.name]
    auth = bearer(sessions, staff[Role.ADMINISTRATOR])
    for name in ("../outside.zip", "/etc/passwd", "", "transfers/../../outside.zip", "nothing.zip"):
        r = client.post("/api/v1/ingests", json={"transfer": name}, headers=auth)
        assert r.status_code == 400, name
        assert r.json["error"]["code"] == "web.transfer.not_listed"
        assert r.json["error"]["message"] == VI.text("web.transfer.not_listed", {"name": name})
    both = client.post("/api/v1/ingests", json={"transfer": SAMPLE.name, "upload_id": "a" * 32}, headers=auth)
    assert both.status_code == 400 and both.json["error"]["code"] == "web.api.upload_or_transfer"


def test_api_errors_are_coded_json_with_the_status_of_their_kind(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    client = app.test_client()
    reader = bearer(sessions, staff[Role.READER_SERVICES])
    officer = bearer(sessions, staff[Role.PRESERVATION_OFFICER])
    missing = client.get("/api/v1/aips/uuid-00000000-0000-4000-8000-000000000000", headers=reader)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "catalog.not_found"
    refused = client.post("/api/v1/uploads", json={"name": "a.zip", "size": 1}, headers=reader)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "web.forbidden"
    anonymous = client.get("/api/v1/aips")
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "web.auth.login_required"
    bad = client.post("/api/v1/uploads", json={"name": "a.exe", "size": 1}, headers=officer)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "web.upload.bad_name"
    huge = client.post("/api/v1/uploads", json={"name": "a.zip", "size": 10**15}, headers=officer)
    assert huge.status_code == 400 and huge.json["error"]["code"] == "web.upload.bad_size"
    not_json = client.post("/api/v1/ingests", data="x", headers=officer)
    assert not_json.status_code == 400 and not_json.json["error"]["code"] == "web.api.json_object"
    page = client.get("/api/v1/aips?page=0", headers=reader)
    assert page.status_code == 400 and page.json["error"]["params"] == {
        "name": "page",
        "value": "0",
        "low": 1,
        "high": 10**9,
    }
    unknown = client.get("/api/v1/nothing", headers=reader)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "web.not_found"
    english = client.get("/api/v1/jobs/nothing?lang=en", headers=reader)
    assert english.json["error"]["message"] == Translator("en").text(
        "catalog.not_found", english.json["error"]["params"]
    )
    other = client.post("/api/v1/uploads", json={"name": "a.zip", "size": 10}, headers=officer).json
    admin = bearer(sessions, staff[Role.ADMINISTRATOR])
    theirs = client.get(f"/api/v1/uploads/{other['upload_id']}", headers=admin)
    assert theirs.status_code == 404  # an upload is its owner's
    past = send(client, other["upload_id"], b"x" * 11, 0, 10, officer)
    assert past.status_code == 400 and past.json["error"]["code"] == "web.upload.past_end"


def test_cookie_sessions_need_the_csrf_header_on_api_writes(app: Flask, staff: dict[Role, str]) -> None:
    client = app.test_client()
    assert log_in(client, staff[Role.PRESERVATION_OFFICER]).status_code == 302
    without = client.post("/api/v1/uploads", json={"name": "a.zip", "size": 10})
    assert without.status_code == 400 and without.json["error"]["code"] == "web.auth.csrf_failed"
    page = lxml_html.document_fromstring(client.get("/ingest").data)
    (token,) = page.xpath("//meta[@name='csrf-token']/@content")
    ok = client.post("/api/v1/uploads", json={"name": "a.zip", "size": 10}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_openapi_document_is_valid_and_documents_every_api_route(app: Flask) -> None:
    from openapi_spec_validator import validate

    assert undocumented(app) == []
    r = app.test_client().get("/api/v1/openapi.json")  # public: a client reads it before a token
    assert r.status_code == 200
    validate(r.json)
    assert set(r.json["paths"]) >= {
        "/aips", "/aips/{aip_id}", "/jobs/{job_id}", "/ingests", "/uploads", "/uploads/{upload_id}",
        "/reports/fixity", "/openapi.json",
    }  # fmt: skip
    assert r.json["paths"]["/openapi.json"]["get"]["security"] == []
    with app.app_context():
        assert openapi_document(app, title="t", version="1")["paths"] == r.json["paths"]


def test_a_route_under_api_v1_without_an_operation_is_found(app: Flask) -> None:
    from entrypoints.web.access import allow

    @allow(Role.ADMINISTRATOR)
    def extra() -> str:
        return ""

    app.add_url_rule("/api/v1/extra/<int:n>", "extra", extra, methods=["GET", "DELETE"])
    assert undocumented(app) == ["DELETE /api/v1/extra/<int:n>", "GET /api/v1/extra/<int:n>"]


def test_ingest_page_and_chunk_streaming_are_for_custody_staff(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    auditor = app.test_client()
    assert log_in(auditor, staff[Role.AUDITOR]).status_code == 302
    assert auditor.get("/ingest").status_code == 403
    assert auditor.get("/aips").status_code == 200
    officer = bearer(sessions, staff[Role.PRESERVATION_OFFICER])
    client = app.test_client()
    up = client.post("/api/v1/uploads", json={"name": "b.tar", "size": 3 * 1024 * 1024}, headers=officer).json
    body = io.BytesIO(b"\0" * (3 * 1024 * 1024))
    r = client.patch(
        f"/api/v1/uploads/{up['upload_id']}",
        data=body,
        headers=officer | {"Content-Range": f"bytes 0-{3 * 1024 * 1024 - 1}/{3 * 1024 * 1024}",
                           "Content-Length": str(3 * 1024 * 1024)},
        content_type="application/octet-stream",
    )  # fmt: skip
    assert r.status_code == 200 and r.json["complete"]
    wrong = client.patch(f"/api/v1/uploads/{up['upload_id']}", data=b"ab", headers=officer
                         | {"Content-Range": "bytes 0-5/6"})  # fmt: skip
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "web.upload.bad_range"


@pytest.mark.timeout(400)
def test_a_transfer_folder_sip_picked_twice_queues_the_second_which_is_refused_as_a_duplicate(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], settings: Settings
) -> None:
    client = app.test_client()
    assert log_in(client, staff[Role.PRESERVATION_OFFICER]).status_code == 302
    page = lxml_html.document_fromstring(client.get("/ingest").data)
    (token,) = page.xpath("//form[@class='transfer']/input[@name='csrf_token']/@value")
    jobs = []
    for _ in range(2):
        r = client.post("/ingest", data={"csrf_token": token, "transfer": SAMPLE.name})
        assert r.status_code == 303 and r.location.startswith("/jobs/")
        jobs.append(r.location.removeprefix("/jobs/"))
    second = client.get(f"/jobs/{jobs[1]}")  # one ingest at a time: it waits for the first
    assert second.status_code == 200
    shown = lxml_html.document_fromstring(second.data)
    assert shown.xpath("//div[@id='job']/@data-status")[0] in ("queued", "running")
    assert shown.xpath("//script/@src") == ["/static/job.js"]  # the page follows the job
    auth = bearer(sessions, staff[Role.PRESERVATION_OFFICER])
    first = wait_for(client, jobs[0], auth)
    assert first["status"] == "completed" and first["source_name"] == SAMPLE.name
    duplicate = wait_for(client, jobs[1], auth)
    assert duplicate["status"] == "refused" and duplicate["error"]["code"] == "ingest.duplicate"
    ended = lxml_html.document_fromstring(client.get(f"/jobs/{jobs[1]}").data)
    assert ended.xpath("//p[@data-error]/text()") == [duplicate["error_text"]]
    assert not ended.xpath("//script")  # nothing left to follow
    assert (settings.home / "transfers" / SAMPLE.name).exists()  # the transfer folder's SIP stays


def test_two_chunks_at_one_offset_are_written_once_and_an_upload_is_ingested_once(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], settings: Settings
) -> None:
    auth = bearer(sessions, staff[Role.PRESERVATION_OFFICER])
    data = SAMPLE.read_bytes()
    up = app.test_client().post(
        "/api/v1/uploads", json={"name": SAMPLE.name, "size": len(data)}, headers=auth
    )
    upload_id = up.json["upload_id"]
    answers: list[int] = []

    def twice() -> None:  # a client that retried while its first request was still being served
        answers.append(send(app.test_client(), upload_id, data, 0, len(data), auth).status_code)

    threads = [threading.Thread(target=twice) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    assert (settings.home / "uploads" / upload_id / SAMPLE.name).read_bytes() == data
    client = app.test_client()
    first = client.post("/api/v1/ingests", json={"upload_id": upload_id}, headers=auth)
    again = client.post("/api/v1/ingests", json={"upload_id": upload_id}, headers=auth)
    assert first.status_code == 202
    assert again.status_code in (409, 404)  # being ingested, or already ingested and removed
    if again.status_code == 409:
        assert again.json["error"]["code"] == "web.upload.claimed"
    assert wait_for(client, first.json["job_id"], auth)["status"] == "completed"


def csrf(client: FlaskClient) -> str:
    page = lxml_html.document_fromstring(client.get("/account").data)
    return str(page.xpath("//form[@class='logout']/input[@name='csrf_token']/@value")[0])
