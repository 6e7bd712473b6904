"""``kholuu export`` as the workflow, on both catalogs: what leaves the archive is what it holds.

One TT 05 SIP_hoso with four tài liệu (Vietnamese names and titles) is ingested: 01 Công khai, 02
Sử dụng có điều kiện, 03 Mật, and 01 under an active restriction. The AIP export must be a valid
AIP_hoso whose every file matches the catalog; the DIP must hold only what the requester may see
(and say nothing of the rest); the bag must pass bagit-python; damage in storage must stop an
export with nothing left under the target name. A transfer package (tt05-aip, bagit) names its
recipient, and leaves with Mật or restricted records only under a decision, both recorded.
"""

from __future__ import annotations

import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import bagit
import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation import xsd
from preservation.aip import folder_name
from preservation.csip import validate_package
from preservation.findings import Severity
from preservation.fixity import digest_file
from preservation.tt05.ead import parse_description, validate_xsd
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import Description, DocumentKind, DocumentRecord, RecordSet, doc_code
from preservation.tt05.sip import build_sip
from preservation.tt05.tables import Tables, Variant, load_tables
from repository.catalog import store
from repository.catalog.db import make_engine, session_factory
from repository.catalog.models import Aip, File, JobStatus
from repository.catalog.records import Document, Dossier
from repository.catalog.records_store import restrict
from repository.settings import Settings, load_settings
from repository.storage.locations import open_locations
from tests.conftest import HeadSchema
from tests.data_folder import DataFolders, data_folders
from tests.tt05 import FILE_CODE, TITLE, build_sample_sip, dossier_records, valid_values
from tests.workflows.conftest import Ingest
from workflows.access.export import AccessRequest, ErrorKind, ExportError, ExportFormat, export_aip
from workflows.ingest.pipeline import IngestOptions, ingest

METS = {"mets": "http://www.loc.gov/METS/", "csip": "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"}
DIP_PROFILE = "https://earkdip.dilcis.eu/profile/E-ARK-DIP.xml"
XLINK = "http://www.w3.org/1999/xlink"

OPEN_PDF = "Quyết định số 12-QĐ-UBND.pdf"
CONDITIONAL_TXT = unicodedata.normalize("NFD", "Tờ trình số 05.txt")  # NFD stays NFD everywhere
SECRET_TXT = "Báo cáo mật số 3.txt"
RESTRICTED_TXT = "Công văn số 7.txt"
#: data file → (mức độ tiếp cận, trích yếu, bytes), in document order (ordinal 1..4)
DOCUMENTS = {
    OPEN_PDF: ("01", "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở", b"%PDF-1.4\n% Quyet dinh\n%%EOF\n"),
    CONDITIONAL_TXT: ("02", "Tờ trình về việc bố trí vốn xây dựng", "Tờ trình số 05\n".encode()),
    SECRET_TXT: ("03", "Báo cáo về công tác bảo vệ bí mật nhà nước", "Báo cáo mật\n".encode()),
    RESTRICTED_TXT: ("01", "Công văn về việc giải phóng mặt bằng đường Hà Hoàng Hổ", "Công văn\n".encode()),
}
DECISION = "15/QĐ-LTLS"
APPROVAL = "27/QĐ-TTLT"
RECIPIENT = "Trung tâm Lưu trữ quốc gia III"
TRANSFER = "42/QĐ-VTLTNN"  # the decision authorising the transfer of the restricted records


@dataclass(frozen=True)
class Stored:
    settings: Settings
    sessions: sessionmaker[Session]
    aip_id: str
    source: Path  # the SIP as built


def documents_sip(parent: Path, tables: Tables) -> Path:
    """The TT 05 SIP of the hồ sơ whose four tài liệu are :data:`DOCUMENTS`, built under ``parent``."""
    return build_sample_sip(
        parent,
        tables,
        data={name: content for name, (_, _, content) in DOCUMENTS.items()},
        documents={
            i: {"mode": mode, "subject": subject} for i, (mode, subject, _) in enumerate(DOCUMENTS.values())
        },
    )


def build_and_ingest(run_ingest: Ingest, tmp_path: Path, tables: Tables) -> tuple[str, Path]:
    sip = documents_sip(tmp_path, tables)
    result = run_ingest(sip)
    assert result.status is JobStatus.COMPLETED, result.error and result.error.records
    assert result.aip_id is not None
    return result.aip_id, sip


