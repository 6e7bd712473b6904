"""Ingest end to end, on both catalog backends: what an archivist sees, and what an auditor checks.

Each stored AIP is exported from storage and checked with the real validators: the METS 1.12 and
PREMIS 3 XSDs (offline), our CSIP requirement checks, and ocfl-py for the storage root.
"""

from __future__ import annotations

import io
import os
import shutil
import unicodedata
import zipfile
from dataclasses import replace
from pathlib import Path

import ocfl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation import xsd
from preservation.csip import validate_package
from preservation.findings import Severity
from repository.catalog import queries
from repository.catalog.models import Aip, File, FileRole, JobStatus
from repository.settings import Settings, load_settings
from repository.storage.locations import open_locations
from tests.conftest import CORPUS, SAMPLES
from tests.preservation.test_virus import eicar
from tests.workflows.conftest import Ingest, job_row


def export(settings: Settings, aip_id: str, dest: Path) -> Path:
    (location,) = [loc for loc in open_locations(settings) if loc.name == "primary"]
    folder = dest / aip_id
    location.store.export_version(aip_id, folder)
    return folder


def check_package(folder: Path) -> None:
    """METS and PREMIS valid against their XSDs, no CSIP error, every payload in place."""
    mets_files = [folder / "METS.xml", *sorted((folder / "representations").glob("*/METS.xml"))]
    for m in mets_files:
        assert xsd.validate(m, "mets") == [], m
    premis_files = [folder / "metadata" / "preservation" / "PREMIS.xml"]
    premis_files += sorted((folder / "representations").glob("*/metadata/preservation/PREMIS_*.xml"))
    for p in premis_files:
        assert xsd.validate(p, "premis") == [], p
    errors = [f for f in validate_package(folder, expected_type="AIP") if f.severity is Severity.ERROR]
    assert errors == []


def storage_root(settings: Settings) -> Path:
    return settings.path("storage/primary") / "ocfl-root"


def assert_ocfl_valid(settings: Settings) -> None:
    root = ocfl.StorageRoot(root=str(storage_root(settings)))
    assert root.validate(validate_objects=True, check_digests=True), "ocfl-py reports errors"


def stored_objects(settings: Settings) -> list[str]:
    return sorted(loc_id for loc_id in open_locations(settings)[0].store.list_objects())


# ---------------------------------------------------------------------------------------- success


