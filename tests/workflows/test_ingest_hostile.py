"""Issue 11, hostile or broken input through a whole ingest (items 5, 20, 21), on both catalogs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.events import Event, EventType, Outcome
from preservation.tt05.tables import shipped_tables
from repository.catalog import queries
from repository.catalog.models import JobStatus
from repository.catalog.records import Dossier
from repository.i18n import Translator
from repository.settings import Settings
from tests.preservation.hostile_files import eicar_in_passworded_inner_zip, nested_zip
from tests.preservation.test_hostile_characterize import broken_files
from tests.preservation.test_hostile_names import zip_of
from tests.tt05 import DATA, dossier_records, write_sip
from tests.workflows.conftest import Ingest, job_row
from workflows.ingest.pipeline import IngestResult, ingest
from workflows.jobs.runner import error_records


def test_item05_ingest_with_one_malformed_tiff_succeeds_with_a_finding(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    _, sessions = ready
    sip = tmp_path / "sip"
    sip.mkdir()
    broken = broken_files(tmp_path / "made")["missing-dimensions.tif"][0]
    (sip / "scan-002.tif").write_bytes(broken.read_bytes())
    (sip / "to-trinh.txt").write_text("Tờ trình số 12", encoding="utf-8")
    result = run_ingest(sip)
    assert result.status is JobStatus.COMPLETED, result.error
    with sessions() as s:
        detail = queries.aip_detail(s, result.aip_id or "")
    validations = [e for e in detail["events"] if e["type"] == "validation" and e["outcome"] == "failure"]
    assert len(validations) == 1
    assert "image.damaged scan-002.tif" in validations[0]["outcome_detail"]


def test_item05_internal_error_message_is_filled_in_vietnamese() -> None:
    (record,) = error_records(TypeError("Missing dimensions"))
    text = Translator("vi").text(record.code, {**record.params, "path": record.path})
    assert "{message}" not in text
    assert "Missing dimensions" in text


def _virus_events(result: IngestResult) -> tuple[list[Event], list[Event]]:
    events = [e for e in result.events if e.type is EventType.VIRUS_CHECK]
    package = [e for e in events if e.detail.endswith("files scanned)")]  # the event about the package
    return [e for e in events if e not in package], package


def test_item20_eicar_20_zips_deep_is_refused_by_default_and_says_why(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    assert settings.virus_check.refuse_unscanned is True  # the shipped default
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "deep.zip").write_bytes(nested_zip(20))
    (sip / "cong-van.txt").write_text("Công văn", encoding="utf-8")
    result = run_ingest(sip)
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    assert job.error_code == "virus.unscanned"
    assert [(e.code, e.path) for e in job.errors] == [("virus.unscanned_nested", "deep.zip")]
    files, (package,) = _virus_events(result)
    (deep,) = [e for e in files if e.outcome is Outcome.WARNING]
    assert "NOT FULLY SCANNED" in deep.outcome_detail and "nested" in deep.outcome_detail
    assert "size" not in deep.outcome_detail
    assert package.outcome is Outcome.FAILURE
    assert "no virus found" not in package.outcome_detail
    assert "NOT FULLY SCANNED" in package.outcome_detail and "deep.zip" in package.outcome_detail
    text = Translator("vi").text(job.errors[0].code, {**job.errors[0].params, "path": job.errors[0].path})
    assert "deep.zip" in text and "{" not in text


def test_item20_passworded_inner_zip_stored_only_when_allowed_and_never_called_clean(
    ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "ho-so.zip").write_bytes(eicar_in_passworded_inner_zip())
    refused = ingest(settings, sessions, sip)
    assert refused.status is JobStatus.REFUSED
    assert [e.code for e in job_row(sessions, refused.job_id).errors] == ["virus.unscanned_encrypted"]
    lenient = replace(settings, virus_check=replace(settings.virus_check, refuse_unscanned=False))
    stored = ingest(lenient, sessions, sip)
    assert stored.status is JobStatus.COMPLETED, stored.error
    files, (package,) = _virus_events(stored)
    (event,) = files
    assert event.outcome is Outcome.WARNING
    assert "clean" not in event.outcome_detail and "encrypted" in event.outcome_detail
    assert package.outcome is Outcome.WARNING
    assert "no virus found" not in package.outcome_detail and "ho-so.zip" in package.outcome_detail


def test_item21_zip_slip_for_windows_is_refused_at_ingest(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    _, sessions = ready
    result = run_ingest(zip_of(tmp_path / "sip.zip", [b"ok.txt", b"..\\..\\x.bat"]))
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    assert (job.error_code, job.errors[0].path) == ("unpack.path_traversal", "..\\..\\x.bat")


def test_item22_sql_in_a_tt05_file_code_is_refused_at_ingest(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    _, sessions = ready
    tables = shipped_tables()
    bad = "'; DROP TABLE dossier;--"
    records = dossier_records(tables, list(DATA))
    records = replace(
        records, package=replace(records.package, values={**records.package.values, "fileCode": bad})
    )
    result = run_ingest(write_sip(tmp_path, tables, records, dict(DATA)))
    assert result.status is JobStatus.REFUSED
    job = job_row(sessions, result.job_id)
    errors = {e.code: e for e in job.errors}
    assert "description.code_characters" in errors
    text = Translator("vi").text("description.code_characters", errors["description.code_characters"].params)
    assert bad in text and "{" not in text
    with sessions() as s:
        assert s.scalars(select(Dossier)).all() == []
