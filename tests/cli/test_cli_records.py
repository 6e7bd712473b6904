"""``kholuu records ...`` as an archivist uses it: real click commands against a temporary home and
catalog (both backends), JSON output, exit codes and Vietnamese-first messages."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from entrypoints.cli import app as cli
from entrypoints.cli.main import main
from repository.actor import cli_actor
from repository.catalog.db import make_engine, session_factory
from tests.catalog.test_records import (
    DOC_DECISION,
    DOSSIER_CODE,
    DOSSIER_TITLE,
    EXAMPLE_SCHEDULE,
    make_record_set,
    register,
)


class Kholuu:
    """Runs ``kholuu`` in-process with this test's home and catalog."""

    def __init__(self, home: Path, database_url: str) -> None:
        self.database_url = database_url
        self.env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KHOLUU_")}
        self.env.update({"KHOLUU_HOME": str(home), "KHOLUU_DATABASE_URL": database_url})
        self.runner = CliRunner()

    def __call__(self, *args: str, lang: str = "en") -> Result:
        engines: list[Engine] = []

        def tracked_engine(url: str, **kwargs: Any) -> Engine:
            engine = make_engine(url, **kwargs)
            engines.append(engine)
            return engine

        # A process runs one command and exits; in-process, its engine is closed here instead.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "make_engine", tracked_engine)
            try:
                return self.runner.invoke(main, ["--lang", lang, *args], env=self.env, catch_exceptions=False)
            finally:
                for engine in engines:
                    engine.dispose()

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def kholuu(home: Path, database_url: str) -> Iterator[Kholuu]:
    run = Kholuu(home, database_url)
    result = run("init", "--json")
    assert result.exit_code == 0, result.output
    yield run


@pytest.fixture
def with_records(kholuu: Kholuu) -> Kholuu:
    """The catalog holds one registered dossier (H49.64.33.2001.160) with a decision and a photo."""
    engine = make_engine(kholuu.database_url)
    with session_factory(engine).begin() as session:
        register(session)
    engine.dispose()
    return kholuu


def test_agencies_fonds_and_an_import_refused_row_by_row(kholuu: Kholuu, tmp_path: Path) -> None:
    assert (
        kholuu.json("records", "fonds", "add", "AG01", "Phông UBND tỉnh An Giang")["fonds"]["code"] == "AG01"
    )
    added = kholuu.json(
        "records",
        "agency",
        "add",
        "000.00.00.H01",
        "Văn phòng UBND tỉnh",
        "--fonds",
        "AG01",
        "--from",
        "01/01/2020",
    )
    assert added["agency"] == {
        "organ_id": "000.00.00.H01",
        "name": "Văn phòng UBND tỉnh",
        "fonds_code": "AG01",
        "active_from": "2020-01-01",
        "active_to": None,
        "in_scope": True,
    }

    bad_id = kholuu("records", "agency", "add", "so-noi-vu", "Sở Nội vụ", lang="vi")
    assert bad_id.exit_code == 2
    assert "“so-noi-vu” không phải mã định danh cơ quan" in bad_id.stderr
    duplicate = kholuu("records", "agency", "add", "000.00.00.H01", "Trùng", "--json")
    assert duplicate.exit_code == 2
    assert json.loads(duplicate.stdout)["error"]["code"] == "records.agency_exists"

    csv_file = tmp_path / "nguon.csv"
    csv_file.write_text(
        "organ_id,name,fonds_code,active_from,active_to,in_scope\n"
        "000.00.02.H01,Sở Tài chính,,,,1\n"
        "000.00.03.H01,Sở Xây dựng,,2020-02-30,,1\n",  # line 3: no 30 February
        encoding="utf-8",
    )
    refused = kholuu("records", "agency", "import", str(csv_file), lang="vi")
    assert refused.exit_code == 2
    assert "không nhập dòng nào" in refused.stderr
    assert "dòng 3: active_from: “2020-02-30” không phải ngày" in refused.stderr
    refused_json = kholuu("records", "agency", "import", str(csv_file), "--json")
    problems = json.loads(refused_json.stdout)["problems"]
    assert [(p["row"], p["code"]) for p in problems] == [(3, "records.bad_date")]
    listed = kholuu.json("records", "agency", "list")
    assert [a["organ_id"] for a in listed["agencies"]] == ["000.00.00.H01"]  # nothing imported

    csv_file.write_text(
        csv_file.read_text(encoding="utf-8").replace("2020-02-30", "2020-02-29"), encoding="utf-8"
    )
    assert kholuu.json("records", "agency", "import", str(csv_file))["imported"] == 2
    assert kholuu.json("records", "agency", "list")["count"] == 3


