"""The QĐ 458 dashboard on a seeded catalog: every figure equals the value computed by hand below
(per agency and overall, on hồ sơ and on tài liệu), with declared, measured and proxy bases, a
restricted dossier left out of K4 and a lifted restriction counted again. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import Aip, AipStatus, AuditRun, Copy, CopyStatus, Incident
from repository.catalog.records import Dossier, SourceAgency
from repository.catalog.records_store import (
    RecordNotFoundError,
    RecordsError,
    add_agency,
    lift_restriction,
    restrict,
    set_declared_total,
)
from repository.settings import Settings, StorageLocation, StorageSettings
from tests.workflows.test_transfers import at, make_aip, make_dossier, make_transfer
from workflows.records.kpi import compute_kpis
from workflows.records.kpi_figures import Basis, Figure, KpiReport
from workflows.records.kpi_marks import mark_high_use, mark_published

A, B, C, D = "H49.01", "H49.02", "H49.03", "H49.04"
YEAR, ON = 2021, date(2025, 6, 30)


def ingested(
    session: Session,
    settings: Settings,
    code: str,
    *,
    organ_id: str = A,
    received: datetime,
    transfer: bool = True,
    decided: datetime | None = None,
    accept: bool = True,
    **more: Any,
) -> Dossier:
    """One hồ sơ in an AIP of its own, as the ingest writes it: under a transfer (received, linked,
    and accepted or rejected on ``decided``; undecided without it), or without one (accepted when
    stored, at ``received``)."""
    aip = make_aip(session, f"uuid-kpi-{code.lower()}").id
    dossier = make_dossier(
        session, aip, code, organ_id=organ_id, received=received, transfer=transfer, **more
    )
    if transfer:
        make_transfer(
            session, settings, aip, organ_id=organ_id, received=received, decided=decided, accept=accept
        )
    return dossier


@pytest.fixture
def seeded(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Cohort 2021, report day 30/6/2025 (a 2021 record is due by its creation day in 2024).

    A (in scope), declared for 2021: records_created 10, records_created_electronic 6,
    permanent_e_records_created 4, online_access 1, high_use_paper_items 20.
      A1 2021-03-01 born digital, received 10/1/2023, accepted 1/2/2023, published.
         docs: A1d1 (2021-01-05, published), A1d2 (2021-02-01, digitized 02), A1d3 (2021-02-15, Mật)
      A2 2021-06-01 mixed (03), received 1/8/2024, accepted 1/9/2024 (after 1/6/2024: late), on
         the tiếp cận có điều kiện list since 1/10/2024. doc A2d1 (2021-05-01, published)
      A3 2021-09-01 digitized, high use, accepted 1/5/2025, published 2/5/2025
      A4 2021-11-01 retention 04 (30 years), access 02, under a transfer not decided yet
      A5 2021-07-01 received 10/1/2024, published, transfer rejected 1/2/2024: returned, counted
         nowhere. doc A5d1 (2021-07-01)
    B (in scope), declared online_access 0 and nothing else.
      B1 2021-01-15 received 1/6/2023, accepted, published; restricted 2023-09 → lifted 1/1/2025
         docs: B1d1 (2021-01-10, published), B1d2 (2021-01-12, access 02)
      B2 2021-05-05 confidence not given (electronic), received 1/6/2025 (late), not decided
         docs: B2d1 (2021-05-01, 01), B2d2 (2021-04-01, 02)
      B3 2021-02-02 received 1/8/2025: after the report day, not counted
      B4 2019-05-05 accepted 1/2/2022, not published (another cohort; held for K4)
    C (not in scope), nothing. D (in scope, dissolved 30/6/2020) still declared online_access 1
    for 2021. U1: a dossier of an agency not in the Danh mục (H99.99), ingested without a
    transfer (accepted when stored).
    """
    with sessions.begin() as s:
        add_agency(s, A, "Sở Nội vụ tỉnh An Giang")
        add_agency(s, B, "Sở Tài chính tỉnh An Giang")
        add_agency(s, C, "Công ty TNHH Một thành viên", in_scope=False)
        add_agency(s, D, "Sở Bưu chính (đã giải thể)")
        s.scalars(select(SourceAgency).where(SourceAgency.organ_id == D)).one().active_to = date(2020, 6, 30)
        for metric, value in (
            ("records_created", 10),
            ("records_created_electronic", 6),
            ("permanent_e_records_created", 4),
            ("online_access", 1),
            ("high_use_paper_items", 20),
        ):
            set_declared_total(s, organ_id=A, year=YEAR, metric=metric, value=value, source="test")
        set_declared_total(
            s, organ_id=A, year=2020, metric="permanent_e_records_created", value=99, source="t"
        )
        set_declared_total(s, organ_id=B, year=YEAR, metric="online_access", value=0, source="test")
        set_declared_total(s, organ_id=D, year=YEAR, metric="online_access", value=1, source="test")

        def doc(issued: date, **more: object) -> dict[str, object]:
            return {"issued_on": issued, "mode": "01", "confidence_level": ""} | more

        ingested(
            s,
            settings,
            "A1",
            end_on=date(2021, 3, 1),
            received=at(2023, 1, 10),
            decided=at(2023, 2, 1),
            published=at(2023, 3, 1),
            documents=[
                doc(date(2021, 1, 5), metadata_published_at=at(2023, 3, 1)),
                doc(date(2021, 2, 1), confidence_level="02"),
                doc(date(2021, 2, 15), mode="03"),
            ],
        )
        a2 = ingested(
            s,
            settings,
            "A2",
            end_on=date(2021, 6, 1),
            confidence="03",
            received=at(2024, 8, 1),
            decided=at(2024, 9, 1),
            documents=[doc(date(2021, 5, 1), metadata_published_at=at(2024, 10, 5))],
        )
        ingested(
            s,
            settings,
            "A3",
            end_on=date(2021, 9, 1),
            confidence="02",
            digitized=True,
            high_use=True,
            received=at(2025, 4, 1),
            decided=at(2025, 5, 1),
            published=at(2025, 5, 2),
        )
        ingested(
            s, settings, "A4", end_on=date(2021, 11, 1), maintenance="04", mode="02", received=at(2025, 5, 1)
        )
        ingested(
            s,
            settings,
            "A5",
            end_on=date(2021, 7, 1),
            received=at(2024, 1, 10),
            published=at(2024, 1, 20),
            decided=at(2024, 2, 1),
            accept=False,
            documents=[doc(date(2021, 7, 1))],
        )
        b1 = ingested(
            s,
            settings,
            "B1",
            organ_id=B,
            end_on=date(2021, 1, 15),
            received=at(2023, 6, 1),
            decided=at(2023, 7, 1),
            published=at(2023, 8, 1),
            documents=[
                doc(date(2021, 1, 10), metadata_published_at=at(2023, 8, 1)),
                doc(date(2021, 1, 12), mode="02"),
            ],
        )
        ingested(
            s,
            settings,
            "B2",
            organ_id=B,
            end_on=date(2021, 5, 5),
            confidence="",
            received=at(2025, 6, 1),
            documents=[
                doc(date(2021, 5, 1), confidence_level="01"),
                doc(date(2021, 4, 1), confidence_level="02"),
            ],
        )
        ingested(
            s, settings, "B3", organ_id=B, end_on=date(2021, 2, 2), received=at(2025, 8, 1), transfer=False
        )
        ingested(
            s,
            settings,
            "B4",
            organ_id=B,
            end_on=date(2019, 5, 5),
            received=at(2022, 1, 1),
            decided=at(2022, 2, 1),
        )
        ingested(
            s,
            settings,
            "U1",
            organ_id="H99.99",
            end_on=date(2021, 1, 1),
            received=at(2023, 1, 1),
            transfer=False,
            published=at(2023, 1, 3),
        )
        restrict(
            s,
            dossier_id=a2.id,
            decision_number="QĐ 12/2024",
            decision_date=date(2024, 10, 1),
            reason="đang chỉnh lý",
            by="test",
        )
        lifted = restrict(
            s,
            dossier_id=b1.id,
            decision_number="QĐ 3/2023",
            decision_date=date(2023, 9, 1),
            reason="bảo vệ bí mật cá nhân",
            by="test",
        )
        lift_restriction(s, lifted.id, decision_number="QĐ 1/2025", by="test", at=at(2025, 1, 1))