@pytest.mark.parametrize(
    "sample", ["sip-folder-quyet-dinh", "sip-bag-cong-van", "sip-zip-bao-cao.zip"], ids=lambda s: s
)
def test_sample_sips(
    sample: str, run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    result = run_ingest(SAMPLES / sample)
    assert result.status is JobStatus.COMPLETED, result.error
    assert result.aip_id and result.aip_id.startswith("uuid-")
    with sessions() as s:
        detail = queries.aip_detail(s, result.aip_id)
    assert detail["status"] == "stored"
    payload = [f for f in detail["files"] if f["role"] == "original"]
    assert len(payload) == result.files >= 4
    assert all(f["puid"] for f in payload)  # a PUID, or explicitly "unidentified"
    assert {e["type"] for e in detail["events"]} >= {
        "ingestion start",
        "virus check",
        "message digest calculation",
        "format identification",
        "information package creation",
        "replication",
        "accession",
        "ingestion end",
    }
    folder = export(settings, result.aip_id, tmp_path)
    check_package(folder)
    for f in payload:
        stored = folder / f["aip_path"]
        assert stored.is_file()
        assert os.path.getsize(stored) == f["size"]
    assert_ocfl_valid(settings)


def test_vietnamese_and_nfd_names_kept_byte_for_byte(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    sip = tmp_path / "sip"
    sip.mkdir()
    nfd = unicodedata.normalize("NFD", "Thông báo số 7.txt")
    nfc = "Quyết định số 12.txt"
    (sip / nfd).write_text("thông báo", encoding="utf-8")
    (sip / nfc).write_text("quyết định", encoding="utf-8")
    result = run_ingest(sip)
    assert result.status is JobStatus.COMPLETED, result.error
    with sessions() as s:
        rows = {f.path_raw: f for f in s.scalars(select(File).where(File.role == FileRole.ORIGINAL))}
    assert set(rows) == {nfd.encode(), nfc.encode()}
    assert rows[nfd.encode()].path_nfc == unicodedata.normalize("NFC", nfd)
    folder = export(settings, result.aip_id or "", tmp_path / "out")
    data = os.listdir(os.fsencode(folder / "representations" / "rep1" / "data"))
    assert sorted(data) == sorted([nfd.encode(), nfc.encode()])  # NFD stays NFD in the AIP
    premis = (
        folder / "representations" / "rep1" / "metadata" / "preservation" / "PREMIS_rep1.xml"
    ).read_text(encoding="utf-8")
    assert nfd in premis


def test_format_corpus(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """Hundreds of files, dozens of formats: every file gets a PUID or an explicit "unidentified"."""
    settings, sessions = ready
    corpus = CORPUS / "format-corpus"
    count = sum(1 for p in corpus.rglob("*") if p.is_file())
    # the corpus holds password-protected PDFs and documents ClamAV cannot read: refused by default
    # (issue 11 item 20), stored with "NOT FULLY SCANNED" events when the policy accepts them
    assert run_ingest(corpus).status is JobStatus.REFUSED
    lenient = replace(settings, virus_check=replace(settings.virus_check, refuse_unscanned=False))
    result = run_ingest(corpus, settings_=lenient)
    assert result.status is JobStatus.COMPLETED, result.error
    virus_events = [e for e in result.events if e.type.value == "virus check"]
    assert any("NOT FULLY SCANNED" in e.outcome_detail for e in virus_events)
    assert result.files == count > 300
    with sessions() as s:
        rows = s.scalars(select(File).where(File.role == FileRole.ORIGINAL)).all()
    assert len(rows) == count
    assert all(r.puid for r in rows)
    puids = {r.puid for r in rows}
    assert "unidentified" in puids and len(puids) > 40
    assert {r.validity for r in rows} >= {"valid", "invalid", "not checked"}
    check_package(export(settings, result.aip_id or "", tmp_path))


# ---------------------------------------------------------------------------------------- refusals


def zip_with(path: Path, name: str, data: bytes = b"x") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "code"),
    [("../../evil.txt", "unpack.path_traversal"), ("/etc/evil.txt", "unpack.absolute_path")],
)
def test_hostile_archive_refused(
    name: str, code: str, run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    result = run_ingest(zip_with(tmp_path / "evil.zip", name))
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    assert job.error_code == code
    assert [e.code for e in job.errors] == [code]
    assert job.errors[0].path == name
    assert result.quarantine and (Path(result.quarantine) / "archive" / "evil.zip").is_file()
    assert stored_objects(settings) == []
    assert not (tmp_path / "evil.txt").exists()


def test_link_escaping_folder_refused(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "a.txt").write_text("a")
    (sip / "passwd").symlink_to("/etc/passwd")
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    assert job_row(ready[1], result.job_id).error_code == "unpack.link_escapes"


def test_archive_bomb_refused(ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path) -> None:
    settings, sessions = ready
    tight = load_settings(
        settings.home,
        environ={},
        overrides={
            "catalog": {"url": settings.catalog.url},
            "unpack": {"max_ratio": 50.0, "ratio_floor_bytes": 1 << 20},
        },
    )
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("zeros.bin", b"\0" * (16 << 20))
    from workflows.ingest.pipeline import ingest

    result = ingest(tight, sessions, bomb)
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    assert job.error_code == "unpack.bomb"
    assert job.error_params and job.error_params["limit"] == "max_ratio"


def test_infected_sip_refused_and_kept_in_quarantine(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    sip = tmp_path / "sip"
    (sip / "tai-lieu").mkdir(parents=True)
    (sip / "tai-lieu" / "van-ban.txt").write_text("sạch", encoding="utf-8")
    (sip / "tai-lieu" / "eicar.com").write_bytes(eicar())
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    assert job.error_code == "virus.infected"
    (err,) = job.errors
    assert err.path == "tai-lieu/eicar.com"
    assert err.tool and err.tool.startswith("ClamAV/")
    assert err.exit_code == 1
    assert err.params["signature"] == "Kholuu.Test.EICAR.UNOFFICIAL"
    assert (Path(result.quarantine or "") / "content" / "tai-lieu" / "eicar.com").read_bytes() == eicar()
    assert stored_objects(settings) == []
    virus_events = [e for e in result.events if e.type.value == "virus check"]
    assert any(e.outcome.value == "failure" for e in virus_events)
    assert all("LOCAL SIGNATURES ONLY" in e.agents[0].note for e in virus_events)


def test_invalid_bag_refused_naming_the_file(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    result = run_ingest(CORPUS / "bagit-conformance-suite" / "v0.97" / "invalid" / "corrupt-data-file")
    assert result.status is JobStatus.REFUSED
    job = job_row(ready[1], result.job_id)
    assert job.error_code == "bag.checksum_mismatch"
    assert {e.path for e in job.errors} == {"data/bare-filename"}


def test_duplicate_payload_refused_unless_allowed(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    _, sessions = ready
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "Biên bản.txt").write_text("biên bản họp", encoding="utf-8")
    first = run_ingest(sip)
    assert first.status is JobStatus.COMPLETED
    # the same documents again, zipped, with the name in NFD (as a Mac would send it)
    again = tmp_path / "again.zip"
    with zipfile.ZipFile(again, "w") as zf:
        zf.writestr(unicodedata.normalize("NFD", "Biên bản.txt"), "biên bản họp".encode())
    second = run_ingest(again)
    assert second.status is JobStatus.REFUSED
    job = job_row(sessions, second.job_id)
    assert job.error_code == "ingest.duplicate"
    assert job.error_params and job.error_params["aip_id"] == first.aip_id
    third = run_ingest(again, allow_duplicate=True)
    assert third.status is JobStatus.COMPLETED
    assert third.aip_id != first.aip_id


# ---------------------------------------------------------------------------------------- failures


def test_failing_tool_leaves_nothing_stored_and_rerun_works(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "a.txt").write_text("a")
    broken = load_settings(
        settings.home,
        environ={},
        overrides={
            "catalog": {"url": settings.catalog.url},
            "virus_check": {"clamscan": "/nonexistent/clamscan"},
        },
    )
    failed = run_ingest(sip, settings_=broken)
    assert failed.status is JobStatus.FAILED
    job = job_row(sessions, failed.job_id)
    assert job.error_code == "tool.missing"
    assert job.errors[0].tool == "clamscan"
    assert failed.quarantine and Path(failed.quarantine).is_dir()
    assert stored_objects(settings) == []
    with sessions() as s:
        assert s.scalars(select(Aip)).all() == []
    assert not any((settings.work_dir).glob("*/aip"))
    ok = run_ingest(sip)
    assert ok.status is JobStatus.COMPLETED


def with_second_location(settings: Settings, path: Path, *, required: bool = True) -> Settings:
    from dataclasses import replace

    from repository.settings import StorageLocation, StorageSettings

    second = StorageLocation(
        name="second", backend="local", role="replica", path=str(path), required=required
    )
    return replace(settings, storage=StorageSettings(locations=(*settings.storage.locations, second)))


def test_a_failing_second_location_rolls_back_the_first(
    ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """Not 'down' but wrong (its root holds something that is not an OCFL root): the ingest fails
    and the copy already written to the first location is removed again."""
    settings, sessions = ready
    foreign = tmp_path / "second"
    (foreign / "ocfl-root").mkdir(parents=True)
    (foreign / "ocfl-root" / "someone-elses-file.txt").write_text("not ours")
    from workflows.ingest.pipeline import ingest

    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "a.txt").write_text("a")
    result = ingest(with_second_location(settings, foreign), sessions, sip)
    assert result.status is JobStatus.FAILED
    assert result.error is not None and getattr(result.error.cause, "code", "") == "ocfl.root_not_ocfl"
    assert stored_objects(settings) == []
    with sessions() as s:
        assert s.scalars(select(Aip)).all() == []


def test_a_location_that_is_down_queues_its_copy_until_sync(
    ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """The second disk is not mounted during the ingest: the AIP is stored on the first, shown as
    degraded with a pending copy; once the disk is back, sync writes the copy and the AIP is stored."""
    settings, sessions = ready
    mount = tmp_path / "usb-disk"
    two = with_second_location(settings, mount / "kholuu")
    from workflows.custody.replication import sync_pending
    from workflows.ingest.pipeline import ingest

    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "Quyết định số 12.txt").write_text("nội dung")
    result = ingest(two, sessions, sip)
    assert result.status is JobStatus.COMPLETED, result.error
    assert result.aip_id is not None
    assert set(result.locations) == {"primary"} and set(result.pending) == {"second"}
    with sessions() as s:
        detail = queries.aip_detail(s, result.aip_id)
    assert detail["status"] == "degraded"
    assert {(c["location"], c["status"]) for c in detail["copies"]} == {
        ("primary", "stored"),
        ("second", "pending"),
    }
    assert [e["outcome"] for e in detail["events"] if e["type"] == "replication"] == ["success", "failure"]

    assert sync_pending(two, sessions)[0].outcome == "still pending"  # still not mounted

    mount.mkdir()
    (mount / "kholuu").mkdir()
    (outcome,) = sync_pending(two, sessions)
    assert (outcome.outcome, outcome.source, outcome.location) == ("stored", "primary", "second")
    with sessions() as s:
        detail = queries.aip_detail(s, result.aip_id)
    assert detail["status"] == "stored"
    assert {(c["location"], c["status"]) for c in detail["copies"]} == {
        ("primary", "stored"),
        ("second", "stored"),
    }
    assert [e["outcome"] for e in detail["events"] if e["type"] == "replication"] == [
        "success",
        "failure",
        "failure",
        "success",
    ]
    second_root = mount / "kholuu" / "ocfl-root"
    assert ocfl.StorageRoot(root=str(second_root)).validate(validate_objects=True, check_digests=True)
    first = open_locations(two)[0].store.inventory(result.aip_id)
    assert open_locations(two)[1].store.inventory(result.aip_id) == first
    assert sync_pending(two, sessions) == []

    from workflows.custody.verify import verify_aip

    report = verify_aip(two, sessions, result.aip_id)
    assert report.ok and [loc.name for loc in report.locations] == ["primary", "second"]


def test_no_reachable_location_fails_the_ingest_and_keeps_the_sip(
    ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    from dataclasses import replace

    from repository.settings import StorageLocation, StorageSettings
    from workflows.ingest.pipeline import ingest

    gone = StorageLocation(name="gone", backend="local", path=str(tmp_path / "unmounted"))
    only_gone = replace(settings, storage=StorageSettings(locations=(gone,)))
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "a.txt").write_text("a")
    result = ingest(only_gone, sessions, sip)
    assert result.status is JobStatus.FAILED
    assert result.error is not None and getattr(result.error.cause, "code", "") == "storage.no_location"
    assert result.quarantine and Path(result.quarantine).is_dir()


def test_quarantine_removed_after_success(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, _ = ready
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "a.txt").write_text("a")
    result = run_ingest(sip)
    assert result.status is JobStatus.COMPLETED
    assert list(settings.quarantine_dir.iterdir()) == []
    assert [p for p in settings.work_dir.iterdir()] == []


_ = (io, shutil)


def test_an_update_never_publishes_out_of_order_on_a_location_that_is_behind(
    ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """The second disk misses v2 (unmounted); at the v3 update it is back but still at v1: it must
    not get v3's content as its v2. It is queued, and sync brings it to v3 with every version."""
    settings, sessions = ready
    mount = tmp_path / "usb"
    (mount / "kholuu").mkdir(parents=True)
    two = with_second_location(settings, mount / "kholuu")
    from workflows.custody.replication import sync_pending
    from workflows.custody.update import add_metadata
    from workflows.ingest.pipeline import ingest

    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "a.txt").write_text("a")
    result = ingest(two, sessions, sip)
    assert result.aip_id is not None and not result.pending
    meta = tmp_path / "muc-luc.txt"
    meta.write_text("mục lục", encoding="utf-8")
    shutil.move(str(mount / "kholuu"), str(tmp_path / "away"))  # unmounted
    v2 = add_metadata(two, sessions, result.aip_id, meta)
    assert (v2.version, set(v2.pending)) == (2, {"second"})
    shutil.move(str(tmp_path / "away"), str(mount / "kholuu"))  # back, holding v1 only
    meta3 = tmp_path / "bo-sung.txt"
    meta3.write_text("bổ sung", encoding="utf-8")
    v3 = add_metadata(two, sessions, result.aip_id, meta3)
    assert (v3.version, set(v3.locations), set(v3.pending)) == (3, {"primary"}, {"second"})
    second = open_locations(two)[1]
    assert [v.number for v in second.store.versions(result.aip_id)] == [1]
    assert [o.outcome for o in sync_pending(two, sessions)] == ["stored", "stored"]
    assert second.store.inventory(result.aip_id) == open_locations(two)[0].store.inventory(result.aip_id)
    with sessions() as s:
        assert queries.aip_detail(s, result.aip_id)["status"] == "stored"
