"""``kholuu aip verify`` is the audit of one AIP without repair: the same finding codes and outcomes.

Issue 11 item 10: a deleted object or a missing inventory used to be "could not check" in verify
(the audit said failed); they are damage, and say so."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import Aip, AipStatus
from repository.settings import Settings
from repository.storage.backend import join_key
from repository.storage.locations import open_locations
from repository.storage.ocfl import ROOT_PREFIX
from tests.workflows.conftest import Ingest
from workflows.custody.audit import AuditOptions, run_audit
from workflows.custody.verify import verify_aip


def stored_aip(run_ingest: Ingest, tmp_path: Path) -> str:
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "Công văn 12.txt").write_text("nội dung công văn", encoding="utf-8")
    (sip / "phụ lục.txt").write_text("phụ lục", encoding="utf-8")
    result = run_ingest(sip)
    assert result.aip_id is not None, result.error
    return result.aip_id


def problems(found: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return sorted((p["kind"], p["code"], p["path"]) for p in found)


def status(sessions: sessionmaker[Session], aip_id: str) -> AipStatus:
    with sessions() as s:
        aip = s.get(Aip, aip_id)
        assert aip is not None
        return aip.status


def test_verify_reports_deleted_object_as_failed(
    ready: tuple[Settings, sessionmaker[Session]], run_ingest: Ingest, tmp_path: Path
) -> None:
    settings, sessions = ready
    aip_id = stored_aip(run_ingest, tmp_path)
    open_locations(settings)[0].store.remove_object(aip_id)

    report = verify_aip(settings, sessions, aip_id)

    assert (report.outcome, report.ok) == ("failed", False)
    assert problems(report.as_dict()["locations"][0]["problems"]) == [
        ("missing", "ocfl.object_not_found", "")
    ]
    assert status(sessions, aip_id) is AipStatus.DEGRADED


def test_verify_reports_missing_inventory_as_failed(
    ready: tuple[Settings, sessionmaker[Session]], run_ingest: Ingest, tmp_path: Path
) -> None:
    settings, sessions = ready
    aip_id = stored_aip(run_ingest, tmp_path)
    location = open_locations(settings)[0]
    location.backend.delete(join_key(ROOT_PREFIX, location.store.object_path(aip_id), "inventory.json"))

    report = verify_aip(settings, sessions, aip_id)

    assert report.outcome == "failed"
    assert problems(report.as_dict()["locations"][0]["problems"]) == [
        ("missing", "ocfl.missing_file", "inventory.json")
    ]


def test_verify_and_audit_report_the_same_findings(
    ready: tuple[Settings, sessionmaker[Session]], run_ingest: Ingest, tmp_path: Path
) -> None:
    """A changed file and a stray file: verify names exactly what the audit names, and repairs
    nothing (the audit, with no other copy to repair from, finds them still there)."""
    settings, sessions = ready
    aip_id = stored_aip(run_ingest, tmp_path)
    location = open_locations(settings)[0]
    root = join_key(ROOT_PREFIX, location.store.object_path(aip_id))
    content = next(c for p, c in location.store.version_state(aip_id).items() if p.endswith("phụ lục.txt"))
    with location.backend.open_read(join_key(root, content)) as fh:
        data = bytearray(fh.read())
    data[0] ^= 0x01
    location.backend.write_atomic(join_key(root, content), io.BytesIO(bytes(data)))
    location.backend.write_atomic(join_key(root, "stray.txt"), io.BytesIO(b"not ours"))

    verified = verify_aip(settings, sessions, aip_id)
    audited = run_audit(settings, sessions, AuditOptions(mode="all"))

    (copy,) = audited.copies
    assert verified.outcome == copy.outcome == "failed"
    assert problems(verified.as_dict()["locations"][0]["problems"]) == problems(copy.as_dict()["problems"])
    assert problems(copy.as_dict()["problems"]) == [
        ("corrupt", "ocfl.digest_mismatch", content),
        ("unexpected", "ocfl.unexpected_file", "stray.txt"),
    ]