def test_retention_schedule_load_and_list(kholuu: Kholuu, tmp_path: Path) -> None:
    loaded = kholuu.json("records", "retention", "load", str(EXAMPLE_SCHEDULE))["schedule"]
    assert loaded["code"] == "VI-DU-CHUNG" and len(loaded["items"]) == 6
    text = kholuu("records", "retention", "list", lang="vi")
    assert text.exit_code == 0
    assert "VD-1.1" in text.stdout and "Vĩnh viễn" in text.stdout and "5 năm" in text.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[schedule]\ncode = "X"\nname = "X"\n', encoding="utf-8")
    refused = kholuu("records", "retention", "load", str(bad))
    assert refused.exit_code == 2
    assert "schedule.legal_basis: is missing" in refused.stderr and "items: is missing" in refused.stderr
    assert [s["code"] for s in kholuu.json("records", "retention", "list")["schedules"]] == ["VI-DU-CHUNG"]


def test_search_restrict_lift_and_declassify(with_records: Kholuu) -> None:
    kholuu = with_records
    found = kholuu.json("records", "search", "ho so xay dung")
    assert [(r["kind"], r["code"], r["title"]) for r in found["results"]] == [
        ("dossier", DOSSIER_CODE, DOSSIER_TITLE)
    ]
    assert kholuu.json("records", "search", "ho so xay dung", "--exact")["count"] == 0
    assert kholuu.json("records", "search", "hồ sơ xây dựng", "--exact")["count"] == 1

    restricted = kholuu.json(
        "records",
        "restrict",
        "--dossier",
        DOSSIER_CODE,
        "--decision",
        "12/QĐ-LTLS",
        "--date",
        "10/01/2025",
        "--reason",
        "Đang chỉnh lý",
        "--review",
        "2025-06-01",
        "--by",
        "lưu trữ viên",
    )["restriction"]
    assert restricted["target"]["code"] == DOSSIER_CODE and restricted["review_date"] == "2025-06-01"
    assert kholuu.json("records", "search", "ho so xay dung", "--public")["count"] == 0
    assert kholuu.json("records", "restrictions", "--on", "2025-01-09")["count"] == 0
    as_of = kholuu.json("records", "restrictions", "--on", "2025-01-10")
    assert [r["id"] for r in as_of["restrictions"]] == [restricted["id"]]
    due = kholuu.json("records", "restrictions", "--due-review", "--on", "2025-06-01")
    assert due["count"] == 1
    listed = kholuu("records", "restrictions", lang="vi")
    assert f"#{restricted['id']}" in listed.stdout and "xem xét lại: 2025-06-01" in listed.stdout

    lifted = kholuu.json(
        "records", "lift", str(restricted["id"]), "--decision", "30/QĐ-LTLS", "--date", "10/03/2025"
    )["restriction"]
    assert lifted["lifted_decision"] == "30/QĐ-LTLS" and lifted["lifted_at"]
    assert lifted["lifted_on"] == "2025-03-10"  # the decision's date, not the day it was typed in
    assert kholuu.json("records", "restrictions")["count"] == 0
    assert (
        kholuu.json("records", "restrictions", "--on", "2025-01-10")["count"] == 1
    )  # the dated list keeps it
    assert kholuu.json("records", "restrictions", "--on", "2025-03-09")["count"] == 1
    assert kholuu.json("records", "restrictions", "--on", "2025-03-10")["count"] == 0
    no_date = kholuu("records", "lift", str(restricted["id"]), "--decision", "31")
    assert no_date.exit_code == 2 and "--date" in no_date.output  # a lifting decision has a date
    again = kholuu("records", "lift", str(restricted["id"]), "--decision", "31", "--date", "2025-03-11")
    assert again.exit_code == 2 and "was lifted on" in again.stderr

    changed = kholuu(
        "records",
        "declassify",
        "--document",
        DOC_DECISION,
        "--to",
        "03",
        "--decision",
        "5/QĐ",
        "--date",
        "2025-04-01",
        "--reason",
        "Xác định độ mật",
        lang="vi",
    )
    assert changed.exit_code == 0, changed.output
    assert "01 (Công khai) → 03 (Mật)" in changed.stdout
    assert kholuu.json("records", "search", "quyet dinh phe duyet", "--public")["count"] == 0
    back = kholuu.json(
        "records",
        "declassify",
        "--document",
        DOC_DECISION,
        "--to",
        "01",
        "--decision",
        "40/QĐ-GM",
        "--date",
        "2025-05-01",
        "--reason",
        "Giải mật",
    )["change"]
    assert (back["from_mode"], back["to_mode"], back["target"]["code"]) == ("03", "01", DOC_DECISION)
    assert kholuu.json("records", "search", "quyet dinh phe duyet", "--public")["count"] == 1

    # each decision is a row of the staff audit log, signed like its *_by column (issue 13)
    assert restricted["recorded_by"] == cli_actor("lưu trữ viên").signature()
    assert lifted["lifted_by"] == cli_actor().signature()
    logged = kholuu.json("auditlog", "show", "--action", "restriction")["entries"]
    logged += kholuu.json("auditlog", "show", "--action", "access")["entries"]
    assert [(e["action"], e["target"], e["on_behalf"], e["params"]["decision_number"]) for e in logged] == [
        ("restriction.add", DOSSIER_CODE, "lưu trữ viên", "12/QĐ-LTLS"),
        ("restriction.lift", DOSSIER_CODE, None, "12/QĐ-LTLS"),
        ("access.change", DOC_DECISION, None, "5/QĐ"),
        ("access.change", DOC_DECISION, None, "40/QĐ-GM"),
    ]  # the refused lifts left none
    assert logged[1]["params"]["lifted_decision"] == "30/QĐ-LTLS"
    assert {e["actor"] for e in logged} == {cli_actor().name}