def nums(f: Figure | None) -> tuple[int | None, int | None, float | None, str]:
    assert f is not None
    return f.numerator, f.denominator, f.percent, f.basis.value


@pytest.fixture
def report(settings: Settings, sessions: sessionmaker[Session], seeded: None) -> KpiReport:
    with sessions() as s:
        return compute_kpis(s, settings, YEAR, on=ON)


def test_agency_a_declared_and_proxy(report: KpiReport) -> None:
    a = report.agency(A)
    # dossiers (the declared unit)
    assert nums(a.figure("K1", "dossiers")) == (6, 10, 60.0, "declared")
    assert nums(a.figure("K2")) == (1, 1, 100.0, "declared")
    # cohort A1, A2 (A3 digitized, A4 not permanent); A1 accepted within 3 years, A2 not: 1 / declared 4
    assert nums(a.figure("K3", "dossiers")) == (1, 4, 25.0, "declared")
    # held public: A1 and A3 (A2 restricted, A4 not accepted), both published
    assert nums(a.figure("K4", "dossiers")) == (2, 2, 100.0, "measured")
    k6 = a.figure("K6", "dossiers")
    assert (
        nums(k6) == (1, 20, 5.0, "declared") and k6 is not None and k6.note == "kpi.note.numerator_received"
    )
    # documents: no declaration in this unit → proxies, labelled
    k1 = a.figure("K1", "documents")  # A1d1, A1d2, A2d1 (A1d3 is Mật): born digital A1d1, A2d1
    assert nums(k1) == (2, 3, 66.7, "proxy") and k1 is not None and k1.note == "kpi.note.k1_proxy"
    k3 = a.figure("K3", "documents")  # A1d1, A1d3, A2d1; A2d1 arrived after 3 years
    assert nums(k3) == (2, 3, 66.7, "proxy") and k3 is not None and k3.note == "kpi.note.k3_proxy"
    # held public documents: A1d1, A1d2 (A1d3 Mật; A2d1's dossier restricted): A1d1 published
    assert nums(a.figure("K4", "documents")) == (1, 2, 50.0, "measured")
    assert nums(a.figure("K6", "documents")) == (0, None, None, "measured")


