"""The records catalog on both backends: the TT 05 description of stored AIPs, search that ignores
diacritics, the dated list of tiếp cận có điều kiện, giải mật, agencies, schedules and declared totals."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from preservation.names import fold
from preservation.tt05.model import (
    Description,
    DocumentKind,
    DocumentRecord,
    PackageType,
    RecordSet,
)
from preservation.tt05.tables import Variant
from repository.catalog import records_store as store
from repository.catalog.base import Base
from repository.catalog.file_text import include_in_comparison
from repository.catalog.models import Aip, AipStatus, File, FileRole
from repository.catalog.records import (
    AccessChange,
    DeclaredTotal,
    Document,
    DocumentFile,
    Dossier,
    RetentionItem,
    RetentionSchedule,
    SourceAgency,
)
from workflows.access.public import PUBLIC

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCHEDULE = ROOT / "config" / "retention" / "example-general.toml"
HANOI = timezone(timedelta(hours=7))

DOSSIER_CODE = "H49.64.33.2001.160"
DOSSIER_TITLE = "Hồ sơ xây dựng trụ sở Ủy ban nhân dân tỉnh An Giang"
DOC_DECISION = f"{DOSSIER_CODE}.0000003"  # the 7-digit suffix makes it document 3
DECISION_FILE = "Quyết định phê duyệt.pdf"
PHOTO_FILE = "ảnh khởi công.jpg"
RECORD_TABLES = {
    "fonds",
    "source_agency",
    "dossier",
    "document",
    "document_file",
    "retention_schedule",
    "retention_item",
    "access_restriction",
    "access_change",
    "transfer_plan",
    "transfer",
    "declared_total",
}


# --------------------------------------------------------------------------- builders (CLI tests use them)


def make_record_set(
    code: str = DOSSIER_CODE,
    *,
    doc_mode: str = "01",
    title: str = DOSSIER_TITLE,
    dossier_mode: str = "01",
    end_date: str = "12/2001",
) -> RecordSet:
    """A SIP_hoso of An Giang: a digitized dossier with a decision (document 3) and a photo."""
    package = Description(
        Variant.HOSO_SIP,
        "metadata/descriptive/EAD.xml",
        {
            "fileCode": code,
            "title": title,
            "maintenance": "01",
            "mode": dossier_mode,
            "language": "01",
            "startDate": "05/03/2001",
            "endDate": end_date,
            "totalDoc": "2",
            "numberOfPage": "14",
            "confidenceLevel": "02",
            "paperFileCode": "AG.K1.G2.H3.160",
            "keyword": "trụ sở; xây dựng",
        },
    )
    decision = DocumentRecord(
        DocumentKind.DOC,
        Description(
            Variant.DOC_SIP,
            "metadata/descriptive/EAD_doc_1.xml",
            {
                "docId": f"{code}.3",
                "docCode": f"{code}.0000003",
                "typeName": "01",
                "codeNumber": "125",
                "codeNotation": "QĐ-UBND",
                "issuedDate": "05/03/2001",
                "organName": "Ủy ban nhân dân tỉnh An Giang",
                "subject": "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở",
                "language": "01",
                "numberOfPage": "4",
                "mode": doc_mode,
                "maintenance": "01",
            },
        ),
        data_files=(DECISION_FILE,),
    )
    photo = DocumentRecord(
        DocumentKind.PIC,
        Description(
            Variant.PIC_SIP,
            "metadata/descriptive/EAD_pic_1.xml",
            {
                "imageTitle": "Lễ khởi công đường vào trụ sở",
                "photoTime": "2001",
                "mode": "01",
                "maintenance": "01",
            },
        ),
        data_files=(PHOTO_FILE,),
    )
    return RecordSet(PackageType.SIP_HOSO, package, (decision, photo))


def add_aip(session: Session, aip_id: str | None = None) -> tuple[str, dict[tuple[str, str], str]]:
    """An Aip row with one payload File per data file; returns its id and the (rep, path) → uuid map."""
    aip_id = aip_id or f"uuid-{uuid.uuid4()}"
    now = datetime.now(UTC)
    aip = Aip(
        id=aip_id,
        objid=aip_id,
        label=DOSSIER_TITLE,
        status=AipStatus.STORED,
        package_kind="eark",
        container="directory",
        source_name="sip",
        payload_digest="0" * 64,
        file_count=2,
        payload_bytes=2,
        created_at=now,
        stored_at=now,
        current_version=1,
        job_id="job",
    )
    uuids: dict[tuple[str, str], str] = {}
    for name in (DECISION_FILE, PHOTO_FILE):
        file_uuid = str(uuid.uuid4())
        uuids[("rep1", name)] = file_uuid
        aip.files.append(
            File(
                version=1,
                uuid=file_uuid,
                role=FileRole.ORIGINAL,
                representation="rep1",
                aip_path=f"representations/rep1/data/{name}",
                path=name,
                path_nfc=name,
                size=1,
                sha256="a" * 64,
                sha512="b" * 128,
            )
        )
    session.add(aip)
    session.flush()
    return aip_id, uuids


def description_paths(records: RecordSet) -> dict[str, str]:
    paths = [records.package.path, *(d.description.path for d in records.documents)]
    return {p: f"representations/rep1/{p}" for p in paths}


def register(
    session: Session,
    records: RecordSet | None = None,
    *,
    organ_id: str = "",
    extra: dict[str, dict[str, str]] | None = None,
) -> Dossier:
    records = records or make_record_set()
    aip_id, uuids = add_aip(session)
    return store.register_records(
        session,
        aip_id=aip_id,
        records=records,
        file_uuids=uuids,
        description_paths=description_paths(records),
        received_at=datetime(2025, 3, 1, 9, 0, tzinfo=HANOI),
        accepted_at=datetime(2025, 3, 2, 9, 0, tzinfo=HANOI),
        organ_id=organ_id,
        extra=extra,
    )


def codes_of(exc: store.RecordsError) -> list[tuple[int | None, str]]:
    return [(p.row, p.code) for p in exc.problems]


# --------------------------------------------------------------------------- schema


def test_migration_creates_the_record_tables_as_modelled(engine: Engine) -> None:
    """0003 creates exactly the tables of repository/catalog/records.py, as the models say."""
    assert set(inspect(engine).get_table_names()) >= RECORD_TABLES
    assert set(Base.metadata.tables) >= RECORD_TABLES
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_in_comparison})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_the_columns_reports_filter_on_are_indexed(engine: Engine) -> None:
    """KPI and deadline reports select dossiers by agency, AIP, access level, creation (end_on)
    and receipt, and documents by dossier and access level: each has an index leading with it."""
    leading = {
        table: {ix["column_names"][0] for ix in inspect(engine).get_indexes(table)}
        for table in ("dossier", "document")
    }
    assert {"aip_id", "agency_id", "mode", "end_on", "received_at"} <= leading["dossier"]
    assert {"dossier_id", "mode"} <= leading["document"]


def test_the_whole_records_api_is_importable_from_records_store() -> None:
    """records_register, records_access, records_import and retention_schedules build on records_core
    only; records_store gives out every public name of the five (callers import from it)."""
    import inspect

    from repository.catalog import (
        records_access,
        records_core,
        records_import,
        records_register,
        retention_schedules,
    )

    for module in (records_core, records_register, records_access, records_import, retention_schedules):
        for name, value in vars(module).items():
            defined_here = (
                inspect.isfunction(value) or inspect.isclass(value)
            ) and value.__module__ == module.__name__
            if not name.startswith("_") and defined_here:
                assert getattr(store, name) is value, name
    for name in store.__all__:
        assert getattr(store, name) is not None, name
    with pytest.raises(AttributeError):
        store.no_such_name  # noqa: B018


# --------------------------------------------------------------------------- text


def test_fold_removes_diacritics_case_d_and_extra_spaces() -> None:
    assert fold("  Hồ sơ   XÂY DỰNG\tđường ") == "ho so xay dung duong"
    assert fold("ĐẢNG") == "dang"
    assert fold(unicodedata.normalize("NFD", "Quyết định")) == "quyet dinh"
    assert fold("Ðiện") == "dien"  # TCVN3-converted texts carry U+00D0 for Đ


def test_first_and_last_day_of_tt05_dates() -> None:
    assert store.first_day("05/03/2001") == date(2001, 3, 5)
    assert store.first_day("12/2001") == date(2001, 12, 1)
    assert store.first_day("2001") == date(2001, 1, 1)
    assert store.first_day("31/02/2001") is None
    assert store.first_day("mùa xuân 2001") is None
    assert store.last_day("05/03/2001") == date(2001, 3, 5)
    assert store.last_day("02/2024") == date(2024, 2, 29)
    assert store.last_day("12/2021") == date(2021, 12, 31)
    assert store.last_day("2021") == date(2021, 12, 31)
    assert store.last_day("13/2021") is None


# --------------------------------------------------------------------------- registering


def test_register_records_fills_typed_columns_and_keeps_every_element(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        fonds = store.add_fonds(s, "AG01", "Phông Ủy ban nhân dân tỉnh An Giang")
        store.add_agency(s, "H49.64.33", "Ủy ban nhân dân tỉnh An Giang", fonds_code=fonds.code)
        dossier = register(s)
        aip_id = dossier.aip_id
    with sessions() as s:
        [d] = store.dossiers_for_aip(s, aip_id)
        assert (d.kind, d.package_type, d.source) == ("hoso", "SIP_hoso", "tt05")
        assert (d.code, d.organ_id, d.year, d.notation) == (DOSSIER_CODE, "H49.64.33", 2001, "160")
        agency = s.scalars(select(SourceAgency)).one()
        assert d.agency_id == agency.id and d.fonds_id == agency.fonds_id is not None
        assert d.title == DOSSIER_TITLE and d.title_search == fold(DOSSIER_TITLE)
        assert (d.start_date, d.start_on) == ("05/03/2001", date(2001, 3, 5))
        assert (d.end_date, d.end_on) == ("12/2001", date(2001, 12, 31))  # the last day of 12/2001
        assert (d.total_doc, d.number_of_page, d.maintenance, d.mode) == (2, 14, "01", "01")
        assert d.digitized is True  # confidenceLevel 02 = số hóa
        assert d.elements["paperFileCode"] == "AG.K1.G2.H3.160"  # untyped elements kept too
        assert d.description_path == "representations/rep1/metadata/descriptive/EAD.xml"
        assert d.accepted_at == datetime(2025, 3, 2, 2, 0, tzinfo=UTC)
        photo, decision = d.documents  # ordered by ordinal: the photo is 2nd, the decision says 3
        assert (decision.ordinal, decision.doc_code, decision.kind) == (3, DOC_DECISION, "doc")
        assert (decision.code_number, decision.code_notation, decision.issued_on) == (
            "125",
            "QĐ-UBND",
            date(2001, 3, 5),
        )
        assert (photo.ordinal, photo.kind, photo.title) == (2, "pic", "Lễ khởi công đường vào trụ sở")
        assert (photo.issued_date, photo.issued_on) == ("2001", date(2001, 1, 1))
        uuids = {f.file_uuid: f.path for f in s.scalars(select(DocumentFile))}
        files = {f.uuid: f.path for f in s.scalars(select(File))}
        assert uuids == files
        assert [f.path for f in decision.files] == [DECISION_FILE]


def test_the_agency_the_operator_names_wins_over_the_code(sessions: sessionmaker[Session]) -> None:
    """``kholuu ingest --agency``: the operator says who sent the package; the code only guesses."""
    with sessions.begin() as s:
        store.add_fonds(s, "AG01", "Phông UBND tỉnh An Giang")
        store.add_fonds(s, "VP01", "Phông Văn phòng UBND tỉnh")
        store.add_agency(s, "H49.64.33", "Ủy ban nhân dân tỉnh An Giang", fonds_code="AG01")
        office = store.add_agency(s, "000.00.00.H01", "Văn phòng UBND tỉnh", fonds_code="VP01")
        office_id, office_fonds = office.id, office.fonds_id
        named = register(s, organ_id=" 000.00.00.H01 ")
        guessed = register(s, make_record_set("H49.64.33.2002.7"))
        assert (named.agency_id, named.fonds_id) == (office_id, office_fonds)
        assert named.organ_id == "H49.64.33"  # what the code says is still kept as received
        assert guessed.agency_id != office_id and guessed.organ_id == "H49.64.33"
        assert store.check_agency(s, "000.00.00.H01").id == office_id


@pytest.mark.parametrize(
    ("organ_id", "problem"),
    [("000.00.09.H01", "records.agency_unknown"), ("so-noi-vu", "records.bad_organ_id")],
)
def test_a_named_agency_that_is_not_registered_stops_before_anything_is_written(
    sessions: sessionmaker[Session], organ_id: str, problem: str
) -> None:
    with sessions.begin() as s:
        store.add_agency(s, "H49.64.33", "Ủy ban nhân dân tỉnh An Giang")  # what the code would guess
    with pytest.raises(store.RecordsError) as exc, sessions() as s:
        store.check_agency(s, organ_id)
    assert (exc.value.code, exc.value.params.get("organ_id", exc.value.params.get("value"))) == (
        problem,
        organ_id,
    )
    with sessions.begin() as s:
        aip_id, uuids = add_aip(s)
        records = make_record_set()
        with pytest.raises(store.RecordsError) as exc:
            store.register_records(
                s,
                aip_id=aip_id,
                records=records,
                file_uuids=uuids,
                description_paths=description_paths(records),
                received_at=datetime.now(UTC),
                accepted_at=None,
                organ_id=organ_id,
            )
        assert exc.value.code == problem
        assert s.scalars(select(Dossier)).all() == [] and s.scalars(select(Document)).all() == []


def test_a_year_or_month_end_date_ends_on_its_last_day(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        year = register(s, make_record_set("H49.64.33.2021.1", end_date="2021"))
        month = register(s, make_record_set("H49.64.33.2021.2", end_date="02/2024"))
        assert (year.start_on, year.end_on) == (date(2001, 3, 5), date(2021, 12, 31))
        assert month.end_on == date(2024, 2, 29)
        photo = next(doc for doc in year.documents if doc.kind == "pic")
        assert (photo.issued_date, photo.issued_on) == ("2001", date(2001, 1, 1))  # documents: first day


def test_elements_outside_the_table_are_kept_under_unknown(sessions: sessionmaker[Session]) -> None:
    records = make_record_set()
    decision_path = records.documents[0].description.path
    extra = {
        records.package.path: {"ghiChu": unicodedata.normalize("NFD", "Hồ sơ gốc ở kho 2")},
        decision_path: {"nguoiKy": "Nguyễn Văn A"},
    }
    with sessions.begin() as s:
        d = register(s, records, extra=extra)
        aip_id = d.aip_id
    with sessions() as s:
        [d] = store.dossiers_for_aip(s, aip_id)
        assert d.elements["_unknown"] == {"ghiChu": "Hồ sơ gốc ở kho 2"}  # NFC
        assert d.elements["fileCode"] == DOSSIER_CODE
        photo, decision = d.documents
        assert decision.elements["_unknown"] == {"nguoiKy": "Nguyễn Văn A"}
        assert "_unknown" not in photo.elements
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        register(s, records, extra={"metadata/descriptive/EAD_doc_9.xml": {"x": "y"}})
    assert exc.value.code == "records.extra_unknown_path"
    assert exc.value.params["path"] == "metadata/descriptive/EAD_doc_9.xml"


def test_a_code_that_does_not_split_is_kept_whole(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        d = register(s, make_record_set("HOSO-KHONG-NAM"))
        assert (d.code, d.organ_id, d.year, d.notation, d.agency_id) == ("HOSO-KHONG-NAM", "", None, "", None)


def test_an_archival_code_is_split_after_the_archive_prefix(sessions: sessionmaker[Session]) -> None:
    """AIP_hoso: arcFileCode = mã cơ quan lưu trữ + mã hồ sơ (TT 05/2025 Phụ lục III)."""
    sip = make_record_set()
    values = {k: v for k, v in sip.package.values.items() if k != "fileCode"}
    package = Description(
        Variant.HOSO_AIP, sip.package.path, {**values, "arcFileCode": f"H49.{DOSSIER_CODE}"}
    )
    records = RecordSet(PackageType.AIP_HOSO, package, sip.documents)
    with sessions.begin() as s:
        aip_id, uuids = add_aip(s)
        d = store.register_records(
            s,
            aip_id=aip_id,
            records=records,
            file_uuids=uuids,
            description_paths=description_paths(records),
            received_at=datetime.now(UTC),
            accepted_at=None,
            archive_id="H49",
        )
        assert (d.code, d.archive_id, d.organ_id, d.year, d.notation) == (
            f"H49.{DOSSIER_CODE}",
            "H49",
            "H49.64.33",
            2001,
            "160",
        )
    sip = make_record_set("H49.64.33.2004.2")
    with sessions.begin() as s:  # a fileCode is never cut, even when it starts like the archive's code
        aip_id, uuids = add_aip(s)
        d = store.register_records(
            s,
            aip_id=aip_id,
            records=sip,
            file_uuids=uuids,
            description_paths=description_paths(sip),
            received_at=datetime.now(UTC),
            accepted_at=None,
            archive_id="H49",
        )
        assert (d.organ_id, d.year, d.notation) == ("H49.64.33", 2004, "2")


def test_a_data_file_without_uuid_is_a_caller_bug(sessions: sessionmaker[Session]) -> None:
    records = make_record_set()
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        aip_id, uuids = add_aip(s)
        del uuids[("rep1", PHOTO_FILE)]
        store.register_records(
            s,
            aip_id=aip_id,
            records=records,
            file_uuids=uuids,
            description_paths=description_paths(records),
            received_at=datetime.now(UTC),
            accepted_at=None,
        )
    assert exc.value.code == "records.file_unknown"
    assert exc.value.params["file"] == PHOTO_FILE
    with sessions() as s:
        assert s.scalars(select(Dossier)).all() == []


def test_a_value_too_long_for_its_column_is_named(sessions: sessionmaker[Session]) -> None:
    records = make_record_set()
    bad = Description(
        records.package.variant, records.package.path, {**records.package.values, "mode": "Mật"}
    )
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        register(s, RecordSet(records.package_type, bad, records.documents))
    assert exc.value.code == "records.value_too_long"
    assert exc.value.params["element"] == "mode"


def test_the_same_dossier_of_the_same_aip_is_not_registered_twice(sessions: sessionmaker[Session]) -> None:
    records = make_record_set()
    with sessions.begin() as s:
        d = register(s, records)
        aip_id = d.aip_id
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        uuids = {
            ("rep1", f.path or ""): f.uuid or "" for f in s.scalars(select(File).where(File.aip_id == aip_id))
        }
        store.register_records(
            s,
            aip_id=aip_id,
            records=records,
            file_uuids=uuids,
            description_paths=description_paths(records),
            received_at=datetime.now(UTC),
            accepted_at=None,
        )
    assert exc.value.code == "records.already_registered"


def test_a_code_held_by_several_aips_is_chosen_by_aip(sessions: sessionmaker[Session]) -> None:
    """A package resubmitted after a rejection (or re-ingested) puts the same codes in a new AIP."""
    with sessions.begin() as s:
        first, second = register(s), register(s)
        aips = sorted([first.aip_id, second.aip_id])
        second_id = second.id
        second_doc = next(doc.id for doc in second.documents if doc.doc_code == DOC_DECISION)
    with sessions() as s:
        finders: list[Callable[[], object]] = [
            lambda: store.find_dossier(s, DOSSIER_CODE),
            lambda: store.resolve_target(s, document_code=DOC_DECISION),
        ]
        for find in finders:
            with pytest.raises(store.RecordsError) as exc:
                find()
            assert exc.value.code == "records.ambiguous_code"
            assert exc.value.params["aips"] == aips
            assert "--aip" in str(exc.value) and all(a in str(exc.value) for a in aips)
        assert store.find_dossier(s, DOSSIER_CODE, aip_id=aips[0]).aip_id == aips[0]
        chosen = store.resolve_target(s, dossier_code=DOSSIER_CODE, aip_id=second.aip_id)
        assert chosen.id == second_id
        doc = store.resolve_target(s, document_code=DOC_DECISION, aip_id=second.aip_id)
        assert doc.id == second_doc
        aip_id, _ = add_aip(s)
        with pytest.raises(store.RecordNotFoundError) as missing:
            store.find_document(s, DOC_DECISION, aip_id=aip_id)
        assert (missing.value.code, missing.value.params) == (
            "records.document_not_in_aip",
            {"code": DOC_DECISION, "aip_id": aip_id},
        )
        s.rollback()


# --------------------------------------------------------------------------- search


def test_search_ignores_diacritics_case_and_normalisation(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        register(s)
        register(s, make_record_set("H49.64.33.2002.7", title="Hồ sơ hội nghị tổng kết năm 2002"))
    with sessions() as s:

        def titles(text: str, **kw: bool) -> list[str]:
            return [r.title for r in store.search_records(s, text, **kw)]

        assert titles("ho so xay dung") == [DOSSIER_TITLE]
        assert titles("HỒ SƠ XÂY DỰNG") == [DOSSIER_TITLE]
        assert titles(unicodedata.normalize("NFD", "xây dựng trụ sở")) == [
            DOSSIER_TITLE,
            "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở",
            "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở",
        ]
        assert titles("duong vao") == ["Lễ khởi công đường vào trụ sở"] * 2  # đ → d
        assert titles("H49.64.33.2002") == [  # by code too
            "Hồ sơ hội nghị tổng kết năm 2002",
            "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở",
        ]
        assert titles("ho so") == [DOSSIER_TITLE, "Hồ sơ hội nghị tổng kết năm 2002"]
        assert titles("ho so", ignore_diacritics=False) == []  # --exact: marks must match
        assert titles("hồ sơ xây", ignore_diacritics=False) == [DOSSIER_TITLE]
        assert titles("%") == [] and titles("_") == []  # LIKE wildcards are literal
        assert len(store.search_records(s, "tru so", limit=2)) == 2


def test_public_search_leaves_out_restricted_and_classified_records(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        open_dossier = register(s)
        secret = register(s, make_record_set("H49.64.33.2003.9", doc_mode="03", title="Hồ sơ xây dựng kho"))
        store.restrict(
            s,
            dossier_id=open_dossier.id,
            decision_number="12/QĐ-LTLS",
            decision_date=date(2025, 1, 10),
            reason="Tài liệu đang chỉnh lý",
            by="lưu trữ viên",
        )
        secret_code = secret.code
    with sessions() as s:
        public = store.search_records(s, "xay dung", visible=PUBLIC)
        # the restricted dossier and its documents are gone; the classified decision too
        assert [(type(r).__name__, r.title) for r in public] == [("Dossier", "Hồ sơ xây dựng kho")]
        assert {r.title for r in store.search_records(s, "xay dung")} >= {DOSSIER_TITLE}
        assert store.find_dossier(s, secret_code).id == secret.id


# --------------------------------------------------------------------------- restrictions and giải mật


def test_restriction_list_as_of_a_date_and_after_lifting(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        d = register(s)
        dossier_id, document_id = d.id, d.documents[0].id
        r1 = store.restrict(
            s,
            dossier_id=dossier_id,
            decision_number="12/QĐ-LTLS",
            decision_date=date(2025, 1, 10),
            reason="Tài liệu hư hỏng nặng",
            review_date=date(2025, 6, 1),
            by="lưu trữ viên",
        )
        r2 = store.restrict(
            s,
            document_id=document_id,
            decision_number="15/QĐ-LTLS",
            decision_date=date(2025, 2, 1),
            reason="Thông tin cá nhân",
            by="lưu trữ viên",
        )
        ids = (r1.id, r2.id)
    with sessions() as s:
        assert store.active_restrictions(s, on=date(2025, 1, 9)) == []
        assert [r.id for r in store.active_restrictions(s, on=date(2025, 1, 10))] == [ids[0]]
        assert [r.id for r in store.active_restrictions(s, on=date(2025, 2, 1))] == list(ids)
        assert [r.id for r in store.restrictions_due_for_review(s, date(2025, 6, 1))] == [ids[0]]
        assert store.restrictions_due_for_review(s, date(2025, 5, 31)) == []
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.restrict(
            s,
            dossier_id=dossier_id,
            decision_number="13",
            decision_date=date(2025, 1, 11),
            reason="x",
            by="a",
        )
    assert exc.value.code == "records.already_restricted"
    lifted_at = datetime(2025, 3, 10, 8, 0, tzinfo=HANOI)  # 01:00 UTC, still 10/3 in Việt Nam
    with sessions.begin() as s:
        store.lift_restriction(s, ids[0], decision_number="30/QĐ-LTLS", by="trưởng phòng", at=lifted_at)
    with sessions() as s:
        assert [r.id for r in store.active_restrictions(s, on=date(2025, 3, 9))] == list(ids)
        assert [r.id for r in store.active_restrictions(s, on=date(2025, 3, 10))] == [ids[1]]
        assert [r.id for r in store.active_restrictions(s)] == [ids[1]]
        assert store.restrictions_due_for_review(s, date(2025, 7, 1)) == []
        entry = store.active_restrictions(s, on=date(2025, 2, 1))[0]  # lifted, never deleted
        assert (entry.lifted_decision, entry.lifted_by, entry.lifted_at) == (
            "30/QĐ-LTLS",
            "trưởng phòng",
            lifted_at,
        )
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.lift_restriction(s, ids[0], decision_number="31", by="a", at=datetime.now(UTC))
    assert exc.value.code == "records.already_lifted"
    with pytest.raises(store.RecordNotFoundError), sessions.begin() as s:
        store.lift_restriction(s, 9999, decision_number="31", by="a", at=datetime.now(UTC))


def test_declassification_changes_the_mode_and_records_the_event(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        d = register(s, make_record_set(doc_mode="03"))
        code = d.documents[0].doc_code
    with sessions() as s:
        assert store.search_records(s, "quyet dinh phe duyet", visible=PUBLIC) == []
    with sessions.begin() as s:
        doc = store.find_document(s, code)
        [change] = store.change_access(
            s,
            document_id=doc.id,
            to_mode="01",
            decision_number="40/QĐ-GM",
            decision_date=date(2025, 4, 1),
            reason="Hết thời hạn bảo vệ bí mật",
            by="hội đồng giải mật",
        )
        assert (change.from_mode, change.to_mode) == ("03", "01")
    with sessions() as s:
        doc = store.find_document(s, code)
        assert doc.mode == "01" and doc.elements["mode"] == "01"
        [event] = s.scalars(select(AccessChange)).all()
        assert (event.document_id, event.decision_number, event.recorded_by) == (
            doc.id,
            "40/QĐ-GM",
            "hội đồng giải mật",
        )
        assert [r.title for r in store.search_records(s, "quyet dinh phe duyet", visible=PUBLIC)] == [
            doc.title
        ]
    for to_mode, problem in (("09", "records.bad_mode"), ("01", "records.mode_unchanged")):
        with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
            store.change_access(
                s,
                document_id=doc.id,
                to_mode=to_mode,
                decision_number="41",
                decision_date=date(2025, 4, 2),
                reason="x",
                by="a",
            )
        assert exc.value.code == problem
    with pytest.raises(store.RecordsError) as exc, sessions() as s:
        store.resolve_target(s, dossier_code=DOSSIER_CODE, document_code=code)
    assert exc.value.code == "records.one_target"
    with pytest.raises(store.RecordNotFoundError) as exc, sessions() as s:
        store.find_dossier(s, "KHONG.CO.2000.1")
    assert exc.value.code == "records.dossier_not_found"


def test_the_dated_list_follows_the_lifting_decisions_date(sessions: sessionmaker[Session]) -> None:
    """A decision of 10/3 entered on 15/3 lifted the restriction on 10/3, not on 15/3."""
    with sessions.begin() as s:
        d = register(s)
        restriction_id = store.restrict(
            s,
            dossier_id=d.id,
            decision_number="12/QĐ-LTLS",
            decision_date=date(2025, 1, 10),
            reason="Tài liệu đang chỉnh lý",
            by="lưu trữ viên",
        ).id
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.lift_restriction(
            s,
            restriction_id,
            decision_number="1/QĐ",
            decision_date=date(2025, 1, 9),
            by="a",
            at=datetime.now(UTC),
        )
    assert exc.value.code == "records.bad_lift_date"
    entered = datetime(2025, 3, 15, 9, 0, tzinfo=HANOI)
    with sessions.begin() as s:
        lifted = store.lift_restriction(
            s,
            restriction_id,
            decision_number="30/QĐ-LTLS",
            decision_date=date(2025, 3, 10),
            by="trưởng phòng",
            at=entered,
        )
        assert (lifted.lifted_on, lifted.lifted_at) == (date(2025, 3, 10), entered)
    with sessions() as s:
        assert [r.id for r in store.active_restrictions(s, on=date(2025, 3, 9))] == [restriction_id]
        assert store.active_restrictions(s, on=date(2025, 3, 10)) == []
        assert store.active_restrictions(s, on=date(2025, 3, 14)) == []
        assert store.active_restrictions(s) == []
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.lift_restriction(s, restriction_id, decision_number="31", by="a", at=datetime.now(UTC))
    assert exc.value.code == "records.already_lifted" and exc.value.params["at"] == "2025-03-10"


def decide(
    session: Session,
    *,
    to_mode: str,
    dossier_id: int | None = None,
    document_id: int | None = None,
    cascade: bool = False,
) -> list[AccessChange]:
    """The giải mật decision 40/QĐ-GM of 01/4/2025, applied to one record."""
    return store.change_access(
        session,
        dossier_id=dossier_id,
        document_id=document_id,
        to_mode=to_mode,
        decision_number="40/QĐ-GM",
        decision_date=date(2025, 4, 1),
        reason="Hết thời hạn bảo vệ bí mật",
        by="hội đồng giải mật",
        cascade=cascade,
    )


def test_declassifying_a_dossier_can_take_its_stricter_documents_along(
    sessions: sessionmaker[Session],
) -> None:
    """Giải mật of a hồ sơ (03 → 01): without ``cascade`` its secret decision stays 03 and is
    reported; with it, the decision follows with its own event; the open photo is not touched."""
    with sessions.begin() as s:
        kept = register(s, make_record_set(dossier_mode="03", doc_mode="03"))
        taken = register(s, make_record_set("H49.64.33.2003.9", dossier_mode="03", doc_mode="03"))
        kept_id, taken_id = kept.id, taken.id
        [own] = decide(s, dossier_id=kept_id, to_mode="01")
        assert (own.dossier_id, own.from_mode, own.to_mode) == (kept_id, "03", "01")
        assert [d.doc_code for d in store.stricter_documents(s, kept_id, "01")] == [DOC_DECISION]
        changes = decide(s, dossier_id=taken_id, to_mode="01", cascade=True)
        assert [(c.dossier_id, c.from_mode) for c in changes] == [(taken_id, "03"), (None, "03")]
        assert store.stricter_documents(s, taken_id, "01") == []
    with sessions() as s:
        photo, secret = s.get(Dossier, taken_id).documents  # type: ignore[union-attr]
        assert (secret.mode, secret.elements["mode"], photo.mode) == ("01", "01", "01")
        events = s.scalars(select(AccessChange).where(AccessChange.document_id.is_not(None))).all()
        assert [(e.document_id, e.decision_number) for e in events] == [(secret.id, "40/QĐ-GM")]
        assert [r.title for r in store.search_records(s, "quyet dinh phe duyet", visible=PUBLIC)] == [
            secret.title
        ]
    with sessions.begin() as s:  # the dossier is already 01: a later cascade brings its documents
        [late] = decide(s, dossier_id=kept_id, to_mode="01", cascade=True)
        assert (late.dossier_id, late.document_id is not None, late.from_mode) == (None, True, "03")
    for dossier_id, document_id, to_mode, problem in (
        (kept_id, None, "03", "records.cascade_stricter"),
        (None, late.document_id, "01", "records.cascade_needs_dossier"),
        (kept_id, None, "01", "records.mode_unchanged"),
    ):
        with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
            decide(s, dossier_id=dossier_id, document_id=document_id, to_mode=to_mode, cascade=True)
        assert exc.value.code == problem


def test_a_partial_opening_moves_only_the_stricter_documents(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        d = register(s, make_record_set(dossier_mode="03", doc_mode="03"))
        changes = store.change_access(
            s,
            dossier_id=d.id,
            to_mode="02",
            decision_number="41/QĐ-GM",
            decision_date=date(2025, 4, 2),
            reason="Giải mật một phần",
            by="hội đồng",
            cascade=True,
        )
        secret, photo = (next(x for x in d.documents if x.kind == kind) for kind in ("doc", "pic"))
        assert [(c.from_mode, c.to_mode) for c in changes] == [("03", "02"), ("03", "02")]
        assert (d.mode, secret.mode, photo.mode) == ("02", "02", "01")


# --------------------------------------------------------------------------- agencies and declared totals


@pytest.mark.parametrize("bad", ["h49.64.33", "H49-64-33", "000.00.00.G09.1", "G09", "000.00.00.G0099"])
def test_agency_identifier_shape_is_checked(sessions: sessionmaker[Session], bad: str) -> None:
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.add_agency(s, bad, "Sở Nội vụ")
    assert exc.value.code == "records.bad_organ_id"
    assert exc.value.params["value"] == bad


def test_agencies_and_duplicates(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for organ_id in ("000.00.00.G09", "H49.64.33", "000.00.12.H01"):
            store.add_agency(s, organ_id, f"Cơ quan {organ_id}")
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.add_agency(s, "H49.64.33", "Trùng")
    assert exc.value.code == "records.agency_exists"
    with sessions() as s:
        assert [a.organ_id for a in store.list_agencies(s)] == ["000.00.00.G09", "000.00.12.H01", "H49.64.33"]
        assert store.find_agency(s, "H49.64.33").name_search == "co quan h49.64.33"


def test_agency_csv_with_one_bad_row_imports_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions.begin() as s:
        store.add_fonds(s, "AG01", "Phông UBND tỉnh")
    header = "organ_id,name,fonds_code,active_from,active_to,in_scope\n"
    bad = tmp_path / "nguon-nop-luu.csv"
    bad.write_text(
        header
        + "000.00.00.H01,Văn phòng UBND tỉnh,AG01,2020-01-01,,1\n"
        + "SONOIVU,Sở Nội vụ,,,,1\n"  # line 3: not a mã định danh
        + "000.00.02.H01,Sở Tài chính,KHONG,01/13/2020,,có\n"  # line 4: unknown fonds, bad date
        + "000.00.00.H01,Trùng,,,,\n",  # line 5: duplicate of line 2
        encoding="utf-8-sig",
    )
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.import_agencies_csv(s, bad)
    assert exc.value.code == "records.file_invalid"
    assert codes_of(exc.value) == [
        (3, "records.bad_organ_id"),
        (4, "records.bad_date"),
        (4, "records.unknown_fonds"),
        (5, "records.duplicate_row"),
    ]
    with sessions() as s:
        assert store.list_agencies(s) == []
    good = tmp_path / "good.csv"
    good.write_text(
        header + "000.00.00.H01,Văn phòng UBND tỉnh,AG01,2020-01-01,,1\n"
        "000.00.02.H01,Sở Tài chính,,01/02/2020,31/12/2024,không\n\n",
        encoding="utf-8",
    )
    with sessions.begin() as s:
        assert store.import_agencies_csv(s, good) == 2
    with sessions() as s:
        first, second = store.list_agencies(s)
        assert first.fonds is not None and first.fonds.code == "AG01"
        assert (second.active_from, second.active_to, second.in_scope) == (
            date(2020, 2, 1),
            date(2024, 12, 31),
            False,
        )
    wrong_columns = tmp_path / "cols.csv"
    wrong_columns.write_text("organ_id,ten\n000.00.00.H02,x\n", encoding="utf-8")
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.import_agencies_csv(s, wrong_columns)
    assert exc.value.code == "records.csv_columns"
    assert exc.value.params["missing"] == ["name"] and exc.value.params["unknown"] == ["ten"]


def test_declared_totals_upsert_and_all_or_nothing_import(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    assert {
        "records_created",
        "records_created_electronic",
        "permanent_e_records_created",
        "online_access",
        "high_use_paper_items",
        "high_use_paper_digitized",
    } <= set(store.DECLARED_METRICS)
    with sessions.begin() as s:
        store.add_agency(s, "000.00.00.H01", "Văn phòng UBND tỉnh")
        store.set_declared_total(
            s,
            organ_id="000.00.00.H01",
            year=2024,
            metric="records_created",
            value=1200,
            source="entered by a",
        )
        store.set_declared_total(
            s,
            organ_id="000.00.00.H01",
            year=2024,
            metric="records_created",
            value=1250,
            source="entered by b",
        )
    with sessions() as s:
        [row] = s.scalars(select(DeclaredTotal)).all()
        assert (row.value, row.source) == (1250, "entered by b")
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.set_declared_total(
            s, organ_id="000.00.00.H01", year=2024, metric="online_access", value=2, source="x"
        )
    assert exc.value.code == "records.bad_metric_value"
    bad = tmp_path / "so-lieu.csv"
    bad.write_text(
        "organ_id,year,metric,value\n"
        "000.00.00.H01,2024,records_created_electronic,900\n"
        "000.00.00.H01,2024,so_luong,5\n"  # line 3: unknown metric
        "000.00.09.H01,hai nghìn,online_access,1\n",  # line 4: unknown agency, bad year
        encoding="utf-8",
    )
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.import_declared_totals_csv(s, bad)
    assert codes_of(exc.value) == [
        (3, "records.unknown_metric"),
        (4, "records.unknown_agency"),
        (4, "records.bad_year"),
    ]
    with sessions() as s:
        assert len(s.scalars(select(DeclaredTotal)).all()) == 1
    good = tmp_path / "good.csv"
    good.write_text(
        "organ_id,year,metric,value\n000.00.00.H01,2024,records_created_electronic,900\n"
        "000.00.00.H01,2024,records_created,1300\n",
        encoding="utf-8",
    )
    with sessions.begin() as s:
        assert store.import_declared_totals_csv(s, good) == 2
    with sessions() as s:
        values = {(d.metric, d.value, d.source) for d in store.list_declared_totals(s, year=2024)}
        assert values == {
            ("records_created", 1300, "imported from good.csv"),
            ("records_created_electronic", 900, "imported from good.csv"),
        }


# --------------------------------------------------------------------------- retention schedules


def test_retention_schedule_loads_from_data_and_reloads_in_place(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as s:
        schedule = store.load_retention_schedule(s, EXAMPLE_SCHEDULE)
        assert schedule.code == "VI-DU-CHUNG" and "VÍ DỤ" in schedule.name
    with sessions() as s:
        items = {i.item_code: (i.maintenance, i.years) for i in s.scalars(select(RetentionItem))}
        assert items["VD-1.1"] == ("01", None)  # permanent: no number of years
        assert items["VD-3.1"] == ("05", 20)  # implied by the code
        assert items["VD-5.1"] == ("07", 5)
    smaller = tmp_path / "v2.toml"
    smaller.write_text(
        '[schedule]\ncode = "VI-DU-CHUNG"\nname = "Bản sửa"\nlegal_basis = "VÍ DỤ"\n'
        "valid_from = 2026-01-01\n\n"
        '[[items]]\nitem_code = "VD-1.1"\ntitle = "Quy chế làm việc"\nmaintenance = "01"\n',
        encoding="utf-8",
    )
    with sessions.begin() as s:
        store.load_retention_schedule(s, smaller)
    with sessions() as s:
        [schedule] = s.scalars(select(RetentionSchedule)).all()
        assert (schedule.name, schedule.valid_from, len(schedule.items)) == ("Bản sửa", date(2026, 1, 1), 1)
        assert schedule.items[0].title == "Quy chế làm việc"


def test_a_bad_retention_file_names_every_key_and_loads_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[schedule]\ncode = "X"\nname = "X"\nlegal_basis = "X"\nvalid_form = 2026-01-01\n\n'
        '[[items]]\nitem_code = "1"\ntitle = "a"\nmaintenance = "01"\nyears = 10\n\n'
        '[[items]]\nitem_code = "2"\ntitle = "b"\nmaintenance = "09"\n\n'
        '[[items]]\nitem_code = "3"\ntitle = "c"\nmaintenance = "04"\nyears = 20\n\n'
        '[[items]]\nitem_code = "1"\ntitle = "d"\nmaintenance = "07"\nyears = 3\n',
        encoding="utf-8",
    )
    with pytest.raises(store.RecordsError) as exc, sessions.begin() as s:
        store.load_retention_schedule(s, bad)
    assert exc.value.code == "records.file_invalid"
    assert [(p.key, p.code) for p in exc.value.problems] == [
        ("schedule.valid_form", "records.toml_unknown_key"),
        ("items[0].years", "records.retention_permanent_years"),
        ("items[1].maintenance", "records.toml_bad_code"),
        ("items[2].years", "records.retention_years_mismatch"),
        ("items[3].item_code", "records.retention_duplicate_item"),
    ]
    with sessions() as s:
        assert s.scalars(select(RetentionSchedule)).all() == []


def test_documents_cascade_with_their_dossier(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        d = register(s)
        aip_id = d.aip_id
    with sessions.begin() as s:
        s.delete(s.get(Aip, aip_id))
    with sessions() as s:
        assert s.scalars(select(Document)).all() == [] and s.scalars(select(DocumentFile)).all() == []
