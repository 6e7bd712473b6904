"""A TT 05 transfer as the Archive's staff run it, command by command (README "Using it"):
register the agency, receive the package, ingest it against the transfer, accept it, print the
biên bản giao nhận, find the hồ sơ without diacritics, export a DIP for a reader, count the KPIs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from repository.catalog.records import Dossier
from tests.cli.test_cli import env, kholuu  # noqa: F401  (env is a fixture)
from tests.conftest import SAMPLES
from tests.reports.test_fixity_report import needs_chromium

SAMPLE = SAMPLES / "sip-tt05-hoso-so-hoa.zip"
AGENCY = "000.00.27.H01"
CODE = "000.00.27.H01.2024.05.VP"


def accepted_at(database_url: str) -> list[object]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(Dossier.accepted_at)).all())
    finally:
        engine.dispose()


def ok(*args: str, env: dict[str, str]) -> dict[str, object]:  # noqa: F811
    r = kholuu(*args, "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    out: dict[str, object] = json.loads(r.stdout)
    return out


@needs_chromium
def test_transfer_ingest_accept_handover_search_export_kpi(
    env: dict[str, str],  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    ok("records", "agency", "add", AGENCY, "Văn phòng UBND tỉnh An Giang", env=env)
    transfer = str(
        ok("transfer", "receive", AGENCY, SAMPLE.name, "--by", "Lê Văn Tâm", env=env)["transfer_id"]
    )

    stored = ok("ingest", str(SAMPLE), "--agency", AGENCY, "--transfer", transfer[:8], env=env)
    assert stored["status"] == "stored" and stored["transfer"] == transfer
    aip_id = str(stored["aip_id"])
    show = ok("aip", "show", aip_id, env=env)
    (dossier,) = show["records"]  # type: ignore[misc]
    assert dossier["code"] == CODE and len(dossier["documents"]) == 3
    # under a transfer the records are accepted by the decision, not by the ingest
    assert accepted_at(database_url) == [None]

    # a second package cannot be ingested against a decided transfer
    decided = ok("transfer", "decide", transfer, "--accept", "--by", "Trưởng phòng Thu thập", env=env)
    assert decided["status"] == "accepted"
    (when,) = accepted_at(database_url)
    assert when is not None
    again = kholuu("ingest", str(SAMPLE), "--transfer", transfer, "--allow-duplicate", "--json", env=env)
    assert again.returncode == 3 and json.loads(again.stdout)["error"]["code"] == "transfer.already_decided"

    pdf = tmp_path / "bien-ban.pdf"
    handed = ok("transfer", "handover", transfer, "--out", str(pdf), env=env)
    assert pdf.read_bytes().startswith(b"%PDF") and handed

    found = ok("records", "search", "trien khai so hoa", env=env)
    assert CODE in json.dumps(found, ensure_ascii=False)

    dip = tmp_path / "DIP.zip"
    exported = ok(
        "export", aip_id, "--format", "tt05-dip", "--out", str(dip),
        "--request-id", "YC-01", "--request-date", "20/03/2025", "--purpose", "Cá nhân", env=env,
    )  # fmt: skip
    assert exported and zipfile.ZipFile(dip).testzip() is None

    kpi = ok("kpi", "--year", "2024", env=env)
    assert AGENCY in json.dumps(kpi)


def test_transfer_that_does_not_exist_stops_the_ingest(env: dict[str, str]) -> None:  # noqa: F811
    r = kholuu("ingest", str(SAMPLE), "--transfer", "ffffffff-0000", "--json", env=env)
    assert r.returncode == 4
    assert json.loads(r.stdout)["error"]["code"] == "transfer.not_found"
    assert json.loads(kholuu("aip", "list", "--json", env=env).stdout)["aips"] == []


def test_unknown_agency_stops_the_ingest_before_it_starts(env: dict[str, str]) -> None:  # noqa: F811
    r = kholuu("ingest", str(SAMPLE), "--agency", "000.00.99.Z99", "--json", env=env)
    assert r.returncode == 4
    assert json.loads(r.stdout)["error"]["code"] == "records.agency_unknown"
    assert json.loads(kholuu("job", "list", "--json", env=env).stdout)["jobs"] == []