def _register(kholuu: Kholuu, **kwargs: str) -> str:
    """Register the An Giang dossier (again) in a new AIP; returns the AIP id."""
    engine = make_engine(kholuu.database_url)
    with session_factory(engine).begin() as session:
        aip_id = register(session, make_record_set(**kwargs)).aip_id
    engine.dispose()
    return aip_id


def test_a_code_held_by_two_aips_is_chosen_with_aip(with_records: Kholuu) -> None:
    """The same hồ sơ resubmitted after a rejection: the code alone no longer says which one."""
    kholuu = with_records
    second = _register(kholuu)
    decision = ("--decision", "12/QĐ-LTLS", "--date", "2025-01-10", "--reason", "Đang chỉnh lý")
    ambiguous = kholuu("records", "restrict", "--dossier", DOSSIER_CODE, *decision, lang="vi")
    assert ambiguous.exit_code == 2
    assert "hãy chọn một bằng --aip" in ambiguous.stderr and second in ambiguous.stderr
    as_json = kholuu("records", "restrict", "--dossier", DOSSIER_CODE, *decision, "--json")
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "records.ambiguous_code" and second in error["params"]["aips"]
    [first] = [a for a in error["params"]["aips"] if a != second]

    chosen = kholuu.json("records", "restrict", "--dossier", DOSSIER_CODE, "--aip", second[:13], *decision)
    assert chosen["restriction"]["target"]["code"] == DOSSIER_CODE
    declassified = kholuu.json(
        "records",
        "declassify",
        "--document",
        DOC_DECISION,
        "--aip",
        first,
        "--to",
        "03",
        "--decision",
        "5/QĐ",
        "--date",
        "2025-04-01",
        "--reason",
        "Xác định độ mật",
    )
    assert declassified["change"]["to_mode"] == "03"
    found = kholuu.json("records", "search", "quyet dinh phe duyet")["results"]
    assert sorted((r["aip_id"], r["mode"]) for r in found) == sorted([(first, "03"), (second, "01")])
    unknown_aip = kholuu(
        "records", "restrict", "--dossier", DOSSIER_CODE, "--aip", "uuid-ffffffff", *decision
    )
    assert unknown_aip.exit_code == 4


