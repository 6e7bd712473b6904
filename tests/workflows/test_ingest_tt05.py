"""TT 05/2025 SIP_hoso through the whole ingest, on both catalogs: what the Archive keeps is a valid
AIP_hoso (CSIP, METS/PREMIS XSDs, our EAD XSDs, the AIP element tables), the catalog knows every hồ
sơ and tài liệu, and a package that breaks an element-table rule is refused with a message naming
the element, with nothing stored."""

from __future__ import annotations

import dataclasses
import shutil
import unicodedata
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.csip import validate_package
from preservation.findings import Severity
from preservation.tt05.ead import parse_description, validate_xsd, write_description
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import Description, PackageType, RecordSet, doc_code
from preservation.tt05.tables import Tables, Variant, load_tables
from repository.catalog.models import Aip, File, JobStatus
from repository.catalog.records import Document, DocumentFile, Dossier
from repository.i18n import Translator
from repository.settings import Settings
from tests.conftest import ROOT
from tests.tt05 import (
    DATA,
    FILE_CODE,
    ORGAN_ID,
    TITLE,
    build_sample_sip,
    dossier_records,
    replace_file,
    valid_values,
    write_sip,
)
from tests.workflows.conftest import Ingest, job_row
from tests.workflows.test_ingest import check_package, export, stored_objects
from workflows.access.dip import AccessRequest
from workflows.access.export import ExportFormat, export_aip

EARK_MINIMAL = ROOT / "tests/data/eark-sip/minimal"


@pytest.fixture(scope="module")
def tables() -> Tables:
    return load_tables()


