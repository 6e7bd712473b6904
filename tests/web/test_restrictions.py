"""``/restrictions``: the conditional-access list in the web app, and restricting and lifting a
record as reader services, signed with the logged-in user and logged, on both catalogs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.catalog.auditlog import read_entries
from repository.catalog.records import AccessRestriction, Dossier
from repository.settings import Settings
from tests.conftest import SAMPLES, cli_env, run_cli
from tests.web.conftest import any_csrf_token, client_as, page


@pytest.fixture
def dossier(settings: Settings, sessions: sessionmaker[Session], home: Path, database_url: str) -> str:
    env = cli_env(home, database_url)
    assert run_cli("init", "--json", env=env).returncode == 0
    r = run_cli("ingest", str(SAMPLES / "sip-tt05-hoso-so-hoa.zip"), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    with sessions() as s:
        return s.scalars(select(Dossier.code).where(Dossier.aip_id == json.loads(r.stdout)["aip_id"])).one()


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    return create_app(settings, sessions)


def restrict(client: Any, code: str) -> Any:
    form = {
        "csrf_token": any_csrf_token(client),
        "kind": "dossier",
        "code": code,
        "decision_number": "15/QĐ-LTLS",
        "decision_date": "2026-11-30",
        "reason": "Thông tin cá nhân",
    }
    return client.post("/restrictions", data=form)


def test_reader_services_restricts_and_lifts_signed_and_logged(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], dossier: str
) -> None:
    services = client_as(app, staff, Role.READER_SERVICES)
    assert restrict(services, dossier).status_code == 302
    listed = page(services, "/restrictions")
    (row,) = listed.xpath("//table[@data-restrictions]//tr[@data-restriction]")
    assert row.xpath("string(.//span[@data-code])") == dossier
    assert row.xpath("string(.//td[@data-by])") == staff[Role.READER_SERVICES]
    restriction_id = row.get("data-restriction")
    lifted = services.post(
        f"/restrictions/{restriction_id}/lift",
        data={
            "csrf_token": any_csrf_token(services),
            "decision_number": "20/QĐ-LTLS",
            "decision_date": "2026-12-05",
        },
    )
    assert lifted.status_code == 302
    assert page(services, "/restrictions").xpath("//td[@data-none]")
    with sessions() as s:
        entry = s.scalars(select(AccessRestriction)).one()
        assert (entry.recorded_by, entry.lifted_by, entry.lifted_decision) == (
            staff[Role.READER_SERVICES],
            staff[Role.READER_SERVICES],
            "20/QĐ-LTLS",
        )
        logged = [
            (e.action, e.target, e.channel) for e in read_entries(s) if e.action.startswith("restriction.")
        ]
    assert logged == [("restriction.add", dossier, "web"), ("restriction.lift", dossier, "web")]


def test_an_auditor_reads_the_list_but_cannot_change_it(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], dossier: str
) -> None:
    auditor = client_as(app, staff, Role.AUDITOR)
    assert not page(auditor, "/restrictions").xpath("//form[@class='restrict']")
    assert restrict(auditor, dossier).status_code == 403
    assert client_as(app, staff, Role.RECORDS_OFFICER).get("/restrictions").status_code == 403
    assert app.test_client().get("/restrictions").status_code == 302  # the public is sent to log in
    with sessions() as s:
        assert s.scalars(select(AccessRestriction)).all() == []


def test_a_bad_form_names_the_problem_and_records_nothing(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], dossier: str
) -> None:
    services = client_as(app, staff, Role.READER_SERVICES)
    token = any_csrf_token(services)
    no_date = {"csrf_token": token, "kind": "dossier", "code": dossier, "decision_number": "1", "reason": "x"}
    r = services.post("/restrictions", data=no_date | {"decision_date": "30/11/2026"})
    assert r.status_code == 400 and "decision_date" in r.text
    unknown = services.post(
        "/restrictions", data=no_date | {"decision_date": "2026-11-30", "code": "KHONG-CO"}
    )
    assert unknown.status_code == 404 and "KHONG-CO" in unknown.text
    with sessions() as s:
        assert s.scalars(select(AccessRestriction)).all() == []
        assert not [e for e in read_entries(s) if e.action.startswith("restriction.")]


def test_reader_services_changes_the_access_level_signed_and_logged(
    app: Flask, staff: dict[Role, str], sessions: sessionmaker[Session], dossier: str
) -> None:
    services = client_as(app, staff, Role.READER_SERVICES)
    form = page(services, "/restrictions").xpath("//form[@class='declassify']")
    assert form and {o.get("value") for o in form[0].xpath(".//select[@name='to_mode']/option")} == {
        "01",
        "02",
        "03",
    }
    with sessions() as s:
        before = s.scalars(select(Dossier.mode).where(Dossier.code == dossier)).one()
    to_mode = "02" if before != "02" else "01"
    fields = {
        "csrf_token": any_csrf_token(services), "kind": "dossier", "code": dossier, "to_mode": to_mode,
        "decision_number": "21/QĐ-LTLS", "decision_date": "2026-12-01", "reason": "Hết thời hạn hạn chế",
    }  # fmt: skip
    assert services.post("/restrictions/declassify", data=fields).status_code == 302
    again = services.post("/restrictions/declassify", data=fields)
    assert again.status_code >= 400 and "records.mode_unchanged" in again.text  # nothing would change
    bad = services.post("/restrictions/declassify", data=fields | {"to_mode": "99"})
    assert bad.status_code >= 400 and "records.bad_mode" in bad.text
    with sessions() as s:
        assert s.scalars(select(Dossier.mode).where(Dossier.code == dossier)).one() == to_mode
        logged = [
            (e.action, e.target, e.channel, e.actor) for e in read_entries(s) if e.action == "access.change"
        ]
    assert logged == [("access.change", dossier, "web", staff[Role.READER_SERVICES])]
    auditor = client_as(app, staff, Role.AUDITOR)
    assert (
        auditor.post(
            "/restrictions/declassify", data=fields | {"csrf_token": any_csrf_token(auditor)}
        ).status_code
        == 403
    )