def test_declassifying_a_dossier_warns_about_stricter_documents(kholuu: Kholuu) -> None:
    _register(kholuu, dossier_mode="03", doc_mode="03")
    decision = ("--to", "01", "--decision", "40/QĐ-GM", "--date", "2025-04-01", "--reason", "Giải mật")
    alone = kholuu("records", "declassify", "--dossier", DOSSIER_CODE, *decision, lang="vi")
    assert alone.exit_code == 0, alone.output
    assert "03 (Mật) → 01 (Công khai)" in alone.stdout
    assert f"1 tài liệu của {DOSSIER_CODE} vẫn có mức độ tiếp cận chặt hơn 01" in alone.stderr
    assert kholuu.json("records", "search", "quyet dinh phe duyet", "--public")["count"] == 0

    along = kholuu.json("records", "declassify", "--dossier", DOSSIER_CODE, *decision, "--with-documents")
    assert along["change"] is None  # the dossier was already 01
    assert [(c["target"]["code"], c["from_mode"], c["to_mode"]) for c in along["document_changes"]] == [
        (DOC_DECISION, "03", "01")
    ]
    assert along["stricter_documents"] == []
    assert kholuu.json("records", "search", "quyet dinh phe duyet", "--public")["count"] == 1
    again = kholuu("records", "declassify", "--dossier", DOSSIER_CODE, *decision, "--with-documents")
    assert again.exit_code == 2 and "already has access level 01" in again.stderr


def test_bad_records_input_is_a_clear_error(with_records: Kholuu) -> None:
    kholuu = with_records
    unknown = kholuu(
        "records",
        "restrict",
        "--dossier",
        "KHONG.CO",
        "--decision",
        "1",
        "--date",
        "2025-01-01",
        "--reason",
        "x",
        lang="vi",
    )
    assert unknown.exit_code == 4
    assert "Không có hồ sơ nào mang mã “KHONG.CO”." in unknown.stderr
    both = kholuu(
        "records",
        "restrict",
        "--dossier",
        DOSSIER_CODE,
        "--document",
        DOC_DECISION,
        "--decision",
        "1",
        "--date",
        "2025-01-01",
        "--reason",
        "x",
        "--json",
    )
    assert both.exit_code == 2 and json.loads(both.stdout)["error"]["code"] == "records.one_target"
    bad_mode = kholuu(
        "records",
        "declassify",
        "--dossier",
        DOSSIER_CODE,
        "--to",
        "09",
        "--decision",
        "1",
        "--date",
        "2025-01-01",
        "--reason",
        "x",
    )
    assert bad_mode.exit_code == 2 and "“09” is not an access-level code (01, 02, 03)" in bad_mode.stderr
    bad_day = kholuu("records", "restrictions", "--on", "32/01/2025")
    assert bad_day.exit_code == 2 and "is not a date" in bad_day.output
    missing_lift = kholuu("records", "lift", "999", "--decision", "1", "--date", "2025-01-01")
    assert missing_lift.exit_code == 4


def test_declared_totals(kholuu: Kholuu, tmp_path: Path) -> None:
    kholuu.json("records", "agency", "add", "000.00.00.H01", "Văn phòng UBND tỉnh")
    declared = kholuu.json(
        "records",
        "declared",
        "set",
        "000.00.00.H01",
        "2024",
        "records_created",
        "1200",
        "--by",
        "chuyên viên",
    )["declared"]
    signature = cli_actor("chuyên viên").signature()
    assert (declared["value"], declared["source"]) == (1200, f"entered by {signature}")
    csv_file = tmp_path / "so-lieu.csv"
    csv_file.write_text(
        "organ_id,year,metric,value\n000.00.00.H01,2024,online_access,1\n000.00.00.H01,2024,online_access,2\n",
        encoding="utf-8",
    )
    refused = kholuu("records", "declared", "import", str(csv_file))
    assert refused.exit_code == 2 and "row 3" in refused.stderr
    csv_file.write_text("organ_id,year,metric,value\n000.00.00.H01,2024,online_access,1\n", encoding="utf-8")
    assert kholuu.json("records", "declared", "import", str(csv_file))["imported"] == 1
    listed = kholuu.json("records", "declared", "list", "--year", "2024")
    assert {(d["metric"], d["value"]) for d in listed["declared"]} == {
        ("online_access", 1),
        ("records_created", 1200),
    }