def test_sip_hoso_becomes_a_valid_aip_hoso(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    settings, sessions = ready
    sip = build_sample_sip(tmp_path, tables)
    result = run_ingest(sip)
    assert result.status is JobStatus.COMPLETED, result.error and result.error.records
    assert result.aip_id is not None

    folder = export(settings, result.aip_id, tmp_path / "out")
    check_package(folder)
    ead = folder / "metadata/descriptive/EAD.xml"
    assert validate_xsd(ead, Variant.HOSO_AIP) == []
    package = parse_description(ead, Variant.HOSO_AIP, "EAD.xml")
    assert check_description(package, tables) == []
    assert package.description.get("arcFileCode").endswith(FILE_CODE)
    assert package.description.get("title") == TITLE
    assert (folder / "schemas/EAD.xsd").is_file() and (folder / "schemas/EAD_doc.xsd").is_file()
    docs = sorted((folder / "representations/rep1/metadata/descriptive").glob("EAD_doc_*.xml"))
    assert len(docs) == len(DATA)
    ordinals = []
    for doc in docs:
        assert validate_xsd(doc, Variant.DOC_AIP) == [], doc
        parsed = parse_description(doc, Variant.DOC_AIP, doc.name)
        assert check_description(parsed, tables) == []
        assert parsed.description.get("arcFileCode") == package.description.get("arcFileCode")
        ordinals.append(int(parsed.description.get("docOrdinal")))
    assert sorted(ordinals) == [1, 2, 3]
    # what the agency sent is kept too, byte for byte
    submitted = folder / "metadata/other/submission/metadata/descriptive/EAD.xml"
    assert submitted.read_bytes() == (sip / "metadata/descriptive/EAD.xml").read_bytes()

    with sessions() as s:
        (dossier,) = s.scalars(select(Dossier).where(Dossier.aip_id == result.aip_id)).all()
        assert dossier.title == TITLE
        assert dossier.code.endswith(FILE_CODE)
        assert (dossier.organ_id, dossier.year) == ("H49.64.33", 2024)
        assert dossier.maintenance == "01" and dossier.mode == "01"
        assert dossier.elements["fileCode"] == FILE_CODE
        docs_rows = s.scalars(
            select(Document).where(Document.dossier_id == dossier.id).order_by(Document.ordinal)
        ).all()
        assert [d.ordinal for d in docs_rows] == [1, 2, 3]
        names = {unicodedata.normalize("NFC", n) for n in DATA}
        linked = set()
        for d in docs_rows:
            (link,) = s.scalars(select(DocumentFile).where(DocumentFile.document_id == d.id)).all()
            f = s.scalars(select(File).where(File.uuid == link.file_uuid, File.aip_id == result.aip_id)).one()
            assert f.path_nfc == unicodedata.normalize("NFC", link.path)
            linked.add(unicodedata.normalize("NFC", link.path))
            assert d.description_path.startswith("representations/rep1/metadata/descriptive/EAD_doc_")
        assert linked == names

    # ... and goes out again as a TT 05 DIP for a reader's request
    dip_zip = tmp_path / "DIP.zip"
    exported = export_aip(
        settings,
        sessions,
        result.aip_id,
        dip_zip,
        fmt=ExportFormat.TT05_DIP,
        request=AccessRequest(request_id="YC-2025-7", request_date="20/03/2025", purpose="02"),
    )
    assert len(exported.released) == len(DATA)
    with zipfile.ZipFile(dip_zip) as z:
        z.extractall(tmp_path / "dip")
    (dip,) = (tmp_path / "dip").iterdir()
    errors = [f for f in validate_package(dip, expected_type="DIP") if f.severity is Severity.ERROR]
    assert errors == []
    assert validate_xsd(dip / "metadata/descriptive/EAD.xml", Variant.DIP_REQUEST) == []
    request = parse_description(dip / "metadata/descriptive/EAD.xml", Variant.DIP_REQUEST, "EAD.xml")
    assert request.description.get("requestID") == "YC-2025-7"
    dip_docs = sorted((dip / "representations").glob("*/metadata/descriptive/EAD_doc_*.xml"))
    assert len(dip_docs) == len(DATA)
    for doc in dip_docs:
        assert validate_xsd(doc, Variant.DOC_DIP) == [], doc
        assert check_description(parse_description(doc, Variant.DOC_DIP, doc.name), tables) == []
    data = {
        unicodedata.normalize("NFC", p.name): p.read_bytes()
        for p in (dip / "representations").glob("*/data/*")
    }
    assert data == {unicodedata.normalize("NFC", k): v for k, v in DATA.items()}


def test_sip_hoso_as_zip(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    sip = build_sample_sip(tmp_path, tables)
    archive = tmp_path / "SIP_hoso.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(sip.rglob("*")):
            if path.is_file():
                z.write(path, f"{sip.name}/{path.relative_to(sip).as_posix()}")
    result = run_ingest(archive)
    assert result.status is JobStatus.COMPLETED, result.error and result.error.records


# One failing example per kind of rule, through the whole ingest (every row of every table is
# covered by tests/preservation/test_tt05_ead.py; here: refused, named, nothing stored).
BROKEN = {
    "mandatory": ({"title": None}, {}, "tt05.mandatory", "title"),
    "too long": ({"inforSign": "X" * 31}, {}, "tt05.too_long", "inforSign"),
    "number": ({"numberOfPage": "mười"}, {}, "tt05.not_number", "numberOfPage"),
    "date": ({"startDate": "31/02/2024"}, {}, "tt05.bad_date", "startDate"),
    "code": ({}, {1: {"typeName": "99"}}, "tt05.bad_code", "typeName"),
    "conditional": (
        {"confidenceLevel": "02", "paperFileCode": None},
        {},
        "tt05.conditional",
        "paperFileCode",
    ),
    "intake": ({"maintenance": "02"}, {}, "tt05.intake_code", "maintenance"),
    "boolean": ({}, {0: {"riskRecovery": "có"}}, "tt05.not_boolean", "riskRecovery"),
}


@pytest.mark.parametrize("case", sorted(BROKEN), ids=lambda c: c.replace(" ", "-"))
def test_broken_description_is_refused_and_nothing_is_stored(
    case: str,
    run_ingest: Ingest,
    ready: tuple[Settings, sessionmaker[Session]],
    tmp_path: Path,
    tables: Tables,
) -> None:
    settings, sessions = ready
    package, documents, code, element = BROKEN[case]
    sip = build_sample_sip(tmp_path, tables, package=package, documents=documents)
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    matching = [e for e in job.errors if e.code == code and e.params.get("element") == element]
    assert matching, [(e.code, e.params.get("element")) for e in job.errors]
    for language, label in (("vi", "vi"), ("en", "en")):
        text = Translator(language).text(code, {**matching[0].params, "path": matching[0].path})
        assert element in text or matching[0].params[f"element_{label}"] in text
    assert stored_objects(settings) == []
    with sessions() as s:
        assert s.scalars(select(Aip)).all() == []
        assert s.scalars(select(Dossier)).all() == []


def test_every_violation_is_reported_at_once(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    _, sessions = ready
    sip = build_sample_sip(
        tmp_path, tables, package={"title": None, "mode": "09"}, documents={2: {"issuedDate": "2024-03-15"}}
    )
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    found = {(e.code, e.params.get("element")) for e in job_row(sessions, result.job_id).errors}
    assert {("tt05.mandatory", "title"), ("tt05.bad_code", "mode"), ("tt05.bad_date", "issuedDate")} <= found


def test_description_without_its_data_file_is_refused(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    settings, sessions = ready
    records = dossier_records(tables, list(DATA))
    orphan = dataclasses.replace(records.documents[2], data_files=())  # EAD_doc_x.xml names no file
    records = dataclasses.replace(records, documents=(*records.documents[:2], orphan))
    sip = write_sip(
        tmp_path,
        tables,
        records,
        {
            n: c
            for n, c in DATA.items()
            if n in records.documents[0].data_files + records.documents[1].data_files
        },
    )
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    codes = {(e.code, e.path) for e in job_row(sessions, result.job_id).errors}
    assert (
        "description.document_without_file",
        "representations/rep1/metadata/descriptive/EAD_doc_x.xml",
    ) in codes
    assert stored_objects(settings) == []


def test_sip_tailieu_becomes_an_aip_tailieu(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    settings, sessions = ready
    package = valid_values(Variant.TAILIEU_SIP, tables, fileCode=f"{ORGAN_ID}.2024.01.0000001", totalDoc="3")
    dossier = dossier_records(tables, list(DATA))
    records = RecordSet(
        PackageType.SIP_TAILIEU, Description(Variant.TAILIEU_SIP, "EAD.xml", package), dossier.documents
    )
    result = run_ingest(write_sip(tmp_path, tables, records, DATA))
    assert result.status is JobStatus.COMPLETED, result.error and result.error.records
    assert result.aip_id is not None
    folder = export(settings, result.aip_id, tmp_path / "out")
    check_package(folder)
    ead = folder / "metadata/descriptive/EAD.xml"
    assert validate_xsd(ead, Variant.TAILIEU_AIP) == []
    with sessions() as s:
        (row,) = s.scalars(select(Dossier).where(Dossier.aip_id == result.aip_id)).all()
        assert (row.kind, row.package_type) == ("tailieu", "SIP_tailieu")
        assert len(row.documents) == 3


def test_aip_hoso_from_a_system_of_the_same_kind(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    """TT 05 Điều 17: an AIP_hoso sent by another archive's system is read with the AIP tables; its
    own submission history is kept whole (no path collides)."""
    settings, sessions = ready
    first = run_ingest(build_sample_sip(tmp_path, tables))
    assert first.aip_id is not None
    aip_folder = export(settings, first.aip_id, tmp_path / "sent")
    # the same hồ sơ is held already: storing it again is a named decision (issue 11 item 3)
    second = run_ingest(aip_folder, allow_duplicate=True, supersedes=first.aip_id)
    assert second.status is JobStatus.COMPLETED, second.error and second.error.records
    assert second.aip_id is not None
    folder = export(settings, second.aip_id, tmp_path / "kept")
    check_package(folder)
    assert (folder / "metadata/other/submission/metadata/other/submission/METS.xml").is_file()
    with sessions() as s:
        (row,) = s.scalars(select(Dossier).where(Dossier.aip_id == second.aip_id)).all()
        assert row.package_type == "AIP_hoso" and [d.ordinal for d in row.documents] == [1, 2, 3]


def test_aip_hoso_intake_is_permanent_only(tables: Tables, tmp_path: Path) -> None:
    values = valid_values(Variant.HOSO_AIP, tables, maintenance="04")
    path = tmp_path / "EAD.xml"
    write_description(Description(Variant.HOSO_AIP, "EAD.xml", values), tables, path)
    parsed = parse_description(path, Variant.HOSO_AIP, "EAD.xml")
    codes = [(f.code, f.params.get("element")) for f in check_description(parsed, tables, intake=True)]
    assert codes == [("tt05.intake_code", "maintenance")]


def test_full_ead_finding_aid_is_generic_descriptive_metadata(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """An E-ARK SIP from commons-ip/RODA may carry an EAD 2002 finding aid as EAD.xml: it is kept
    as descriptive metadata, not read as a TT 05 hồ sơ (and not refused)."""
    _, sessions = ready
    sip = tmp_path / "sip"
    shutil.copytree(EARK_MINIMAL, sip)
    (sip / "metadata/descriptive/EAD.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ead xmlns="urn:isbn:1-931666-22-9"><eadheader><eadid>AG-1'
        "</eadid><filedesc><titlestmt><titleproper>Phông UBND tỉnh</titleproper></titlestmt></filedesc>"
        '</eadheader><archdesc level="fonds"><did><unittitle>Phông UBND tỉnh</unittitle></did>'
        "</archdesc></ead>\n",
        encoding="utf-8",
    )
    result = run_ingest(sip)
    assert result.status is JobStatus.COMPLETED, result.error and result.error.records
    with sessions() as s:
        assert s.scalars(select(Dossier)).all() == []


def test_tt05_documents_without_package_description_are_refused(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    settings, sessions = ready
    sip = build_sample_sip(tmp_path, tables)
    (sip / "metadata/descriptive/EAD.xml").unlink()
    mets = etree.parse(str(sip / "METS.xml"))
    for dmd in mets.getroot().findall("{http://www.loc.gov/METS/}dmdSec"):
        dmd.getparent().remove(dmd)
    for div in mets.getroot().iter("{http://www.loc.gov/METS/}div"):
        div.attrib.pop("DMDID", None)
    mets.write(str(sip / "METS.xml"), xml_declaration=True, encoding="UTF-8")
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    codes = {e.code for e in job_row(sessions, result.job_id).errors}
    assert "description.missing_package_description" in codes
    assert stored_objects(settings) == []


def test_two_documents_with_one_number_are_refused_before_storage(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    settings, sessions = ready
    sip = build_sample_sip(tmp_path, tables, documents={1: {"docCode": doc_code(FILE_CODE, 1)}})
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    assert "description.duplicate_ordinal" in {e.code for e in job.errors}
    assert {s.name for s in job.steps if s.status.value == "failed"} == {"descriptive metadata validation"}
    assert stored_objects(settings) == []


def test_a_dip_is_not_ingested(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    _, sessions = ready
    sip = build_sample_sip(tmp_path, tables)
    mets_path = sip / "METS.xml"
    mets_path.write_bytes(mets_path.read_bytes().replace(b'OAISPACKAGETYPE="SIP"', b'OAISPACKAGETYPE="DIP"'))
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    assert "description.dip_not_ingestible" in {e.code for e in job_row(sessions, result.job_id).errors}


def test_elements_no_table_knows_are_kept_in_the_catalog(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    _, sessions = ready
    sip = build_sample_sip(tmp_path, tables)
    ead = sip / "metadata/descriptive/EAD.xml"
    text = ead.read_text(encoding="utf-8").replace(
        "</ead>", "  <nguoiLapHoSo>Nguyễn Thị Hương</nguoiLapHoSo>\n</ead>"
    )
    replace_file(sip, "metadata/descriptive/EAD.xml", text.encode("utf-8"))
    result = run_ingest(sip)
    assert result.status is JobStatus.COMPLETED, result.error and result.error.records
    with sessions() as s:
        (row,) = s.scalars(select(Dossier)).all()
        assert row.elements["_unknown"] == {"nguoiLapHoSo": "Nguyễn Thị Hương"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ((b'CHECKSUMTYPE="SHA-256"', b'CHECKSUMTYPE="MD5"'), "description.checksum_type"),
        ((b'LABEL="CSIP"', b'LABEL="Other"'), "description.csip_rule"),
    ],
    ids=["md5", "no-csip-structmap"],
)
def test_tt05_package_rules_refuse_the_package(
    change: tuple[bytes, bytes],
    code: str,
    run_ingest: Ingest,
    ready: tuple[Settings, sessionmaker[Session]],
    tmp_path: Path,
    tables: Tables,
) -> None:
    """TT 05: SHA-256 on every file and mdRef, a structMap labelled CSIP (config/tt05/package_rules.toml)."""
    settings, sessions = ready
    sip = build_sample_sip(tmp_path, tables)
    mets = sip / "representations/rep1/METS.xml"
    mets.write_bytes(mets.read_bytes().replace(*change))
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    errors = job_row(sessions, result.job_id).errors
    assert code in {e.code for e in errors}, [(e.code, e.message) for e in errors]
    hit = next(e for e in errors if e.code == code)
    assert "representations/rep1/METS.xml" in (hit.path or "")
    assert stored_objects(settings) == []