def test_agency_b_proxies_and_a_lifted_restriction(report: KpiReport) -> None:
    b = report.agency(B)
    # B1 born digital; B2 does not say, and a record that does not say is electronic
    assert nums(b.figure("K1", "dossiers")) == (2, 2, 100.0, "proxy")
    assert nums(b.figure("K2")) == (0, 1, 0.0, "declared")
    assert nums(b.figure("K3", "dossiers")) == (1, 2, 50.0, "proxy")  # B2 arrived after 3 years
    assert nums(b.figure("K4", "dossiers")) == (1, 2, 50.0, "measured")  # B1 (lifted) published, B4 not
    assert nums(b.figure("K1", "documents")) == (3, 4, 75.0, "proxy")
    assert nums(b.figure("K3", "documents")) == (2, 3, 66.7, "proxy")
    assert nums(b.figure("K4", "documents")) == (1, 1, 100.0, "measured")  # B1d2 is access 02
    c = report.agency(C)
    k2 = c.figure("K2")
    assert (
        c.in_scope is False and k2 is not None and k2.note == "kpi.note.not_in_scope" and k2.percent is None
    )
    assert nums(c.figure("K1", "dossiers")) == (0, 0, None, "proxy")
    d = report.agency(D)  # dissolved before the year: out of scope for it, whatever it declared
    k2 = d.figure("K2")
    assert (d.in_scope, d.active) == (False, False)
    assert k2 is not None and k2.note == "kpi.note.not_active" and k2.evidence["active_to"] == "2020-06-30"
    unknown = report.agency("")
    assert nums(unknown.figure("K3", "dossiers")) == (1, 1, 100.0, "proxy")


