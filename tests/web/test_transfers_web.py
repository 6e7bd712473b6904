"""``/transfers``: an agency's records officer sees only their agency's transfers; staff see all."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.catalog.auditlog import read_entries
from repository.catalog.records import Transfer
from repository.catalog.records_store import add_agency
from repository.i18n import Translator
from repository.settings import Settings
from tests.accounts import AGENCY
from tests.web.conftest import any_csrf_token, client_as, page
from workflows.records.transfer_plans import register_plan
from workflows.records.transfers import receive

VI = Translator("vi")

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
    assert other.status_code == 409 and "tai-chinh-bi-mat.zip" not in other.text
    assert VI.text("transfer.other_agency", {"agency": AGENCY, "asked": OTHER}) in other.text
    auditor = client_as(app, staff, Role.AUDITOR)
    assert packages(auditor) == {"noi-vu-2025.zip", "tai-chinh-bi-mat.zip"}
    assert packages(auditor, f"/transfers?agency={OTHER}") == {"tai-chinh-bi-mat.zip"}
    assert packages(auditor, "/transfers?status=accepted") == set()
    assert auditor.get("/transfers?status=lost").status_code == 400
    assert client_as(app, staff, Role.READER_SERVICES).get("/transfers").status_code == 403


def ids(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as s:
        return {t.package_name: t.id for t in s.query(Transfer)}


def post(client: object, path: str, **data: str) -> object:
    return client.post(path, data={"csrf_token": any_csrf_token(client)} | data)  # type: ignore[attr-defined]


def test_decisions_on_the_web_are_signed_logged_and_limited_to_the_cli_roles(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    app = seeded(settings, sessions)
    with sessions.begin() as s:
        plan = register_plan(s, settings, AGENCY, "KH-01/2026", date(2026, 1, 5), date(2027, 3, 1)).plan.id
    mine, theirs = ids(sessions)["noi-vu-2025.zip"], ids(sessions)["tai-chinh-bi-mat.zip"]

    officer = client_as(app, staff, Role.RECORDS_OFFICER)  # confirms receipt, for their agency only
    shown = page(officer, "/transfers")
    assert shown.xpath("//form[contains(@class,'confirm')]") and not shown.xpath(
        "//form[contains(@class,'decide')]"
    )
    assert post(officer, f"/transfers/{mine}/confirm").status_code == 302
    foreign = post(officer, f"/transfers/{theirs}/confirm")
    assert foreign.status_code == 404 and "tai-chinh" not in foreign.text  # as a transfer that does not exist
    assert post(officer, f"/transfers/{mine}/decide", decision="reject", reason="x").status_code == 403

    keeper = client_as(app, staff, Role.PRESERVATION_OFFICER)
    bare = post(keeper, f"/transfers/{theirs}/decide", decision="reject")
    assert bare.status_code == 400 and VI.text("transfer.reason_required", {"transfer": theirs}) in bare.text
    assert (
        post(keeper, f"/transfers/{theirs}/decide", decision="reject", reason="Thiếu mục lục").status_code
        == 302
    )
    again = post(keeper, f"/transfers/{theirs}/decide", decision="accept")
    assert again.status_code == 409  # a decision is final
    assert post(keeper, f"/transfers/plans/{plan}/reply", reason="Đồng ý kế hoạch").status_code == 302

    row = page(keeper, "/transfers").xpath(f"//tr[@data-transfer='{theirs}']")[0]
    assert row.xpath("string(.//td[@data-status]/@data-status)") == "rejected"
    assert row.xpath("string(.//small[@data-decided-by])") == VI.text(
        "web.transfers.decided_by", {"by": "bao.quan"}
    )
    assert page(keeper, "/transfers").xpath(f"//tr[@data-plan='{plan}']/td[@data-replied]/@data-replied") != [
        ""
    ]
    auditor = page(client_as(app, staff, Role.AUDITOR), "/transfers")
    assert not auditor.xpath("//form[contains(@class,'transfer-step') or contains(@class,'plan-reply')]")
    with sessions() as s:
        log = [(e.action, e.target, e.actor, e.role) for e in read_entries(s, action="transfer")]
    assert log == [
        ("transfer.confirm", mine, "van.thu", "records_officer"),
        ("transfer.reject", theirs, "bao.quan", "preservation_officer"),
        ("transfer.reply", str(plan), "bao.quan", "preservation_officer"),
    ]
