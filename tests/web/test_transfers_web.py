"""``/transfers``: an agency's records officer sees only their agency's transfers; staff see all."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.catalog.records_store import add_agency
from repository.settings import Settings
from tests.accounts import AGENCY
from tests.web.conftest import client_as, page
from workflows.records.transfers import receive

OTHER = "H49.20"


def seeded(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    with sessions.begin() as s:
        add_agency(s, OTHER, "Sở Tài chính tỉnh An Giang")
        for organ, name in ((AGENCY, "noi-vu-2025.zip"), (OTHER, "tai-chinh-bi-mat.zip")):
            receive(
                s, settings, organ_id=organ, package_name=name, received_at=datetime.now(UTC), by="Lê Thị B"
            )
    return create_app(settings, sessions)


def packages(client: object, path: str = "/transfers") -> set[str]:
    rows = page(client, path).xpath("//table[@data-transfers]//tr[@data-transfer]")
    return {r.xpath("string(./td[3])") for r in rows}


def test_a_records_officer_sees_only_their_agency(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    app = seeded(settings, sessions)
    officer = client_as(app, staff, Role.RECORDS_OFFICER)
    assert packages(officer) == {"noi-vu-2025.zip"}
    assert packages(officer, f"/transfers?agency={AGENCY}") == {"noi-vu-2025.zip"}
    other = officer.get(f"/transfers?agency={OTHER}")
    assert other.status_code == 403 and "tai-chinh-bi-mat.zip" not in other.text
    auditor = client_as(app, staff, Role.AUDITOR)
    assert packages(auditor) == {"noi-vu-2025.zip", "tai-chinh-bi-mat.zip"}
    assert packages(auditor, f"/transfers?agency={OTHER}") == {"tai-chinh-bi-mat.zip"}
    assert packages(auditor, "/transfers?status=accepted") == set()
    assert auditor.get("/transfers?status=lost").status_code == 400
    assert client_as(app, staff, Role.READER_SERVICES).get("/transfers").status_code == 403