def test_overall(report: KpiReport) -> None:
    k2 = report.figure("K2")  # A online, B not; D (dissolved in 2020) and C (not a source) left out
    assert nums(k2) == (1, 2, 50.0, "declared") and k2 is not None and k2.note == ""
    # K1 and K3 over the agencies in scope (A, B); a sum with a proxy in it is a proxy
    k1 = report.figure("K1", "dossiers")
    assert nums(k1) == (8, 12, 66.7, "proxy") and k1 is not None and k1.note == "kpi.note.overall_mixed"
    assert nums(report.figure("K1", "documents")) == (5, 7, 71.4, "proxy")
    assert nums(report.figure("K3", "dossiers")) == (2, 6, 33.3, "proxy")
    assert nums(report.figure("K3", "documents")) == (4, 6, 66.7, "proxy")
    # K4 and K6 over every holding, whatever the agency (A 2/2, B 1/2, U1 1/1)
    k4 = report.figure("K4", "dossiers")
    assert nums(k4) == (4, 5, 80.0, "measured") and k4 is not None and k4.met is True
    assert nums(report.figure("K4", "documents")) == (2, 3, 66.7, "measured")
    k6 = report.figure("K6", "dossiers")  # only A has a denominator
    assert nums(k6) == (1, 20, 5.0, "declared") and k6 is not None and k6.note == "kpi.note.overall_partial"
    assert k6.met is False and k6.evidence == {"agencies": 1, "left_out": 4}
    assert nums(report.figure("K6", "documents")) == (0, None, None, "measured")
    data = report.as_dict()
    assert data["targets"] == {"K1": 80, "K2": 90, "K3": 80, "K4": 80, "K5": 100, "K6": 30}
    first = data["agencies"][0]["figures"][0]
    assert set(first) == {
        "kpi",
        "unit",
        "numerator",
        "denominator",
        "percent",
        "target",
        "met",
        "basis",
        "note",
        "evidence",
    }


def test_k5_needs_two_required_copies_and_every_location_audited_within_the_cycle(
    settings: Settings, sessions: sessionmaker[Session], seeded: None
) -> None:
    with sessions() as s:
        one_copy = compute_kpis(s, settings, YEAR, on=ON).figure("K5")
    assert one_copy is not None and nums(one_copy) == (0, 1, 0.0, "measured")
    assert one_copy.note == "kpi.note.k5_copies" and one_copy.evidence["required_locations"] == ["primary"]

    two = dataclasses.replace(
        settings,
        storage=StorageSettings(
            locations=(
                StorageLocation(name="primary", backend="local", path="a"),
                StorageLocation(name="offsite", backend="local", role="replica", path="b"),
            )
        ),
    )

    # K5 reads the copies' real state (issue 11, item 15): every AIP needs a good copy in both
    # required locations, each read by an audit within the cycle.
    add_copies(sessions, {"primary": datetime(2025, 6, 1, 12, tzinfo=UTC),
                          "offsite": datetime(2025, 6, 3, 12, tzinfo=UTC)})  # fmt: skip

    def run(
        ident: str, day: datetime, location: str | None, status: str = "completed", copies: int = 0
    ) -> None:
        with sessions.begin() as s:
            s.add(
                AuditRun(
                    id=ident,
                    started_at=day,
                    status=status,
                    trigger="scheduler",
                    mode="due",
                    location=location,
                    holder="h",
                    copies_checked=copies,
                )
            )

    def k5() -> Figure:
        with sessions() as s:
            figure = compute_kpis(s, two, YEAR, on=ON).figure("K5")
        assert figure is not None
        return figure

    run("run-old", datetime(2025, 1, 2, tzinfo=UTC), None, copies=3)  # every location, but stale
    stale = k5()
    assert stale.numerator == 0 and stale.note == "kpi.note.k5_audit_missing"
    assert stale.evidence["missing_audit_locations"] == ["primary", "offsite"]
    run("run-primary", datetime(2025, 6, 1, tzinfo=UTC), "primary", copies=7)
    run("run-offsite-failed", datetime(2025, 6, 2, tzinfo=UTC), "offsite", status="failed")
    run("run-later", datetime(2025, 7, 2, tzinfo=UTC), None)  # after the report day
    half = k5()  # a run within the cycle, but only one location was audited
    assert nums(half) == (0, 1, 0.0, "measured") and half.note == "kpi.note.k5_audit_missing"
    assert half.evidence["missing_audit_locations"] == ["offsite"]
    assert half.evidence["audited_locations"] == ["primary"]
    run("run-offsite", datetime(2025, 6, 3, tzinfo=UTC), "offsite", copies=5)
    ok = k5()
    assert nums(ok) == (1, 1, 100.0, "measured") and ok.met is True and ok.note == ""
    assert ok.evidence["missing_audit_locations"] == []
    assert {k: v["run"] for k, v in ok.evidence["audits"].items()} == {
        "primary": "run-primary",
        "offsite": "run-offsite",
    }
    assert ok.evidence["latest_audit_run"] == "run-offsite"  # the run after the report day does not count
    assert ok.evidence["latest_audit_copies_checked"] == 5


