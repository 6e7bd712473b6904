"""Issue 11 items 3, 4, 13 and 23, as an archivist (and a hostile submitter) runs ``kholuu``: each
test is named after its item and fails on the code before the fix. Both catalogs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from preservation.tt05.tables import load_tables
from repository.catalog.db import make_engine, session_factory
from repository.catalog.models import Aip, Event, IngestClaim
from repository.catalog.records import Dossier
from tests.cli.test_cli_export import DIP_OPTIONS, Kholuu
from tests.conftest import cli_env
from tests.tt05 import DATA, FILE_CODE, ORGAN_ID, TITLE, build_sample_sip

KHOLUU = str(Path(sys.executable).parent / "kholuu")
RESTRICT = ("--decision", "15/QĐ-LTLS", "--date", "2025-03-01", "--reason", "Đang chỉnh lý")


@pytest.fixture
def kholuu(home: Path, database_url: str) -> Iterator[Kholuu]:
    run = Kholuu(home, database_url)
    result = run("init", "--json")
    assert result.exit_code == 0, result.output
    yield run


def _sip(parent: Path, **kwargs: Any) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return build_sample_sip(parent, load_tables(), **kwargs)


def _count(database_url: str, model: type[Aip] | type[Dossier]) -> int:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------ item 3


def test_issue11_item03_resubmitted_record_keeps_its_restriction(kholuu: Kholuu, tmp_path: Path) -> None:
    """Restrict a hồ sơ, re-ingest it with one byte changed: refused without a named decision;
    with ``--supersedes`` the new AIP is the record, still restricted, counted once."""
    assert kholuu("records", "agency", "add", ORGAN_ID, "Văn phòng UBND tỉnh An Giang").exit_code == 0
    first = kholuu.json("ingest", str(_sip(tmp_path / "one")))["aip_id"]
    restricted = kholuu.json("records", "restrict", "--dossier", FILE_CODE, *RESTRICT)
    assert restricted["restriction"]["target"]["code"] == FILE_CODE
    assert kholuu.json("records", "search", FILE_CODE, "--public")["count"] == 0

    changed = dict(DATA)
    name = next(iter(changed))
    changed[name] = changed[name] + b" "  # one byte more: a new payload, the same hồ sơ and OBJID
    again = _sip(tmp_path / "two", data=changed)

    refused = kholuu("ingest", str(again), "--json")
    assert refused.exit_code == 3, refused.output
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "ingest.record_held" and error["params"]["aip_id"] == first
    human = kholuu("ingest", str(again), lang="vi")
    assert human.exit_code == 3 and f"--supersedes {first}" in human.stderr
    assert _count(kholuu.database_url, Aip) == 1  # nothing stored

    wrong = kholuu.json("ingest", str(again), "--supersedes", "uuid-ffffffff", code=4)
    assert wrong["error"]["code"] == "catalog.not_found"

    second = kholuu.json("ingest", str(again), "--supersedes", first[:13])
    assert second["status"] == "stored" and second["aip_id"] != first
    accession = [e for e in second["events"] if e["type"] == "accession"]
    assert first in accession[0]["outcome_detail"] and "1 restriction(s)" in accession[0]["outcome_detail"]

    # the two AIPs say which record replaced which
    assert kholuu.json("aip", "show", first)["records"][0]["superseded_by"] == second["aip_id"]
    assert kholuu.json("aip", "show", second["aip_id"])["records"][0]["supersedes"] == [first]
    shown = kholuu("aip", "show", first, lang="vi")
    assert f"hồ sơ hiện hành ở AIP {second['aip_id']}" in shown.stdout

    # still restricted: not public, and a reader's DIP of the new AIP releases nothing
    assert kholuu.json("records", "search", FILE_CODE, "--public")["count"] == 0
    dip = kholuu.json("export", second["aip_id"], *DIP_OPTIONS, "--out", str(tmp_path / "d.zip"), code=3)
    assert dip["error"]["code"] == "export.nothing_to_release"
    assert {d["reason"] for d in dip["details"]} == {"export.withheld_restricted"}
    # the record is found once, as the new AIP, and the restriction list names it there
    found = kholuu.json("records", "search", FILE_CODE)["results"]
    assert {r["aip_id"] for r in found} == {second["aip_id"]} and len(found) == 1 + len(DATA)
    assert [r["code"] for r in found if r["kind"] == "dossier"] == [FILE_CODE]
    listed = kholuu.json("records", "restrictions")["restrictions"]
    assert sorted(r["target"]["aip_id"] for r in listed) == sorted([first, second["aip_id"]])
    # the code names the current record: no --aip needed to lift or restrict it
    lifted_ids = [r["id"] for r in listed if r["target"]["aip_id"] == second["aip_id"]]
    assert kholuu.json("records", "lift", str(lifted_ids[0]), "--decision", "20/QĐ", "--date", "2025-06-01")
    assert kholuu.json("records", "search", FILE_CODE, "--public")["count"] == 1 + len(DATA)

    # KPIs count the hồ sơ once (K1 cohort of 2024: the dossier's end date)
    kpi = kholuu.json("kpi", "--year", "2024")
    k1 = {(f["kpi"], f["unit"]): f for f in kpi["overall"]}[("K1", "dossiers")]
    assert k1["denominator"] == 1

    # the next re-submission names the record's AIP now, not the first one
    third = kholuu.json("ingest", str(_sip(tmp_path / "three")), "--supersedes", first, code=3)
    assert third["error"]["code"] == "ingest.supersedes_mismatch"
    assert third["error"]["params"]["aips"] == [second["aip_id"]]


def test_issue11_item03_resubmission_keeps_the_stricter_access_level(kholuu: Kholuu, tmp_path: Path) -> None:
    """A document the archive holds as Mật (03) is sent again marked Công khai: the decision is
    the archive's, so the re-submitted record stays 03 and the DIP does not release it."""
    first = kholuu.json("ingest", str(_sip(tmp_path / "one", documents={0: {"mode": "03"}})))["aip_id"]
    second = kholuu.json("ingest", str(_sip(tmp_path / "two")), "--supersedes", first)["aip_id"]
    dip = kholuu.json("export", second, *DIP_OPTIONS, "--out", str(tmp_path / "d.zip"))
    assert [w["ordinal"] for w in dip["withheld"]] == [1]
    assert {w["reason"] for w in dip["withheld"]} == {"export.withheld_secret"}


