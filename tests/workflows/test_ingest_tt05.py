"""TT 05/2025 SIP_hoso through the whole ingest, on both catalogs: what the Archive keeps is a valid
AIP_hoso (CSIP, METS/PREMIS XSDs, our EAD XSDs, the AIP element tables), the catalog knows every hồ
sơ and tài liệu, and a package that breaks an element-table rule is refused with a message naming
the element, with nothing stored."""

from __future__ import annotations

import shutil
import unicodedata
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.csip import validate_package
from preservation.findings import Severity
from preservation.tt05.ead import check_description, parse_description, validate_xsd
from preservation.tt05.tables import Tables, Variant, load_tables
from repository.catalog.models import Aip, File, JobStatus
from repository.catalog.records import Document, DocumentFile, Dossier
from repository.i18n import Translator
from repository.settings import Settings
from tests.tt05 import DATA, FILE_CODE, TITLE, build_sample_sip
from tests.workflows.conftest import Ingest, job_row
from tests.workflows.test_ingest import check_package, export, stored_objects
from workflows.export import ExportFormat, export_aip
from workflows.export_dip import AccessRequest


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
    settings, _ = ready
    sip = build_sample_sip(tmp_path, tables)
    descriptive = sip / "representations/rep1/metadata/descriptive"
    victim = sorted(descriptive.glob("EAD_doc_*.xml"))[0]
    shutil.move(victim, descriptive / "EAD_doc_không có tệp này.xml")
    # the SIP METS still names the old file: ingest refuses on the METS reference first or on the
    # description; either way nothing is stored and the answer names the file
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    assert stored_objects(settings) == []
