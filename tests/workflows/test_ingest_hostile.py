"""Issue 11, hostile or broken input through a whole ingest (items 5, 20, 21), on both catalogs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from repository.catalog import queries
from repository.catalog.models import JobStatus
from repository.i18n import Translator
from repository.settings import Settings
from tests.preservation.test_hostile_characterize import broken_files
from tests.workflows.conftest import Ingest
from workflows.runner import error_records


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