def restrict_document(sessions: sessionmaker[Session], aip_id: str, ordinal: int) -> None:
    with sessions.begin() as s:
        doc = s.scalars(
            select(Document).join(Dossier).where(Dossier.aip_id == aip_id, Document.ordinal == ordinal)
        ).one()
        restrict(
            s,
            document_id=doc.id,
            decision_number=DECISION,
            decision_date=date(2025, 3, 1),
            reason="Tài liệu đang được chỉnh lý",
            by="Lê Văn Tâm",
        )


@pytest.fixture(scope="module")
def tables() -> Tables:
    return load_tables()


@pytest.fixture(scope="session")
def ingested_dossier(
    tmp_path_factory: pytest.TempPathFactory, head_schema: HeadSchema
) -> Iterator[DataFolders[tuple[str, Path]]]:
    """The four-document dossier ingested (document 4 restricted) once per session and backend."""

    def build(home: Path, database_url: str) -> tuple[str, Path]:
        settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
        engine = make_engine(database_url)
        try:
            head_schema.install(engine)
            sessions = session_factory(engine)
            open_locations(settings, initialize=True)
            options = IngestOptions()
            aip_id, sip = build_and_ingest(
                lambda path: ingest(settings, sessions, path, options=options), home.parent, load_tables()
            )
            restrict_document(sessions, aip_id, 4)
        finally:
            engine.dispose()
        return aip_id, sip

    yield from data_folders(tmp_path_factory, head_schema, "export-dossier", build)


