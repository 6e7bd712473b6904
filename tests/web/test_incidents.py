"""``/incidents``: who sees the damaged file names, and an acknowledgement signed by the logged-in
user and written to the staff audit log, on both catalogs."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.catalog.auditlog import read_entries
from repository.catalog.models import Incident
from repository.settings import Settings
from tests.web.conftest import any_csrf_token, client_as, page

DAMAGED = "representations/rep1/data/Hồ sơ mật/biên bản.pdf"


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    return create_app(settings, sessions)


@pytest.fixture
def incident(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as s:
        row = Incident(
            aip_id="uuid-1", location="primary", path=DAMAGED, kind="corrupt", code="audit.digest_mismatch",
            message="SHA-512 differs in every copy", opened_at=datetime.now(UTC), run_id="run-1",
            status="open",
        )  # fmt: skip
        s.add(row)
        s.flush()
        return row.id


def test_an_auditor_sees_the_incident_and_cannot_acknowledge_it(
    app: Flask, staff: dict[Role, str], incident: int
) -> None:
    auditor = client_as(app, staff, Role.AUDITOR)
    shown = page(auditor, "/incidents")
    assert DAMAGED in shown.text_content() and not shown.xpath("//form[@class='ack']")
    r = auditor.post(f"/incidents/{incident}/ack", data={"csrf_token": any_csrf_token(auditor)})
    assert r.status_code == 403
    r = client_as(app, staff, Role.READER_SERVICES).get("/incidents")
    assert r.status_code == 403 and DAMAGED not in r.text  # restricted hồ sơ's file names


def test_acknowledging_signs_with_the_user_and_logs_it_once(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], incident: int
) -> None:
    officer = client_as(app, staff, Role.PRESERVATION_OFFICER)
    form = page(officer, "/incidents").xpath(f"//tr[@data-incident='{incident}']//form[@class='ack']")
    assert form and form[0].xpath(".//label[@for]")  # the note has its label
    token = any_csrf_token(officer)
    r = officer.post(
        f"/incidents/{incident}/ack",
        data={"csrf_token": token, "note": unicodedata.normalize("NFD", " Đã báo cáo lãnh đạo ")},
    )
    assert r.status_code == 302
    again = officer.post(f"/incidents/{incident}/ack", data={"csrf_token": token, "note": "lần hai"})
    assert again.status_code == 409
    with sessions() as s:
        row = s.get(Incident, incident)
        assert row is not None
        assert (row.status, row.acknowledged_by, row.note) == (
            "acknowledged",
            staff[Role.PRESERVATION_OFFICER],
            "Đã báo cáo lãnh đạo",
        )
        logged = [e for e in read_entries(s) if e.action == "incident.acknowledge"]
    assert [(e.actor, e.role, e.channel, e.target) for e in logged] == [
        (staff[Role.PRESERVATION_OFFICER], "preservation_officer", "web", str(incident))
    ]
    done = page(officer, "/incidents").xpath(f"//table[@data-acknowledged]//tr[@data-incident='{incident}']")
    assert done and done[0].xpath("string(.//td[@data-by])") == staff[Role.PRESERVATION_OFFICER]


def test_without_a_csrf_token_nothing_is_acknowledged(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], incident: int
) -> None:
    admin = client_as(app, staff, Role.ADMINISTRATOR)
    assert admin.post(f"/incidents/{incident}/ack", data={"note": "x"}).status_code == 400
    with sessions() as s:
        row = s.get(Incident, incident)
        assert row is not None and row.status == "open"