def test_issue11_item03_records_returned_by_a_rejected_transfer_are_not_held(
    kholuu: Kholuu, tmp_path: Path
) -> None:
    """A rejected transfer sends the records back: the agency's corrected package is a new
    submission, not a re-submission of a held record."""
    assert kholuu("records", "agency", "add", ORGAN_ID, "Văn phòng UBND tỉnh An Giang").exit_code == 0
    transfer = kholuu.json("transfer", "receive", ORGAN_ID, "SIP 1", "--by", "Lê Văn Tâm")["transfer_id"]
    kholuu.json("ingest", str(_sip(tmp_path / "one")), "--transfer", transfer)
    rejected = ("--reject", "--by", "Trưởng phòng", "--reason", "Thiếu tài liệu")
    assert kholuu.json("transfer", "decide", transfer, *rejected)["status"] == "rejected"
    changed = dict(DATA)
    name = next(iter(changed))
    changed[name] = changed[name] + b" "
    again = kholuu.json("ingest", str(_sip(tmp_path / "two", data=changed)))
    assert again["status"] == "stored"


# ------------------------------------------------------------------------------------------ item 4


def test_issue11_item04_concurrent_identical_ingests_store_one_aip(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    """Three identical ingests started at once, in three processes: one AIP, two refused duplicates."""
    env = cli_env(home, database_url)
    init = subprocess.run([KHOLUU, "init", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    folder = tmp_path / "giay-to"
    folder.mkdir()
    for i in range(20):
        (folder / f"Văn bản {i:02}.txt").write_text(f"Nội dung văn bản số {i}\n" * 50, encoding="utf-8")
    procs = [
        subprocess.Popen(
            [KHOLUU, "ingest", str(folder), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        outcomes.append((p.returncode, json.loads(out) if out.strip() else {"stderr": err}))
    stored = [o for code, o in outcomes if code == 0]
    refused = [o for code, o in outcomes if code != 0]
    assert len(stored) == 1, outcomes
    assert {code for code, _ in outcomes} == {0, 3}, outcomes
    assert {o["error"]["code"] for o in refused} <= {"ingest.duplicate", "ingest.duplicate_running"}
    assert _count(database_url, Aip) == 1
    objects = list((home / "storage").rglob("0=ocfl_object_1.1"))
    assert len(objects) == 1, objects
    # a refused ingest keeps no claim: the one left is the stored AIP's
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as s:
            claims = s.scalars(select(IngestClaim)).all()
            assert [c.key.split(":")[0] for c in claims] == ["payload"]
            assert s.get(Aip, stored[0]["aip_id"]) is not None
    finally:
        engine.dispose()
    # and the next one is refused as a duplicate naming that AIP
    again = subprocess.run(
        [KHOLUU, "ingest", str(folder), "--json"], env=env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 3
    assert json.loads(again.stdout)["error"]["params"]["aip_id"] == stored[0]["aip_id"]


# ------------------------------------------------------------------------------------------ item 13


def test_issue11_item13_rebuild_kpi_and_document_numbers(kholuu: Kholuu, tmp_path: Path) -> None:
    sip = _sip(tmp_path / "one", documents={0: {"codeNumber": "15", "codeNotation": "KH-UBND"}})
    aip_id = kholuu.json("ingest", str(sip))["aip_id"]

    # the document number and ký hiệu are searchable, alone or as written on the document
    for text in ("KH-UBND", "kh-ubnd", "15/KH-UBND"):
        found = kholuu.json("records", "search", text)["results"]
        assert [r["kind"] for r in found] == ["document"], text
    assert any(r["kind"] == "document" for r in kholuu.json("records", "search", "15")["results"])
    assert kholuu.json("records", "search", "15/KH-UBND", "--exact")["count"] == 1

    # kpi without --year shows this year so far, and says which year it is
    this_year = date.today().year
    assert kholuu.json("kpi")["year"] == this_year
    table = kholuu("kpi", lang="vi")
    assert table.exit_code == 0, table.output
    assert f"Năm {this_year} tính đến" in table.stdout and f"--year {this_year - 1}" in table.stdout

    # rebuild-catalog prints text for a person, JSON only with --json
    human = kholuu("rebuild-catalog", "--location", "primary", lang="vi")
    assert human.exit_code == 0, human.output
    assert not human.stdout.lstrip().startswith("{")
    assert "Đã dựng lại danh mục" in human.stdout and f"{aip_id}: danh mục đã có, bỏ qua" in human.stdout
    data = kholuu.json("rebuild-catalog", "--location", "primary")
    assert data["totals"]["skipped"] == 1


# ------------------------------------------------------------------------------------------ item 23


def test_issue11_item23_fetch_of_restricted_records_needs_a_name_and_a_reason(
    kholuu: Kholuu, tmp_path: Path
) -> None:
    aip_id = kholuu.json("ingest", str(_sip(tmp_path / "sip", documents={1: {"mode": "03"}})))["aip_id"]
    out = tmp_path / "out"

    refused = kholuu.json("aip", "fetch", aip_id, "--out", str(out), code=3)
    assert refused["error"]["code"] == "fetch.restricted_content"
    assert not out.exists() or not any(out.iterdir())
    human = kholuu("aip", "fetch", aip_id, "--out", str(out), lang="vi")
    assert human.exit_code == 3 and "--by" in human.stderr and "--reason" in human.stderr

    fetched = kholuu.json(
        "aip", "fetch", aip_id, "--out", str(out), "--by", "Lê Văn Tâm", "--reason", "Kiểm tra bảo quản"
    )
    assert fetched["files"] > 0 and fetched["event_id"]
    events = _events(kholuu.database_url, aip_id, "dissemination")
    assert len(events) == 1
    detail = events[0]
    assert "Lê Văn Tâm" in detail and "Kiểm tra bảo quản" in detail and str(out) in detail
    assert f"{FILE_CODE}.0000002" in detail  # the restricted record that left, by its code

    # an export records who took it too
    transfer = ("--recipient", "Lưu trữ lịch sử tỉnh", "--decision", "9/QĐ", "--by", "Trần Thị Mai")
    kholuu.json("export", aip_id, "--format", "bagit", *transfer, "--out", str(tmp_path / "bag.zip"))
    exports = _events(kholuu.database_url, aip_id, "dissemination")
    assert len(exports) == 2 and any("Trần Thị Mai" in e for e in exports)
    fetches = kholuu.json("auditlog", "show", "--action", "aip.fetch", "--target", aip_id)["entries"]
    assert [(e["on_behalf"], e["params"]["reason"]) for e in fetches] == [("Lê Văn Tâm", "Kiểm tra bảo quản")]
    (exported,) = kholuu.json("auditlog", "show", "--action", "export", "--actor", "Trần Thị Mai")["entries"]
    assert (exported["action"], exported["target"]) == ("export.bagit", aip_id)
    assert exported["params"]["decision"] == "9/QĐ" and exported["channel"] == "cli"


def test_issue11_item23_fetch_of_public_records_is_recorded(kholuu: Kholuu, tmp_path: Path) -> None:
    aip_id = kholuu.json("ingest", str(_sip(tmp_path / "sip")))["aip_id"]
    fetched = kholuu.json("aip", "fetch", aip_id, "--out", str(tmp_path / "out"))
    assert fetched["files"] > 0
    (detail,) = _events(kholuu.database_url, aip_id, "dissemination")
    assert str(tmp_path / "out") in detail and TITLE not in detail


def _events(database_url: str, aip_id: str, kind: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as s:
            rows = s.scalars(
                select(Event).where(Event.aip_id == aip_id, Event.type == kind).order_by(Event.id)
            )
            return [f"{e.detail}\n{e.outcome_detail}" for e in rows]
    finally:
        engine.dispose()
