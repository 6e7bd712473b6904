"""Thu nộp as the archive runs it: a plan registered and answered in working days, a package received
with its 60-day deadlines, linked to its AIP, decided once; the transfer deadlines of permanent
records on a fixed day. Every test runs on the migrated catalog, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from preservation.tt05.ead import description_date
from repository.catalog.models import Aip, AipStatus
from repository.catalog.records import (
    DeclaredTotal,
    Document,
    Dossier,
    SourceAgency,
    Transfer,
    TransferPlan,
    TransferStatus,
)
from repository.catalog.records_store import add_agency, set_declared_total
from repository.settings import RecordsSettings, Settings, SettingsError, load_settings
from tests.conftest import write_home_config
from workflows.records import handover as ho
from workflows.records import transfer_lists as tl
from workflows.records import transfer_plans as tp
from workflows.records import transfers as tr
from workflows.records.deadline_calendar import add_months, add_working_days, is_working_day
from workflows.records.deadlines import DeadlineStatus, deadline_report, transfer_deadline

ICT = timezone(timedelta(hours=7))  # the archive's clock (TT 05: +07:00)
A, B = "H49.01", "H49.02"


@contextmanager
def raises_code(code: str) -> Iterator[pytest.ExceptionInfo[tr.TransferError]]:
    """The step is refused with this code (one exception class for every transfer step)."""
    with pytest.raises(tr.TransferError) as info:
        yield info
    assert info.value.code == code, info.value


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ICT)


def make_aip(session: Session, aip_id: str, status: AipStatus = AipStatus.STORED) -> Aip:
    aip = Aip(
        id=aip_id,
        objid=aip_id,
        label=aip_id,
        status=status,
        package_kind="tt05-sip",
        container="dir",
        source_name=aip_id,
        payload_digest="0" * 64,
        file_count=1,
        payload_bytes=1,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        stored_at=None,
        current_version=1,
        job_id=f"job-{aip_id[-8:]}",
    )
    session.add(aip)
    session.flush()
    return aip


def make_dossier(
    session: Session,
    aip_id: str,
    code: str,
    *,
    title: str | None = None,
    organ_id: str = A,
    end_on: date | None = None,
    end_date: str | None = None,
    received: datetime,
    transfer: bool = False,
    accepted: datetime | None = None,
    published: datetime | None = None,
    maintenance: str = "01",
    mode: str = "01",
    confidence: str = "01",
    digitized: bool = False,
    high_use: bool = False,
    documents: list[dict[str, Any]] | None = None,
    **more: Any,
) -> Dossier:
    """A dossier row as the ingest registers it; ``documents`` are dicts of Document columns.

    As ``workflows.ingest.pipeline`` writes it: without a transfer the archive took the records when the AIP
    was stored (``accepted_at`` = ``received``, the ingest time); under ``kholuu ingest
    --transfer`` (``transfer=True``) they are received, not accepted, until the decision.
    ``end_date`` is the date as the description wrote it ("2021", "12/2021", "15/12/2021"), and
    ``end_on`` the last day it denotes, as the catalog keeps it; give either. ``accepted``: when
    the AIP of an ingest without a transfer was stored, if not at ``received``.
    """
    assert not (transfer and accepted), "records under a transfer are accepted by its decision"
    if end_date is not None:
        span = description_date(end_date)
        assert span is not None, end_date
        end_on = span[1]
    agency_id = session.scalars(select(SourceAgency.id).where(SourceAgency.organ_id == organ_id)).first()
    dossier = Dossier(
        aip_id=aip_id,
        kind="hoso",
        package_type="SIP_hoso",
        source="tt05",
        code=code,
        organ_id=organ_id,
        agency_id=agency_id,
        title=title or f"Hồ sơ {code}",
        maintenance=maintenance,
        mode=mode,
        end_on=end_on,
        end_date=end_date if end_date is not None else end_on.strftime("%d/%m/%Y") if end_on else "",
        start_date=end_on.strftime("01/01/%Y") if end_on else "",
        confidence_level=confidence,
        description_path=f"metadata/descriptive/{code}/EAD.xml",
        elements={"fileCode": code},
        received_at=received,
        accepted_at=None if transfer else accepted or received,
        metadata_published_at=published,
        digitized=digitized,
        high_use=high_use,
        **more,
    )
    for ordinal, doc in enumerate(documents or [], start=1):
        values = {
            "kind": "doc",
            "ordinal": ordinal,
            "doc_code": f"{code}.{ordinal:07d}",
            "title": f"Tài liệu {ordinal} của {code}",
            "description_path": f"metadata/descriptive/{code}/EAD_doc_{ordinal}.xml",
            "elements": {},
        } | doc
        dossier.documents.append(Document(**values))
    session.add(dossier)
    session.flush()
    return dossier


def make_transfer(
    session: Session,
    settings: Settings,
    aip_id: str,
    *,
    organ_id: str = A,
    received: datetime,
    decided: datetime | None = None,
    accept: bool = True,
) -> Transfer:
    """A package received from ``organ_id``, ingested into ``aip_id`` under the transfer (its
    dossiers made with ``transfer=True``) and, with ``decided``, accepted or rejected then."""
    t = tr.receive(
        session, settings, organ_id=organ_id, package_name=aip_id, received_at=received, by="Người nhận"
    )
    tr.link_ingest(session, t.id, None, aip_id)
    if decided is not None:
        reason = "" if accept else "Hồ sơ thiếu mục lục"
        tr.decide(session, settings, t.id, accept=accept, by="Trưởng phòng", reason=reason, at=decided)
    return t


def with_records(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, records=dataclasses.replace(settings.records, **changes))


@pytest.fixture
def agencies(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        add_agency(s, A, "Sở Nội vụ tỉnh An Giang")
        add_agency(s, B, "Sở Tài chính tỉnh An Giang")


# --------------------------------------------------------------------------- calendar


def test_working_days_skip_the_weekend_and_configured_holidays() -> None:
    friday = date(2025, 8, 29)
    assert not is_working_day(date(2025, 8, 30)) and not is_working_day(date(2025, 8, 31))
    # 7 working days after Friday 29/8: Mon 1/9 ... Tue 9/9
    assert add_working_days(friday, 7) == date(2025, 9, 9)
    # with Quốc khánh 1-2/9/2025 off: Wed 3/9 is the first working day, Thu 11/9 the seventh
    assert add_working_days(friday, 7, [date(2025, 9, 1), date(2025, 9, 2)]) == date(2025, 9, 11)
    assert add_working_days(friday, 0) == friday
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_deadline_bases() -> None:
    records = RecordsSettings()
    assert transfer_deadline(date(2022, 6, 15), records, "programme") == date(2025, 6, 15)
    # law: 5 years from the year of submission (the creation year stands in): 31/12 of year + 5
    assert transfer_deadline(date(2022, 6, 15), records, "law") == date(2027, 12, 31)


# --------------------------------------------------------------------------- plans


def test_plan_reply_due_in_working_days_with_holidays(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    holidays = with_records(settings, holidays=(date(2025, 9, 1), date(2025, 9, 2)))
    with sessions.begin() as s:
        ahead = tp.register_plan(s, settings, A, "KH-01/2025", date(2025, 8, 29), date(2026, 9, 1), 40)
        assert ahead.findings == ()
        assert ahead.plan.reply_due_on == date(2025, 9, 9)
        late = tp.register_plan(s, holidays, B, "KH-02/2025", date(2025, 8, 29), date(2026, 3, 1))
        assert late.plan.reply_due_on == date(2025, 9, 11)
        (warning,) = late.findings
        assert warning.code == "transfer.plan_short_lead"
        assert warning.params["earliest"] == "2026-08-29"
        plan_id = late.plan.id
    with sessions.begin() as s:
        plan = s.get(TransferPlan, plan_id)
        assert plan is not None and plan.reply_due_on == date(2025, 9, 11) and plan.expected_dossiers is None
        replied = tp.reply_plan(s, plan_id, date(2025, 9, 12), notes="đồng ý")
        assert tp.plan_dict(replied)["replied_late"] is True
        with raises_code("transfer.plan_replied"):
            tp.reply_plan(s, plan_id, date(2025, 9, 13))


def test_plan_errors_name_the_problem(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    with sessions.begin() as s:
        with raises_code("transfer.agency_not_found") as info:
            tp.register_plan(s, settings, "H99.99", "KH-1", date(2025, 1, 2), date(2026, 2, 1))
        assert info.value.params == {"organ_id": "H99.99"}
        with raises_code("transfer.bad_input"):
            tp.register_plan(s, settings, A, "KH-1", date(2025, 1, 2), date(2024, 12, 1))
        tp.register_plan(s, settings, A, "KH-1", date(2025, 1, 2), date(2026, 2, 1))
        with raises_code("transfer.plan_exists"):
            tp.register_plan(s, settings, A, "KH-1", date(2025, 1, 3), date(2026, 2, 1))
        with raises_code("transfer.plan_not_found"):
            tp.reply_plan(s, 9999, date(2025, 1, 3))


# --------------------------------------------------------------------------- lifecycle


def test_transfer_lifecycle(settings: Settings, sessions: sessionmaker[Session], agencies: None) -> None:
    with sessions.begin() as s:
        tp.register_plan(s, settings, A, "KH-05", date(2024, 9, 1), date(2025, 10, 1), 2)
        aip = make_aip(s, "uuid-aaaa0001", AipStatus.STORING)
        for code in ("H49.01.2021.01", "H49.01.2021.02"):
            make_dossier(s, aip.id, code, end_on=date(2021, 12, 1), received=at(2025, 10, 1), transfer=True)
        # 20:00 UTC on 30/9 is 03:00 on 1/10 at the archive: the deadlines count from 1/10
        t = tr.receive(
            s,
            settings,
            organ_id=A,
            package_name="SIP_hoso_2021.zip",
            received_at=datetime(2025, 9, 30, 20, 0, tzinfo=UTC),
            by="Nguyễn Văn Nhận",
            plan_reference="KH-05",
        )
        assert (t.confirm_due_on, t.decision_due_on) == (date(2025, 11, 30), date(2025, 11, 30))
        assert t.status is TransferStatus.RECEIVED and t.plan is not None
        transfer_id = t.id

    with sessions() as s:
        assert tl.overdue_transfers(s, date(2025, 11, 30)) == []
        late = tl.overdue_transfers(s, date(2025, 12, 5))
        assert [(o.kind, o.days_late) for o in late] == [("confirmation", 5), ("decision", 5)]

    with sessions.begin() as s:
        with raises_code("transfer.no_stored_aip"):  # nothing linked yet
            tr.decide(s, settings, transfer_id, accept=True, by="Trưởng phòng")
        with raises_code("transfer.aip_not_found"):
            tr.link_ingest(s, transfer_id, None, "uuid-nope")
        linked = tr.link_ingest(s, transfer_id[:8], None, "uuid-aaaa0001")  # a prefix names it
        assert linked.status is TransferStatus.PROCESSING and linked.job_id == "job-aaaa0001"
        with raises_code("transfer.no_stored_aip") as info:  # still being written
            tr.decide(s, settings, transfer_id, accept=True, by="Trưởng phòng")
        assert info.value.params["status"] == "storing"
        with raises_code("transfer.reason_required"):
            tr.decide(s, settings, transfer_id, accept=False, by="Trưởng phòng", reason="  ")
        tr.confirm_receipt(s, transfer_id, at=at(2025, 10, 2))
        s.get_one(Aip, "uuid-aaaa0001").status = AipStatus.STORED
        decided = tr.decide(s, settings, transfer_id, accept=True, by="Trưởng phòng", at=at(2025, 11, 20))
        assert decided.status is TransferStatus.ACCEPTED

    with sessions.begin() as s:
        accepted = s.scalars(select(Dossier.accepted_at).where(Dossier.aip_id == "uuid-aaaa0001")).all()
        assert accepted == [at(2025, 11, 20).astimezone(UTC)] * 2
        row = s.get_one(Transfer, transfer_id)
        assert row.confirmed_at == at(2025, 10, 2).astimezone(UTC)  # the first confirmation stays
        assert tl.overdue_transfers(s, date(2025, 12, 5)) == []
        with raises_code("transfer.already_decided") as twice:
            tr.decide(s, settings, transfer_id, accept=False, by="Giám đốc", reason="đổi ý")
        assert twice.value.params["status"] == "accepted"
        with raises_code("transfer.already_decided"):
            tr.link_ingest(s, transfer_id, None, "uuid-aaaa0001")
        assert s.get_one(Transfer, transfer_id).status is TransferStatus.ACCEPTED


def test_rejection_keeps_the_reason_and_accepts_nothing(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    with sessions.begin() as s:
        aip = make_aip(s, "uuid-bbbb0001")
        make_dossier(
            s,
            aip.id,
            "H49.02.2020.07",
            organ_id=B,
            end_on=date(2020, 3, 1),
            received=at(2025, 2, 1),
            transfer=True,
        )
        t = tr.receive(s, settings, organ_id=B, package_name="p", received_at=at(2025, 2, 1), by="Lê Thị B")
        tr.link_ingest(s, t.id, "job-x", aip.id)
        tr.decide(s, settings, t.id, accept=False, by="Trưởng phòng", reason="Thiếu mục lục hồ sơ")
        transfer_id = t.id
    with sessions() as s:
        row = s.get_one(Transfer, transfer_id)
        assert (row.status, row.decision_reason, row.job_id) == (
            TransferStatus.REJECTED,
            "Thiếu mục lục hồ sơ",
            "job-x",
        )
        assert row.confirmed_at is not None
        assert s.scalars(select(Dossier.accepted_at).where(Dossier.aip_id == aip.id)).all() == [None]
        with raises_code("transfer.not_accepted"):
            ho.handover_data(s, settings, transfer_id)


def test_only_permanent_records_are_accepted(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    with sessions.begin() as s:
        aip = make_aip(s, "uuid-cccc0001")
        make_dossier(
            s, aip.id, "H49.01.2019.01", end_on=date(2019, 1, 1), received=at(2025, 1, 1), transfer=True
        )
        make_dossier(
            s,
            aip.id,
            "H49.01.2019.02",
            end_on=date(2019, 1, 1),
            received=at(2025, 1, 1),
            transfer=True,
            maintenance="04",
        )
        t = tr.receive(s, settings, organ_id=A, package_name="p", received_at=at(2025, 1, 1), by="X")
        tr.link_ingest(s, t.id, None, aip.id)
        transfer_id = t.id
    with sessions.begin() as s:
        with raises_code("transfer.not_permanent") as info:
            tr.decide(s, settings, transfer_id, accept=True, by="Y")
        assert info.value.params["codes"] == ["H49.01.2019.02"]
    with sessions.begin() as s:
        lenient = with_records(settings, intake_only_permanent=False)
        assert tr.decide(s, lenient, transfer_id, accept=True, by="Y").status is TransferStatus.ACCEPTED


# --------------------------------------------------------------------------- deadlines

ON = date(2025, 7, 1)


@pytest.fixture
def deadline_catalog(settings: Settings, sessions: sessionmaker[Session], agencies: None) -> None:
    """Agency A: d1 accepted on time, d2 late (each under a transfer accepted then), d3 overdue,
    d4 due within 90 days, d5 not yet due, d6 not permanent, d7 undated (all received under
    undecided transfers), d8 received after the report day; r1 under a transfer rejected before
    the report day (returned: counted nowhere), r2 under one rejected after it (still received
    on the day); declared cohorts 2020-2022; a plan with nothing received. A dossier of an agency
    not in the Danh mục, ingested without a transfer (accepted when stored)."""
    with sessions.begin() as s:

        def aip(name: str) -> str:
            return make_aip(s, f"uuid-dddd{name}").id

        one, two, three, four, late, rej1, rej2, unknown = (
            aip(n) for n in ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
        )
        make_dossier(
            s,
            one,
            "d1",
            end_on=date(2021, 3, 10),
            received=at(2023, 1, 5),
            transfer=True,
            documents=[{"issued_on": date(2021, 1, 1)}],
        )
        make_transfer(s, settings, one, received=at(2023, 1, 5), decided=at(2023, 2, 1))
        make_dossier(s, two, "d2", end_on=date(2020, 5, 1), received=at(2024, 5, 1), transfer=True)
        make_transfer(s, settings, two, received=at(2024, 5, 1), decided=at(2024, 6, 1))
        make_dossier(
            s,
            three,
            "d3",
            title="Hồ sơ quá hạn",
            end_on=date(2022, 6, 15),
            received=at(2025, 5, 1),
            transfer=True,
            documents=[
                {"issued_on": date(2022, 1, 10)},
                {"issued_on": date(2022, 9, 1)},
                {"issued_on": date(2022, 9, 2), "maintenance": "05"},
            ],
        )
        make_transfer(s, settings, three, received=at(2025, 5, 1))
        d: dict[str, Any] = {"session": s, "aip_id": four, "received": at(2025, 6, 1), "transfer": True}
        make_dossier(**d, code="d4", end_on=date(2022, 8, 20))
        make_dossier(**d, code="d5", end_on=date(2023, 12, 1))
        make_dossier(**d, code="d6", end_on=date(2020, 1, 1), maintenance="04")
        make_dossier(**d, code="d7", end_on=None)
        make_transfer(s, settings, four, received=at(2025, 6, 1))
        make_dossier(s, late, "d8", end_on=date(2020, 1, 1), received=at(2025, 8, 1))
        make_dossier(
            s,
            rej1,
            "r1",
            end_on=date(2020, 6, 1),
            received=at(2025, 3, 1),
            transfer=True,
            documents=[{"issued_on": date(2020, 6, 1)}],
        )
        make_transfer(s, settings, rej1, received=at(2025, 3, 1), decided=at(2025, 4, 1), accept=False)
        make_dossier(s, rej2, "r2", end_on=date(2022, 3, 1), received=at(2025, 5, 15), transfer=True)
        make_transfer(s, settings, rej2, received=at(2025, 5, 15), decided=at(2025, 9, 1), accept=False)
        make_dossier(s, unknown, "u1", organ_id="H99.99", end_on=date(2020, 1, 1), received=at(2025, 6, 1))
        for year, value in ((2020, 3), (2021, 1), (2022, 5)):
            set_declared_total(
                s, organ_id=A, year=year, metric="permanent_e_records_created", value=value, source="test"
            )
        tp.register_plan(s, settings, A, "KH-09", date(2025, 1, 10), date(2025, 6, 1), 12)


def test_deadlines_on_a_fixed_day(
    settings: Settings, sessions: sessionmaker[Session], deadline_catalog: None
) -> None:
    with sessions() as s:
        report = deadline_report(s, settings, on=ON, within_days=90)
    assert report.basis == "programme" and report.basis_note == "transfer.deadline.basis_programme"
    a, b, unknown = report.agencies
    assert (a.organ_id, b.organ_id, unknown.organ_id) == (A, B, "")
    codes = {st: [x.code for x in a.of(st)] for st in DeadlineStatus}
    # r1 was returned to the agency on 1/4/2025: in no list; r2 is rejected only after the day
    assert codes == {
        DeadlineStatus.OVERDUE: ["r2", "d3"],
        DeadlineStatus.DUE: ["d4"],
        DeadlineStatus.PENDING: ["d5"],
        DeadlineStatus.ON_TIME: ["d1"],
        DeadlineStatus.LATE: ["d2"],
        DeadlineStatus.UNDATED: ["d7"],
    }
    (r2, d3) = a.of(DeadlineStatus.OVERDUE)
    assert (d3.deadline, d3.days, d3.documents, d3.title) == (date(2025, 6, 15), -16, 3, "Hồ sơ quá hạn")
    assert (r2.received_on, r2.accepted_on) == (date(2025, 5, 15), None)
    (d1,) = a.of(DeadlineStatus.ON_TIME)
    assert (d1.received_on, d1.accepted_on) == (date(2023, 1, 5), date(2023, 2, 1))  # the decision day
    # documents: d1's on time; d3's first overdue (10/1/2025), second due (1/9/2025), third not
    # permanent; r1's document was returned with it
    assert dict(a.documents) == {"on_time": 1, "overdue": 1, "due": 1}
    # declared minus received: 2020: 3 - 1 (d2; d6 is not permanent, d8 came later, r1 was
    # returned); 2022: 5 - 3 (d3, d4, r2)
    assert [(n.year, n.declared, n.received, n.missing, n.deadline, n.status) for n in a.not_received] == [
        (2020, 3, 1, 2, date(2023, 12, 31), DeadlineStatus.OVERDUE),
        (2022, 5, 3, 2, date(2025, 12, 31), DeadlineStatus.PENDING),
    ]
    assert [(p.reference, p.expected_dossiers, p.status) for p in a.plans] == [
        ("KH-09", 12, DeadlineStatus.OVERDUE)
    ]
    assert b.dossiers == [] and b.not_received == []
    # ingested without a transfer: the archive took it when it was stored, 1/6/2025, after 1/1/2023
    assert [x.code for x in unknown.of(DeadlineStatus.LATE)] == ["u1"]
    data = report.as_dict()
    assert data["agencies"][0]["overdue"][1]["code"] == "d3" and data["agencies"][0]["pending"] == 1
    assert data["agencies"][0]["not_received"][0]["unit"] == "dossiers"

    with sessions() as s:
        law = deadline_report(s, settings, on=ON, within_days=200, organ_id=A, basis="law")
    (only,) = law.agencies
    assert law.basis_note == "transfer.deadline.basis_law_proxy"
    # law basis: 31/12 of the creation year + 5. d2 (2020, accepted 1/6/2024) is then on time and
    # d3 (2022) is due only at the end of 2027
    assert {st.value: [x.code for x in only.of(st)] for st in DeadlineStatus if only.of(st)} == {
        "on_time": ["d2", "d1"],
        "pending": ["r2", "d3", "d4", "d5"],
        "undated": ["d7"],
    }
    assert [(n.year, n.deadline, n.status) for n in only.not_received] == [
        (2020, date(2025, 12, 31), DeadlineStatus.DUE),
        (2022, date(2027, 12, 31), DeadlineStatus.PENDING),
    ]

    with sessions() as s:  # after r2's rejection on 1/9/2025 it is returned too
        later = deadline_report(s, settings, on=date(2025, 9, 2), organ_id=A)
    assert "r2" not in [x.code for x in later.agencies[0].dossiers]


def test_not_received_counts_in_the_declared_unit(
    settings: Settings, sessions: sessionmaker[Session], deadline_catalog: None
) -> None:
    """Declared in documents (``records.declared_unit``), the declaration is compared with the
    permanent electronic documents received, as K3 counts them, not with dossiers."""
    documents = with_records(settings, declared_unit="documents")
    with sessions() as s:
        (a,) = deadline_report(s, documents, on=ON, organ_id=A).agencies
    # 2020: no document received (r1's was returned); 2021: d1's one document = declared 1;
    # 2022: d3's two permanent documents (the third is retention 05)
    assert [(n.year, n.declared, n.received, n.missing, n.unit) for n in a.not_received] == [
        (2020, 3, 0, 3, "documents"),
        (2022, 5, 2, 3, "documents"),
    ]


def test_an_end_date_denotes_its_last_day(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    """ "2021" ends on 31/12/2021 and "12/2021" too: the 3 years run to 31/12/2024 (the catalog
    keeps the last day; a first day would make both late by most of a year)."""
    with sessions.begin() as s:
        aip = make_aip(s, "uuid-eeee0001").id
        make_dossier(s, aip, "y1", end_date="2021", received=at(2024, 12, 20))
        make_dossier(s, aip, "m1", end_date="12/2021", received=at(2024, 12, 31))
        make_dossier(s, aip, "m2", end_date="11/2021", received=at(2024, 12, 31))
    with sessions() as s:
        (a,) = deadline_report(s, settings, on=date(2025, 1, 10), organ_id=A).agencies
    assert {x.code: (x.created_on, x.deadline, x.status.value) for x in a.dossiers} == {
        "y1": (date(2021, 12, 31), date(2024, 12, 31), "on_time"),
        "m1": (date(2021, 12, 31), date(2024, 12, 31), "on_time"),
        "m2": (date(2021, 11, 30), date(2024, 11, 30), "late"),
    }


# --------------------------------------------------------------------------- acceptance


def test_acceptance_follows_the_transfer_decision(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    """Records ingested under a transfer are received, not accepted, until the decision; accepting
    dates every dossier of the AIP to the decision, even one an earlier ingest had stamped;
    rejecting leaves them all unaccepted."""
    with sessions.begin() as s:
        kept, returned = make_aip(s, "uuid-ffff0001").id, make_aip(s, "uuid-ffff0002").id
        # ingested without --transfer (accepted when stored), then tied to the transfer afterwards
        make_dossier(s, kept, "k1", end_on=date(2022, 1, 1), received=at(2025, 1, 2))
        make_dossier(s, kept, "k2", end_on=date(2022, 1, 1), received=at(2025, 1, 2), transfer=True)
        make_dossier(s, returned, "x1", end_on=date(2022, 1, 1), received=at(2025, 1, 2))
        t_kept = make_transfer(s, settings, kept, received=at(2025, 1, 2)).id
        t_returned = make_transfer(s, settings, returned, received=at(2025, 1, 2)).id

    def accepted(aip_id: str) -> list[datetime | None]:
        with sessions() as s:
            return list(
                s.scalars(select(Dossier.accepted_at).where(Dossier.aip_id == aip_id).order_by(Dossier.id))
            )

    assert accepted(kept) == [None, None] and accepted(returned) == [None]  # linked: not accepted yet
    with sessions.begin() as s:
        tr.decide(s, settings, t_kept, accept=True, by="Trưởng phòng", at=at(2025, 2, 3))
        tr.decide(
            s, settings, t_returned, accept=False, by="Trưởng phòng", reason="Sai cơ quan", at=at(2025, 2, 3)
        )
    assert accepted(kept) == [at(2025, 2, 3).astimezone(UTC)] * 2
    assert accepted(returned) == [None]


def test_link_refuses_another_package_or_another_agencys_records(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    with sessions.begin() as s:
        first, second, foreign = (make_aip(s, f"uuid-1111000{n}").id for n in (1, 2, 3))
        make_dossier(s, first, "H49.01.2022.01", received=at(2025, 3, 1), transfer=True)
        make_dossier(s, second, "H49.01.2022.02", received=at(2025, 3, 1), transfer=True)
        make_dossier(s, foreign, "H49.02.2022.09", organ_id=B, received=at(2025, 3, 1), transfer=True)
        t = tr.receive(s, settings, organ_id=A, package_name="p", received_at=at(2025, 3, 1), by="X")
        other = tr.receive(s, settings, organ_id=A, package_name="q", received_at=at(2025, 3, 1), by="X")
        tr.link_ingest(s, t.id, "job-1", first)
        ids = (t.id, other.id)
    with sessions.begin() as s:
        assert tr.link_ingest(s, ids[0], "job-1", first).aip_id == first  # again: a resumed ingest
        with raises_code("transfer.already_linked") as twice:
            tr.link_ingest(s, ids[0], None, second)
        assert twice.value.code == "transfer.already_linked"
        assert twice.value.params == {"transfer": ids[0], "aip": first, "other": second}
        with raises_code("transfer.aip_linked_elsewhere") as taken:
            tr.link_ingest(s, ids[1], None, first)
        assert taken.value.params["other"] == ids[0]
        with raises_code("transfer.agency_mismatch") as mismatch:
            tr.link_ingest(s, ids[1], None, foreign)
        assert mismatch.value.code == "transfer.agency_mismatch"
        assert {k: mismatch.value.params[k] for k in ("organ_id", "others", "codes")} == {
            "organ_id": A,
            "others": [B],
            "codes": ["H49.02.2022.09"],
        }
    # inside the caller's transaction: nothing is committed until the caller commits
    s = sessions()
    with s.begin():
        tr.link_ingest(s, ids[1], "job-2", second)
        s.rollback()
    with sessions() as s:
        row = s.get_one(Transfer, ids[1])
        assert (row.aip_id, row.status) == (None, TransferStatus.RECEIVED)


def test_two_archivists_deciding_at_once_get_one_decision(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    """Both sessions read the transfer undecided; the first decision is kept and the second is
    refused with it, whether the second writes after the first commits or waits on its lock."""
    with sessions.begin() as s:
        ids = []
        for n in (1, 2):
            aip = make_aip(s, f"uuid-2222000{n}").id
            make_dossier(s, aip, f"H49.01.2023.0{n}", received=at(2025, 4, 1), transfer=True)
            ids.append(make_transfer(s, settings, aip, received=at(2025, 4, 1)).id)

    # 1. check-then-act: the second session's view is stale when it writes
    first, second = sessions(), sessions()
    try:
        stale = second.get_one(Transfer, ids[0])  # held: the session keeps this view of the row
        assert stale.status is TransferStatus.PROCESSING
        with first.begin():
            tr.decide(first, settings, ids[0], accept=True, by="Trưởng phòng A", at=at(2025, 4, 10))
        with raises_code("transfer.already_decided") as refused:  # second's transaction began with its read
            tr.decide(
                second,
                settings,
                ids[0],
                accept=False,
                by="Trưởng phòng B",
                reason="thiếu",
                at=at(2025, 4, 10),
            )
        assert (refused.value.params["status"], refused.value.params["by"]) == ("accepted", "Trưởng phòng A")
        second.rollback()
        del stale
    finally:
        first.close()
        second.close()

    # 2. truly at once: the second UPDATE waits on the first one's row (PostgreSQL) or write lock
    # (SQLite) and, once the first commits, finds nothing undecided
    first, second = sessions(), sessions()
    outcome: list[BaseException | Transfer] = []
    try:
        stale = second.get_one(Transfer, ids[1])  # read (and held) before the first decides
        first.begin()
        tr.decide(first, settings, ids[1], accept=True, by="Trưởng phòng A", at=at(2025, 4, 11))

        def decide_too() -> None:
            try:  # second's transaction began with its read
                outcome.append(
                    tr.decide(
                        second,
                        settings,
                        ids[1],
                        accept=False,
                        by="Trưởng phòng B",
                        reason="thiếu",
                        at=at(2025, 4, 11),
                    )
                )
                second.commit()
            except BaseException as exc:
                second.rollback()
                outcome.append(exc)

        racer = threading.Thread(target=decide_too)
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive() and outcome == []  # blocked behind the first decision
        first.commit()
        racer.join(timeout=30)
        assert not racer.is_alive() and stale.id == ids[1]
    finally:
        first.close()
        second.close()
    (result,) = outcome
    assert isinstance(result, tr.TransferError) and result.code == "transfer.already_decided", result
    with sessions() as s:
        row = s.get_one(Transfer, ids[1])
        assert (row.status, row.decided_by) == (TransferStatus.ACCEPTED, "Trưởng phòng A")
        assert s.scalars(select(Dossier.accepted_at).where(Dossier.aip_id == row.aip_id)).all() == [
            at(2025, 4, 11).astimezone(UTC)
        ]


def test_a_plan_reference_is_unique_per_agency(
    settings: Settings, sessions: sessionmaker[Session], agencies: None
) -> None:
    """The catalog itself refuses a second plan with the same agency and reference (two sessions
    registering at once both pass the check in register_plan)."""
    with sessions.begin() as s:
        plan = tp.register_plan(s, settings, A, "KH-7", date(2025, 1, 2), date(2026, 2, 1)).plan
        tp.register_plan(s, settings, B, "KH-7", date(2025, 1, 2), date(2026, 2, 1))  # another agency
        fields = {
            c: getattr(plan, c)
            for c in ("agency_id", "reference", "registered_on", "planned_on", "reply_due_on")
        }
    with sessions() as s, pytest.raises(IntegrityError):
        s.add(TransferPlan(**fields, notes=""))
        s.flush()


def test_declared_totals_are_in_the_catalog(sessions: sessionmaker[Session], deadline_catalog: None) -> None:
    with sessions() as s:
        assert s.scalars(select(DeclaredTotal.value).order_by(DeclaredTotal.year)).all() == [3, 1, 5]


# --------------------------------------------------------------------------- settings


def test_records_settings_from_the_config_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_home_config(home, '[records]\nholidays = [2025-09-01, "2025-09-02"]\ndeadline_basis = "law"\n')
    records = load_settings(home, environ={}).records
    assert records.holidays == (date(2025, 9, 1), date(2025, 9, 2)) and records.deadline_basis == "law"
    assert (records.confirm_receipt_days, records.decision_days, records.plan_reply_working_days) == (
        60,
        60,
        7,
    )
    assert (records.plan_lead_months, records.transfer_deadline_years, records.programme_deadline_years) == (
        12,
        5,
        3,
    )
    for bad, key in (
        ('deadline_basis = "programe"', "records.deadline_basis"),
        ('holidays = ["2/9/2025"]', "records.holidays[0]"),
        ('declared_unit = "metres"', "records.declared_unit"),
        ("decision_days = -1", "records.decision_days"),
    ):
        write_home_config(home, f"[records]\n{bad}\n")
        with pytest.raises(SettingsError) as info:
            load_settings(home, environ={})
        assert info.value.key == key