def add_copies(sessions: sessionmaker[Session], checked: dict[str, datetime | None]) -> None:
    """A stored copy of the current version of every AIP in each location, last read at the given
    time (None: never) with outcome "passed"."""
    with sessions.begin() as s:
        for aip in s.scalars(select(Aip)):
            for location, day in checked.items():
                s.add(
                    Copy(
                        aip_id=aip.id,
                        version=aip.current_version,
                        location=location,
                        status=CopyStatus.STORED,
                        object_path=f"{location}/{aip.id}",
                        written_at=datetime(2025, 1, 1, tzinfo=UTC),
                        last_checked_at=day,
                        check_outcome="passed" if day else None,
                    )
                )


TWO_LOCATIONS = StorageSettings(
    locations=(
        StorageLocation(name="primary", backend="local", path="a"),
        StorageLocation(name="s3", backend="local", role="replica", path="b"),
    )
)


def test_issue11_item15_k5_is_computed_from_the_copies_real_state(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """K5 said "100 % đạt" while data was damaged: two open incidents, a degraded AIP with no good
    copy, a pending S3 copy, a replica "audit" that checked 0 copies. Each case alone is seeded on
    a sound catalog and must bring K5 to 0, naming why."""
    two = dataclasses.replace(settings, storage=TWO_LOCATIONS)
    june = datetime(2025, 6, 2, 12, tzinfo=UTC)
    with sessions.begin() as s:
        make_aip(s, "uuid-k5-a")
        make_aip(s, "uuid-k5-b")
        for location, copies in (("primary", 2), ("s3", 2)):
            s.add(AuditRun(id=f"run-{location}", started_at=june, status="completed", trigger="cli",
                           mode="all", location=location, holder="h", copies_checked=copies))  # fmt: skip
    add_copies(sessions, {"primary": june, "s3": june})

    def k5(change: Any = None) -> Figure:
        with sessions() as s:
            if change is not None:
                change(s)
                s.flush()
            figure = compute_kpis(s, two, YEAR, on=ON).figure("K5")
            s.rollback()
        assert figure is not None
        return figure

    sound = k5()
    assert nums(sound) == (1, 1, 100.0, "measured") and sound.note == "", sound.evidence

    def copy(s: Session, aip_id: str, location: str) -> Copy:
        return s.scalars(select(Copy).where(Copy.aip_id == aip_id, Copy.location == location)).one()

    def incidents(s: Session) -> None:
        for n in (1, 2):
            s.add(Incident(aip_id="uuid-k5-a", location="primary", path=f"v1/content/{n}.pdf", kind="corrupt",
                           code="ocfl.digest_mismatch", message="x", opened_at=june, run_id="run-primary",
                           status="open"))  # fmt: skip

    def degraded_no_good_copy(s: Session) -> None:
        s.get_one(Aip, "uuid-k5-b").status = AipStatus.DEGRADED
        for location in ("primary", "s3"):
            copy(s, "uuid-k5-b", location).check_outcome = "failed"  # still "stored" in the row

    def pending_s3(s: Session) -> None:
        c = copy(s, "uuid-k5-a", "s3")
        c.status, c.last_checked_at, c.check_outcome = CopyStatus.PENDING, None, None

    def replica_audit_read_nothing(s: Session) -> None:
        for aip_id in ("uuid-k5-a", "uuid-k5-b"):
            c = copy(s, aip_id, "s3")
            c.last_checked_at, c.check_outcome = None, None
        s.get_one(AuditRun, "run-s3").copies_checked = 0

    cases = {
        "two open incidents": (incidents, "kpi.note.k5_damaged", {"open_incidents": 2}),
        "degraded AIP, no good copy": (
            degraded_no_good_copy,
            "kpi.note.k5_damaged",
            {"degraded_aips": 1, "copies_damaged": 2, "aips_without_good_copy": {"primary": 1, "s3": 1}},
        ),
        "pending S3 copy": (
            pending_s3,
            "kpi.note.k5_incomplete",
            {"copies_pending": 1, "aips_without_good_copy": {"primary": 0, "s3": 1}},
        ),
        "replica audit checked 0 copies": (
            replica_audit_read_nothing,
            "kpi.note.k5_audit_missing",
            {"missing_audit_locations": ["s3"], "unchecked_copies": {"s3": 2}},
        ),
    }
    for name, (change, note, evidence) in cases.items():
        figure = k5(change)
        assert (figure.numerator, figure.percent, figure.met, figure.note) == (0, 0.0, False, note), name
        assert {k: figure.evidence[k] for k in evidence} == evidence, name
    assert nums(k5()) == (1, 1, 100.0, "measured")  # every case was rolled back


def test_declared_documents_unit(settings: Settings, sessions: sessionmaker[Session], seeded: None) -> None:
    """With ``records.declared_unit = "documents"`` the declarations weigh the document rows and the
    dossier rows become proxies."""
    docs = dataclasses.replace(
        settings, records=dataclasses.replace(settings.records, declared_unit="documents")
    )
    with sessions() as s:
        a = compute_kpis(s, docs, YEAR, on=ON).agency(A)
    assert nums(a.figure("K1", "documents")) == (6, 10, 60.0, "declared")
    # declared 4; A1d1 and A1d3 were accepted within 3 years of their dates, A2d1 not
    assert nums(a.figure("K3", "documents")) == (2, 4, 50.0, "declared")
    # A1..A4 (none is Mật; A5 was returned): electronic A1, A2 (mixed, counted whole), A4 (A3 digitized)
    assert nums(a.figure("K1", "dossiers")) == (3, 4, 75.0, "proxy")
    assert nums(a.figure("K3", "dossiers")) == (1, 2, 50.0, "proxy")


def test_an_empty_catalog_has_no_percentages(settings: Settings, sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        report = compute_kpis(s, settings, YEAR, on=ON)
    assert report.agencies == ()
    assert {f.kpi: f.percent for f in report.overall if f.kpi != "K5"} == dict.fromkeys(
        ("K1", "K2", "K3", "K4", "K6"), None
    )
    assert Basis.PROXY.value == "proxy"


# --------------------------------------------------------------------------- K4 / K6 inputs


@pytest.fixture
def unpublished(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """A's P1 (two documents) and P2, held and public; nothing published, nothing high-use.
    P3 was sent twice: once under a transfer rejected, once accepted (two AIPs, one code)."""
    with sessions.begin() as s:
        add_agency(s, A, "Sở Nội vụ tỉnh An Giang")
        ingested(
            s,
            settings,
            "P1",
            end_on=date(2021, 3, 1),
            received=at(2023, 1, 10),
            decided=at(2023, 2, 1),
            documents=[
                {"issued_on": date(2021, 1, 5), "mode": "01"},
                {"issued_on": date(2021, 1, 6), "mode": "01"},
            ],
        )
        ingested(s, settings, "P2", end_on=date(2021, 4, 1), received=at(2023, 1, 10), transfer=False)
        for n, accept in ((1, False), (2, True)):
            aip = make_aip(s, f"uuid-kpi-p3-{n}").id
            make_dossier(s, aip, "P3", end_on=date(2021, 5, 1), received=at(2024, n, 10), transfer=True)
            make_transfer(s, settings, aip, received=at(2024, n, 10), decided=at(2024, n, 20), accept=accept)


def test_k4_and_k6_without_any_recorded_input_are_no_data(
    settings: Settings, sessions: sessionmaker[Session], unpublished: None
) -> None:
    """Nothing sets the publication date or the high-use mark but ``kholuu kpi mark-published`` /
    ``mark-high-use``: until they are used, K4 and K6 say "no data", never 0 %."""
    with sessions() as s:
        report = compute_kpis(s, settings, YEAR, on=ON)
    k4 = report.figure("K4", "dossiers")
    assert nums(k4) == (None, 3, None, "no_data") and k4 is not None and k4.note == "kpi.note.k4_no_data"
    assert k4.met is None
    assert nums(report.agency(A).figure("K4", "documents")) == (None, 2, None, "no_data")
    k6 = report.figure("K6", "dossiers")
    assert nums(k6) == (None, None, None, "no_data") and k6 is not None and k6.note == "kpi.note.k6_no_data"
    assert report.as_dict()["overall"][-1]["basis"] == "no_data"

    with sessions.begin() as s:
        marked = mark_published(s, ["P1"], at=at(2025, 3, 1))
        assert [(m.code, m.documents) for m in marked] == [("P1", 2)]
        # the code of a returned package is passed over: P3 is the accepted one
        (p3,) = mark_high_use(s, ["P3"])
        assert p3.aip_id == "uuid-kpi-p3-2" and p3.high_use is True
    with sessions() as s:
        report = compute_kpis(s, settings, YEAR, on=ON)
        before = compute_kpis(s, settings, YEAR, on=date(2025, 2, 28))
    assert nums(report.figure("K4", "dossiers")) == (1, 3, 33.3, "measured")
    assert nums(report.figure("K4", "documents")) == (2, 2, 100.0, "measured")
    # the dates are kept: on 28/2/2025 nothing was published yet, a measured 0
    assert nums(before.figure("K4", "dossiers")) == (0, 3, 0.0, "measured")
    # P3 is not digitized: high use, but nothing of it counts as digitized
    assert nums(report.figure("K6", "dossiers")) == (0, None, None, "measured")


def test_marking_addresses_dossiers_by_code_and_aip(
    settings: Settings, sessions: sessionmaker[Session], unpublished: None
) -> None:
    with sessions.begin() as s:
        make_dossier(s, make_aip(s, "uuid-kpi-p1-copy").id, "P1", received=at(2024, 5, 1))
    with sessions.begin() as s:
        with pytest.raises(RecordsError) as ambiguous:
            mark_published(s, ["P2", "P1"])
        assert ambiguous.value.code == "kpi.mark.ambiguous_code"
        assert ambiguous.value.params["aips"] == ["uuid-kpi-p1", "uuid-kpi-p1-copy"]
        with pytest.raises(RecordNotFoundError) as unknown:
            mark_high_use(s, ["P2"], aip_id="uuid-kpi-p1")
        assert unknown.value.params == {"code": "P2", "aip": "uuid-kpi-p1"}
    with sessions.begin() as s:
        (one,) = mark_published(s, ["P1"], aip_id="uuid-kpi-p1", at=at(2025, 1, 2))
        assert one.metadata_published_at == at(2025, 1, 2).astimezone(UTC)
    with sessions() as s:
        rows = s.scalars(select(Dossier).where(Dossier.code.in_(["P1", "P2"])).order_by(Dossier.id)).all()
        assert [d.metadata_published_at is not None for d in rows] == [True, False, False]
        assert all(doc.metadata_published_at == at(2025, 1, 2).astimezone(UTC) for doc in rows[0].documents)
    with sessions.begin() as s:
        mark_published(s, ["P1"], aip_id="uuid-kpi-p1", unset=True)
    with sessions() as s:
        p1 = s.scalars(select(Dossier).where(Dossier.aip_id == "uuid-kpi-p1")).one()
        assert p1.metadata_published_at is None
        assert [doc.metadata_published_at for doc in p1.documents] == [None, None]
