"""Whole ingests of real package corpora: every valid BagIt bag of the LoC conformance suite, a bag
made from bagit-python's test data, and an E-ARK SIP (as a folder and zipped)."""

from __future__ import annotations

import shutil
from pathlib import Path

import bagit
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.csip import validate_package
from repository.catalog import queries
from repository.catalog.models import File, FileRole, JobStatus
from repository.settings import Settings
from tests.conftest import CORPUS, ROOT
from tests.workflows.conftest import Ingest, job_row
from tests.workflows.test_ingest import check_package, export

SUITE = CORPUS / "bagit-conformance-suite"
VALID_BAGS = sorted(p for p in SUITE.glob("v*/valid/*") if p.is_dir())
EARK_SIP = ROOT / "tests" / "data" / "eark-sip" / "minimal"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Corpus-wide ingests run on the embedded catalog only; the catalog itself is tested on both
    backends elsewhere (this keeps the suite fast without losing coverage of either database)."""
    return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


@pytest.mark.parametrize("bag", VALID_BAGS, ids=lambda p: p.relative_to(SUITE).as_posix())
def test_valid_conformance_bags_ingest(
    bag: Path, run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]]
) -> None:
    _, sessions = ready
    result = run_ingest(bag)
    assert result.status is JobStatus.COMPLETED, job_row(sessions, result.job_id).error_message
    fixity = [e for e in result.events if e.type.value == "fixity check"]
    assert fixity and all(e.outcome.value == "success" for e in fixity)


def test_bagit_python_testdata_bag(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    bag_dir = tmp_path / "bag"
    shutil.copytree(CORPUS / "bagit-python-testdata" / "test-data", bag_dir)
    bagit.make_bag(
        str(bag_dir), {"Source-Organization": "Sở Nội vụ"}, checksums=["md5", "sha1", "sha256", "sha512"]
    )
    result = run_ingest(bag_dir)
    assert result.status is JobStatus.COMPLETED
    with sessions() as s:
        detail = queries.aip_detail(s, result.aip_id or "")
    images = [f for f in detail["files"] if f["role"] == "original" and f["path"].endswith(".jpg")]
    assert images and all(f["puid"] in {"fmt/43", "fmt/44", "fmt/645"} for f in images)
    assert all(f["validity"] == "valid" for f in images)
    assert {"metadata/other/submission/bag-info.txt", "metadata/other/submission/manifest-md5.txt"} <= {
        f["aip_path"] for f in detail["files"]
    }
    check_package(export(settings, result.aip_id or "", tmp_path / "out"))


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_eark_sip(
    zipped: bool, run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    source: Path = EARK_SIP
    if zipped:
        source = Path(
            shutil.make_archive(str(tmp_path / "sip"), "zip", root_dir=EARK_SIP.parent, base_dir="minimal")
        )
    result = run_ingest(source)
    assert result.status is JobStatus.COMPLETED, job_row(sessions, result.job_id).error_message
    with sessions() as s:
        originals = s.scalars(select(File).where(File.role == FileRole.ORIGINAL)).all()
        assert sorted(f.aip_path for f in originals) == [
            "representations/rep1/data/Công văn số 45.txt",
            "representations/rep1/data/phu-luc/danh-sach.txt",
        ]
        detail = queries.aip_detail(s, result.aip_id or "")
    assert detail["label"] == "Công văn số 45/UBND-VP"
    checks = [e for e in detail["events"] if e["type"] == "fixity check"]
    assert len(checks) == 2 and all("METS.xml" in e["detail"] for e in checks)
    folder = export(settings, result.aip_id or "", tmp_path / "out")
    check_package(folder)
    assert (folder / "metadata" / "descriptive" / "dc.xml").is_file()
    assert (folder / "metadata" / "other" / "submission" / "METS.xml").is_file()  # the SIP's METS, kept
    assert validate_package(folder) == []


def test_eark_sip_with_a_changed_file_is_refused(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    _, sessions = ready
    sip = tmp_path / "sip"
    shutil.copytree(EARK_SIP, sip)
    (sip / "representations" / "rep1" / "data" / "phu-luc" / "danh-sach.txt").write_text(
        "sửa đổi", encoding="utf-8"
    )
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    assert job.error_code == "fixity.supplied_mismatch"
    assert [e.path for e in job.errors] == ["representations/rep1/data/phu-luc/danh-sach.txt"]