@pytest.fixture
def stored(
    ingested_dossier: DataFolders[tuple[str, Path]], database_url: str, tmp_path: Path
) -> Iterator[Stored]:
    """A copy of the ingested dossier's data folder and catalog, this test's own to change."""
    copy = ingested_dossier.copy(database_url, tmp_path / "home")
    settings = load_settings(copy.home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    yield Stored(settings, session_factory(engine), *copy.value)
    engine.dispose()


def unzip(archive: Path, into: Path) -> Path:
    """Extract and return the one folder at the top of the ZIP."""
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
        zf.extractall(into)
    (top,) = tops
    return into / top


def catalog_files(sessions: sessionmaker[Session], aip_id: str) -> dict[str, str]:
    with sessions() as s:
        aip = s.get(Aip, aip_id)
        assert aip is not None
        rows = s.scalars(select(File).where(File.aip_id == aip_id, File.version == aip.current_version))
        return {f.aip_path: f.sha256 for f in rows}


def no_leftovers(out: Path, settings: Settings) -> None:
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.*")), "a temporary ZIP was left behind"
    assert not list(settings.work_dir.glob("export-*")), "a staging folder was left behind"


def events(sessions: sessionmaker[Session], aip_id: str) -> list[str]:
    with sessions() as s:
        return [
            f"{e.type}|{e.outcome_detail}"
            for e in store.events_for_aip(s, aip_id)
            if e.type == "dissemination"
        ]


def request(**changes: str) -> AccessRequest:
    values = {
        "request_id": "YC-2025-0042",
        "request_date": "2025-03-20",
        "purpose": "Công vụ",
        "purpose_content": "Nghiên cứu lịch sử xây dựng trụ sở Ủy ban nhân dân tỉnh",
        "fee_object": "07",
        "topic": "Lịch sử hành chính tỉnh An Giang",
        "note": "Người yêu cầu: Nguyễn Thị Hồng Nhung",
    }
    values.update(changes)
    return AccessRequest(**values)


# ------------------------------------------------------------------------------------------ tests


def test_tt05_aip_is_the_stored_package_verified(stored: Stored, tmp_path: Path, tables: Tables) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    out = tmp_path / "xuất" / "hồ sơ.zip"
    result = export_aip(
        settings, sessions, aip_id, out, fmt=ExportFormat.TT05_AIP, recipient=RECIPIENT, decision=TRANSFER
    )
    assert out.is_file() and result.path == out
    assert not list(out.parent.glob(".*.part"))

    folder = unzip(out, tmp_path / "unzipped")
    with sessions() as s:
        aip = s.get(Aip, aip_id)
        assert aip is not None
        assert folder.name == folder_name(aip.objid) == result.package
    errors = [f for f in validate_package(folder, expected_type="AIP") if f.severity is Severity.ERROR]
    assert errors == []
    assert validate_xsd(folder / "metadata/descriptive/EAD.xml", Variant.HOSO_AIP) == []
    docs = sorted((folder / "representations/rep1/metadata/descriptive").glob("EAD_doc_*.xml"))
    assert len(docs) == len(DOCUMENTS)
    for doc in docs:
        assert validate_xsd(doc, Variant.DOC_AIP) == [], doc
        assert check_description(parse_description(doc, Variant.DOC_AIP, doc.name), tables) == []

    expected = catalog_files(sessions, aip_id)
    found = {
        p.relative_to(folder).as_posix(): digest_file(p).sha256 for p in folder.rglob("*") if p.is_file()
    }
    assert found == expected  # every file, byte for byte, nothing more
    assert result.files == len(expected)
    data = folder / "representations/rep1/data"
    assert (data / CONDITIONAL_TXT).read_bytes() == DOCUMENTS[CONDITIONAL_TXT][2]  # the NFD name, kept
    assert any(e.startswith("dissemination|") and str(out) in e for e in events(sessions, aip_id))


def test_dip_holds_only_what_the_requester_may_see(stored: Stored, tmp_path: Path, tables: Tables) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    out = tmp_path / "dip.zip"
    result = export_aip(settings, sessions, aip_id, out, fmt=ExportFormat.TT05_DIP, request=request())
    folder = unzip(out, tmp_path / "dip")
    assert folder.name == result.dip_id and folder.name.startswith("uuid-")

    # withheld: 02 without approval, 03, 01 under restriction — each with its reason, none in the DIP
    reasons = {w.ordinal: w.reason for w in result.withheld}
    assert reasons == {
        2: "export.withheld_conditional",
        3: "export.withheld_secret",
        4: "export.withheld_restricted",
    }
    restricted = next(w for w in result.withheld if w.ordinal == 4)
    assert restricted.params["decision"] == DECISION
    assert result.released == (doc_code(FILE_CODE, 1),)

    mets = etree.parse(str(folder / "METS.xml")).getroot()
    assert mets.get("PROFILE") == DIP_PROFILE
    header = mets.find("mets:metsHdr", METS)
    assert header is not None and header.get(f"{{{METS['csip']}}}OAISPACKAGETYPE") == "DIP"
    for m in [folder / "METS.xml", *folder.glob("representations/*/METS.xml")]:
        assert xsd.validate(m, "mets") == [], m
    assert xsd.validate(folder / "metadata/preservation/PREMIS.xml", "premis") == []
    errors = [f for f in validate_package(folder, expected_type="DIP") if f.severity is Severity.ERROR]
    assert errors == []

    ead = folder / "metadata/descriptive/EAD.xml"
    assert validate_xsd(ead, Variant.DIP_REQUEST) == []
    parsed = parse_description(ead, Variant.DIP_REQUEST, "EAD.xml")
    assert check_description(parsed, tables) == []
    assert parsed.description.values == {
        "requestID": "YC-2025-0042",
        "requestDate": "20/03/2025",
        "purpose": "02",
        "purposeContent": "Nghiên cứu lịch sử xây dựng trụ sở Ủy ban nhân dân tỉnh",
        "feeObjectType": "07",
        "researchTopic": "Lịch sử hành chính tỉnh An Giang",
        "description": "Người yêu cầu: Nguyễn Thị Hồng Nhung",
    }
    (doc,) = (folder / "representations/rep1/metadata/descriptive").glob("EAD_doc_*.xml")
    assert validate_xsd(doc, Variant.DOC_DIP) == []
    parsed_doc = parse_description(doc, Variant.DOC_DIP, doc.name)
    assert check_description(parsed_doc, tables) == [] and parsed_doc.unknown == ()
    values = parsed_doc.description.values
    assert values["arcDocCode"].endswith(doc_code(FILE_CODE, 1)) and values["mode"] == "01"
    assert values["subject"] == DOCUMENTS[OPEN_PDF][1]
    assert "organName" not in values and "docCode" not in values  # Phụ lục V
    data = sorted(p.name for p in (folder / "representations/rep1/data").iterdir())
    assert data == [OPEN_PDF]
    assert (folder / "representations/rep1/data" / OPEN_PDF).read_bytes() == DOCUMENTS[OPEN_PDF][2]
    assert (folder / "schemas/EAD.xsd").is_file() and (folder / "schemas/EAD_doc.xsd").is_file()

    # nothing in the DIP names or describes a withheld document
    text = "\n".join(p.read_text("utf-8") for p in folder.rglob("*.xml"))
    for ordinal in (2, 3, 4):
        assert doc_code(FILE_CODE, ordinal) not in text
    for name in (CONDITIONAL_TXT, SECRET_TXT, RESTRICTED_TXT):
        assert DOCUMENTS[name][1] not in text
    (event,) = events(sessions, aip_id)
    assert "YC-2025-0042" in event and "export.withheld_secret" in event  # the catalog knows


def test_dip_with_approval_releases_conditional_never_secret(stored: Stored, tmp_path: Path) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    out = tmp_path / "dip.zip"
    result = export_aip(
        settings,
        sessions,
        aip_id,
        out,
        fmt=ExportFormat.TT05_DIP,
        request=request(approved_conditional=APPROVAL),
    )
    assert result.released == (doc_code(FILE_CODE, 1), doc_code(FILE_CODE, 2))
    assert {w.ordinal: w.reason for w in result.withheld} == {
        3: "export.withheld_secret",
        4: "export.withheld_restricted",
    }
    folder = unzip(out, tmp_path / "dip")
    assert [f for f in validate_package(folder, expected_type="DIP") if f.severity is Severity.ERROR] == []
    assert sorted(p.name for p in (folder / "representations/rep1/data").iterdir()) == sorted(
        [OPEN_PDF, CONDITIONAL_TXT]
    )
    assert len(list(folder.glob("representations/rep1/metadata/descriptive/EAD_doc_*.xml"))) == 2
    premis = (folder / "metadata/preservation/PREMIS.xml").read_text("utf-8")
    assert APPROVAL in premis and "dissemination" in premis
    assert any(APPROVAL in e for e in events(sessions, aip_id))


def test_dip_refused_when_nothing_may_be_released(stored: Stored, tmp_path: Path) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    with sessions.begin() as s:
        dossier = s.scalars(select(Dossier).where(Dossier.aip_id == aip_id)).one()
        restrict(
            s,
            dossier_id=dossier.id,
            decision_number="16/QĐ-LTLS",
            decision_date=date(2025, 4, 1),
            reason="Hồ sơ đang xác minh",
            by="Lê Văn Tâm",
        )
    out = tmp_path / "dip.zip"
    with pytest.raises(ExportError) as caught:
        export_aip(
            settings,
            sessions,
            aip_id,
            out,
            fmt=ExportFormat.TT05_DIP,
            request=request(approved_conditional=APPROVAL),
        )
    assert caught.value.code == "export.nothing_to_release" and caught.value.kind is ErrorKind.REFUSED
    assert {d["ordinal"]: d["reason"] for d in caught.value.details} == {
        1: "export.withheld_restricted",
        2: "export.withheld_restricted",
        3: "export.withheld_secret",
        4: "export.withheld_restricted",
    }
    no_leftovers(out, settings)
    assert events(sessions, aip_id) == []


def test_a_bad_access_request_is_a_usage_error(stored: Stored, tmp_path: Path) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    out = tmp_path / "dip.zip"
    with pytest.raises(ExportError) as caught:
        export_aip(
            settings,
            sessions,
            aip_id,
            out,
            fmt=ExportFormat.TT05_DIP,
            request=request(purpose="09", request_date="31/02/2025"),
        )
    assert caught.value.code == "export.bad_request" and caught.value.kind is ErrorKind.USAGE
    assert {(d["code"], d["params"]["element"]) for d in caught.value.details} == {
        ("tt05.bad_code", "purpose"),
        ("tt05.bad_date", "requestDate"),
    }
    with pytest.raises(ExportError) as caught:
        export_aip(settings, sessions, aip_id, out, fmt=ExportFormat.TT05_AIP, request=request())
    assert caught.value.code == "export.request_not_dip"
    no_leftovers(out, settings)


def test_bagit_bag_validates(stored: Stored, tmp_path: Path) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    out = tmp_path / "bag.zip"
    result = export_aip(
        settings, sessions, aip_id, out, fmt=ExportFormat.BAGIT, recipient=RECIPIENT, decision=TRANSFER
    )
    folder = unzip(out, tmp_path / "bag")
    bag = bagit.Bag(str(folder))
    bag.validate()  # raises BagValidationError on any problem
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert bag.info["External-Identifier"] == aip_id
    # the tag files name the AIP by identifier and kind, never by the title of its (Mật) dossier
    with sessions() as s:
        aip = s.get(Aip, aip_id)
        assert aip is not None and TITLE in aip.label
        assert bag.info["Internal-Sender-Description"] == f"AIP {aip_id}, {aip.package_kind} package"
    assert TITLE not in (folder / "bag-info.txt").read_text("utf-8")
    assert bag.info["Source-Organization"] == settings.archive.name
    assert date.fromisoformat(bag.info["Bagging-Date"])
    expected = catalog_files(sessions, aip_id)
    package = f"data/{result.package}/"
    payload = {
        path[len(package) :]: d["sha256"] for path, d in bag.entries.items() if path.startswith(package)
    }
    assert payload == expected


@pytest.mark.parametrize("fmt", [ExportFormat.TT05_AIP, ExportFormat.TT05_DIP])
def test_damage_in_storage_stops_the_export(stored: Stored, tmp_path: Path, fmt: ExportFormat) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    (content,) = [p for p in settings.path("storage/primary").rglob("*.pdf")]
    content.write_bytes(content.read_bytes().replace(b"Quyet", b"Quyat"))  # same size, other bytes
    out = tmp_path / "out.zip"
    with pytest.raises(ExportError) as caught:
        export_aip(
            settings,
            sessions,
            aip_id,
            out,
            fmt=fmt,
            request=request() if fmt is ExportFormat.TT05_DIP else None,
            recipient=None if fmt is ExportFormat.TT05_DIP else RECIPIENT,
            decision=None if fmt is ExportFormat.TT05_DIP else TRANSFER,
        )
    error = caught.value
    assert error.code == "fetch.all_copies_failed" and error.kind is ErrorKind.FAILED
    assert OPEN_PDF in str(error) and "sha512" in str(error)  # names the file and the check
    no_leftovers(out, settings)
    assert events(sessions, aip_id) == []


def test_never_overwrites(stored: Stored, tmp_path: Path) -> None:
    out = tmp_path / "da-co.zip"
    out.write_bytes(b"keep me")
    with pytest.raises(ExportError) as caught:
        export_aip(stored.settings, stored.sessions, stored.aip_id, out, fmt=ExportFormat.BAGIT)
    assert caught.value.code == "export.out_exists" and caught.value.kind is ErrorKind.USAGE
    assert out.read_bytes() == b"keep me"


# -------------------------------------------------------------------------------------- transfers


@pytest.mark.parametrize("fmt", [ExportFormat.TT05_AIP, ExportFormat.BAGIT])
def test_a_transfer_names_its_recipient_and_restricted_records_need_a_decision(
    stored: Stored, tmp_path: Path, fmt: ExportFormat
) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    out = tmp_path / "chuyen-giao.zip"
    with pytest.raises(ExportError) as nobody:
        export_aip(settings, sessions, aip_id, out, fmt=fmt, recipient="  ")
    assert nobody.value.code == "export.recipient_missing" and nobody.value.kind is ErrorKind.USAGE

    with pytest.raises(ExportError) as refused:
        export_aip(settings, sessions, aip_id, out, fmt=fmt, recipient=RECIPIENT)
    error = refused.value
    assert error.code == "export.restricted_content" and error.kind is ErrorKind.REFUSED
    assert error.params["codes"] == f"{doc_code(FILE_CODE, 3)}, {doc_code(FILE_CODE, 4)}"
    assert [(d["code"], d["reason"]) for d in error.details] == [
        (doc_code(FILE_CODE, 3), "export.restricted_secret"),
        (doc_code(FILE_CODE, 4), "export.restricted_listed"),
    ]
    assert error.details[1]["params"]["decision"] == DECISION  # the restriction's own decision
    no_leftovers(out, settings)
    assert events(sessions, aip_id) == []

    result = export_aip(settings, sessions, aip_id, out, fmt=fmt, recipient=RECIPIENT, decision=TRANSFER)
    assert (result.recipient, result.decision) == (RECIPIENT, TRANSFER)
    assert [r.code for r in result.restricted] == [doc_code(FILE_CODE, 3), doc_code(FILE_CODE, 4)]
    (event,) = events(sessions, aip_id)
    assert f"recipient: {RECIPIENT}" in event and f"decision: {TRANSFER}" in event
    assert f"{doc_code(FILE_CODE, 3)} (export.restricted_secret)" in event


def test_a_secret_or_listed_dossier_is_named_once(stored: Stored, tmp_path: Path) -> None:
    settings, sessions, aip_id = stored.settings, stored.sessions, stored.aip_id
    with sessions.begin() as s:
        dossier = s.scalars(select(Dossier).where(Dossier.aip_id == aip_id)).one()
        restrict(
            s,
            dossier_id=dossier.id,
            decision_number="16/QĐ-LTLS",
            decision_date=date(2025, 4, 1),
            reason="Hồ sơ đang xác minh",
            by="Lê Văn Tâm",
        )
    with pytest.raises(ExportError) as refused:
        export_aip(
            settings, sessions, aip_id, tmp_path / "a.zip", fmt=ExportFormat.TT05_AIP, recipient=RECIPIENT
        )
    assert [(d["code"], d["ordinal"], d["params"]["decision"]) for d in refused.value.details] == [
        (FILE_CODE, 0, "16/QĐ-LTLS")
    ]


def test_an_open_aip_needs_only_the_recipient(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    settings, sessions = ready
    result = run_ingest(build_sample_sip(tmp_path, tables))  # every record Công khai (01)
    assert result.aip_id is not None
    out = tmp_path / "mo.zip"
    exported = export_aip(
        settings, sessions, result.aip_id, out, fmt=ExportFormat.TT05_AIP, recipient=RECIPIENT
    )
    assert out.is_file() and exported.restricted == () and exported.decision == ""
    (event,) = events(sessions, result.aip_id)
    assert f"recipient: {RECIPIENT}" in event and "decision" not in event
    with pytest.raises(ExportError) as dip:
        export_aip(
            settings,
            sessions,
            result.aip_id,
            tmp_path / "d.zip",
            fmt=ExportFormat.TT05_DIP,
            request=request(),
            recipient=RECIPIENT,
        )
    assert dip.value.code == "export.transfer_not_dip" and dip.value.kind is ErrorKind.USAGE


# ------------------------------------------------------------------------------- photos in a DIP

PHOTO = "Ảnh lễ khởi công.png"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2263e8d0000000049454e44ae426082"
)


def test_dip_carries_a_photo_with_its_ead_pic(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    """Phụ lục V has no DIP table for photos or recordings: the photo keeps its EAD_pic (pic_sip)."""
    settings, sessions = ready
    base = dossier_records(tables, [OPEN_PDF])
    photo_values = valid_values(Variant.PIC_SIP, tables, docCode=doc_code(FILE_CODE, 2), mode="01")
    photo = DocumentRecord(
        kind=DocumentKind.PIC,
        description=Description(Variant.PIC_SIP, "photo", photo_values),
        data_files=(PHOTO,),
    )
    records = RecordSet(
        package_type=base.package_type,
        package=Description(Variant.HOSO_SIP, base.package.path, {**base.package.values, "totalDoc": "2"}),
        documents=(*base.documents, photo),
    )
    (tmp_path / "a.pdf").write_bytes(DOCUMENTS[OPEN_PDF][2])
    (tmp_path / "b.png").write_bytes(PNG)
    sip = build_sip(
        records,
        {("rep1", OPEN_PDF): tmp_path / "a.pdf", ("rep1", PHOTO): tmp_path / "b.png"},
        tmp_path / "sips",
        tables,
        label=TITLE,
    )
    ingested = run_ingest(sip)
    assert ingested.status is JobStatus.COMPLETED, ingested.error and ingested.error.records
    assert ingested.aip_id is not None

    out = tmp_path / "dip.zip"
    result = export_aip(
        settings, sessions, ingested.aip_id, out, fmt=ExportFormat.TT05_DIP, request=request()
    )
    assert result.released == (doc_code(FILE_CODE, 1), doc_code(FILE_CODE, 2)) and result.withheld == ()
    folder = unzip(out, tmp_path / "dip")
    assert [f for f in validate_package(folder, expected_type="DIP") if f.severity is Severity.ERROR] == []
    descriptive = folder / "representations/rep1/metadata/descriptive"
    (pic,) = descriptive.glob("EAD_pic_*.xml")
    assert validate_xsd(pic, Variant.PIC_SIP) == []
    parsed = parse_description(pic, Variant.PIC_SIP, pic.name)
    assert check_description(parsed, tables) == [] and parsed.unknown == ()
    assert parsed.description.values["imageTitle"] == photo_values["imageTitle"]
    assert parsed.description.values["docCode"] == doc_code(FILE_CODE, 2)
    assert (folder / "representations/rep1/data" / PHOTO).read_bytes() == PNG
    assert (folder / "schemas/EAD_pic.xsd").is_file()
    rep_mets = etree.parse(str(folder / "representations/rep1/METS.xml"))
    hrefs = {unquote(e.get(f"{{{XLINK}}}href", "")) for e in rep_mets.iter() if e.get(f"{{{XLINK}}}href")}
    assert {f"metadata/descriptive/{pic.name}", f"data/{PHOTO}"} <= hrefs
