"""``kholuu transfer ...`` and ``kholuu kpi`` as an archivist runs them: click commands in-process
against a temporary home and catalog (both backends), JSON, exit codes, Vietnamese-first text."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from entrypoints.cli import app as cli
from entrypoints.cli.main import main
from repository.actor import cli_actor
from repository.catalog.db import make_engine, session_factory
from repository.catalog.records_store import add_agency, set_declared_total
from tests.workflows.test_transfers import at, make_aip, make_dossier

A = "H49.01"
AIP = "uuid-c1100000-0000-4000-8000-000000000001"
OTHER_AIP = "uuid-c1100000-0000-4000-8000-000000000002"
TITLE = "Hồ sơ về việc xây dựng cầu Long Xuyên"


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

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "make_engine", tracked_engine)
            try:
                return self.runner.invoke(main, ["--lang", lang, *args], env=self.env, catch_exceptions=False)
            finally:
                for engine in engines:
                    engine.dispose()

    def json(self, *args: str, code: int = 0) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)


@pytest.fixture
def kholuu(home: Path, database_url: str) -> Iterator[Kholuu]:
    run = Kholuu(home, database_url)
    assert run("init", "--json").exit_code == 0
    engine = make_engine(database_url)
    with session_factory(engine).begin() as s:
        add_agency(s, A, "Sở Nội vụ tỉnh An Giang")
        set_declared_total(
            s, organ_id=A, year=2021, metric="permanent_e_records_created", value=4, source="t"
        )
        # ingested under a transfer (``kholuu ingest --transfer``): received, not accepted; the tests
        # link it with ``kholuu transfer link``
        aip = make_aip(s, AIP)
        make_dossier(
            s,
            aip.id,
            "H49.01.2021.01",
            title=TITLE,
            end_on=date(2021, 3, 1),
            received=at(2025, 10, 1),
            transfer=True,
        )
        make_dossier(
            s, aip.id, "H49.01.2021.02", end_on=date(2021, 4, 1), received=at(2025, 10, 1), transfer=True
        )
        # another package, of an agency not in the Danh mục, ingested without a transfer
        other = make_aip(s, OTHER_AIP)
        make_dossier(
            s,
            other.id,
            "H49.09.2021.01",
            organ_id="H49.09",
            end_on=date(2021, 4, 1),
            received=at(2025, 10, 1),
            transfer=False,
        )
    engine.dispose()
    yield run


def test_transfer_from_plan_to_decision(kholuu: Kholuu, tmp_path: Path) -> None:
    dates = ("--registered", "2025-08-29", "--planned", "2026-03-01")
    plan = kholuu.json("transfer", "plan", A, "KH-01", *dates, "--expected", "2")
    assert (plan["reply_due_on"], plan["expected_dossiers"]) == ("2025-09-09", 2)
    assert [f["code"] for f in plan["findings"]] == ["transfer.plan_short_lead"]
    again = kholuu("transfer", "plan", A, "KH-01", "--planned", "2027-01-01", lang="vi")
    assert again.exit_code == 3 and "đã đăng ký kế hoạch" in again.output
    reply = kholuu("transfer", "reply", str(plan["plan_id"]), "--on", "2025-09-12", lang="vi")
    assert reply.exit_code == 0 and "trễ hạn" in reply.output

    received = kholuu.json("transfer", "receive", A, "SIP_hoso_2021.zip", "--by", "Trần Thị Thu", "--at",
                           "2025-10-01T09:00", "--plan", "KH-01")  # fmt: skip
    tid = received["transfer_id"]
    assert (received["confirm_due_on"], received["decision_due_on"]) == ("2025-11-30", "2025-11-30")
    assert received["received_at"] == "2025-10-01T02:00:00+00:00" and received["plan_reference"] == "KH-01"
    unknown = kholuu("transfer", "receive", "H99.99", "x.zip", "--by", "X", "--json")
    assert unknown.exit_code == 4
    assert json.loads(unknown.stdout)["error"]["code"] == "transfer.agency_not_found"

    overdue = kholuu.json("transfer", "overdue", "--on", "2025-12-05")
    assert [(o["transfer_id"], o["kind"], o["days_late"]) for o in overdue["overdue"]] == [
        (tid, "confirmation", 5),
        (tid, "decision", 5),
    ]
    text = kholuu("transfer", "overdue", "--on", "2025-12-05", lang="vi")
    assert "quá hạn quyết định tiếp nhận 5 ngày" in text.output

    linked = kholuu.json("transfer", "link", tid[:8], AIP.removeprefix("uuid-"))
    assert linked["status"] == "processing" and linked["aip_id"] == AIP
    relinked = kholuu.json("transfer", "link", tid, OTHER_AIP, code=3)
    assert relinked["error"]["code"] == "transfer.already_linked"
    assert (relinked["error"]["params"]["aip"], relinked["error"]["params"]["other"]) == (AIP, OTHER_AIP)
    second = kholuu.json("transfer", "receive", A, "other.zip", "--by", "Trần Thị Thu")["transfer_id"]
    foreign = kholuu("transfer", "link", second, OTHER_AIP, lang="vi")
    assert foreign.exit_code == 3 and "không phải của H49.01" in foreign.output
    neither = kholuu("transfer", "decide", tid, "--by", "Phạm Văn Quyết", "--json")
    assert neither.exit_code == 2
    assert json.loads(neither.stdout)["error"]["code"] == "cli.transfer.accept_or_reject"
    no_reason = kholuu("transfer", "decide", tid, "--reject", "--by", "Phạm Văn Quyết", lang="vi")
    assert no_reason.exit_code == 2 and "phải nêu lý do" in no_reason.output
    decided = kholuu.json("transfer", "decide", tid, "--accept", "--by", "Phạm Văn Quyết")
    assert (decided["status"], decided["dossiers"], decided["decided_by"]) == (
        "accepted",
        2,
        cli_actor("Phạm Văn Quyết").signature(),  # the person, and the OS user who typed it
    )
    logged = kholuu.json("auditlog", "show", "--action", "transfer")["entries"]
    assert [(e["action"], e["on_behalf"]) for e in logged] == [
        ("transfer.plan", None),
        ("transfer.reply", None),
        ("transfer.receive", "Trần Thị Thu"),
        ("transfer.link", None),
        ("transfer.receive", "Trần Thị Thu"),
        ("transfer.accept", "Phạm Văn Quyết"),
    ]  # the refused steps left no row
    assert logged[-1]["target"] == tid and logged[-1]["params"]["aip_id"] == AIP
    twice = kholuu.json("transfer", "decide", tid, "--reject", "--by", "X", "--reason", "y", code=3)
    assert twice["error"]["code"] == "transfer.already_decided"
    assert (
        kholuu.json("transfer", "decide", "no-such-transfer", "--accept", "--by", "X", code=4)["error"][
            "code"
        ]
        == "transfer.not_found"
    )

    shown = kholuu.json("transfer", "show", tid)
    assert (shown["status"], shown["aip_id"], shown["handover_prints"]) == ("accepted", AIP, [])
    assert (
        kholuu.json("transfer", "show", "no-such-transfer", code=4)["error"]["code"] == "transfer.not_found"
    )
    listed = kholuu.json("transfer", "list", "--status", "accepted")
    assert [t["transfer_id"] for t in listed["transfers"]] == [tid]
    assert kholuu.json("transfer", "list", "--plans")["plans"][0]["replied_late"] is True
    assert kholuu.json("transfer", "overdue", "--on", "2025-12-05")["count"] == 0
    listing = kholuu("transfer", "list", lang="vi")
    assert "đã tiếp nhận" in listing.output and "SIP_hoso_2021.zip" in listing.output


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_handover_command(kholuu: Kholuu, tmp_path: Path) -> None:
    tid = kholuu.json("transfer", "receive", A, "p.zip", "--by", "Trần Thị Thu")["transfer_id"]
    refused = kholuu.json("transfer", "handover", tid, "--out", str(tmp_path / "x.pdf"), code=3)
    assert refused["error"]["code"] == "transfer.not_accepted" and not (tmp_path / "x.pdf").exists()
    kholuu.json("transfer", "link", tid, AIP)
    kholuu.json("transfer", "decide", tid, "--accept", "--by", "Phạm Văn Quyết")
    out, page = tmp_path / "bien-ban.pdf", tmp_path / "bien-ban.html"
    issued = kholuu.json("transfer", "handover", tid, "--out", str(out), "--html", str(page), "--by", "Thu")
    assert issued["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() and issued["dossiers"] == 2
    html = page.read_text(encoding="utf-8")
    assert issued["sha256"] in html and TITLE in html and "BIÊN BẢN GIAO NHẬN" in html
    assert kholuu.json("transfer", "list")["transfers"][0]["handover_digest"] == issued["sha256"]
    again = kholuu("transfer", "handover", tid, "--out", str(out), lang="vi")
    assert again.exit_code == 0 and "Đã in lại" in again.output and issued["sha256"] in again.output
    prints = kholuu.json("transfer", "show", tid)["handover_prints"]
    assert [p["sha256"] for p in prints] == [issued["sha256"], hashlib.sha256(out.read_bytes()).hexdigest()]
    assert [p["by"] for p in prints] == [cli_actor("Thu").signature(), cli_actor().signature()]
    shown = kholuu("transfer", "show", tid, lang="vi")
    assert shown.exit_code == 0 and "bản in 1" in shown.output and "bản in 2" in shown.output


def test_a_reprint_within_the_same_second_is_reported(
    kholuu: Kholuu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chromium stamps the print time to the second: two prints within one second are the same
    bytes. The second is still a reprint, and the operator is told so (it once said nothing)."""
    from entrypoints.reports import handover as ho

    printed: list[bytes] = []

    def same_second(*args: Any, **kwargs: Any) -> bytes:
        if not printed:
            printed.append(real_render(*args, **kwargs))
        return printed[0]  # what Chromium prints again within the same second

    real_render = ho.render_pdf
    monkeypatch.setattr(ho, "render_pdf", same_second)
    tid = kholuu.json("transfer", "receive", A, "p.zip", "--by", "Trần Thị Thu")["transfer_id"]
    kholuu.json("transfer", "link", tid, AIP)
    kholuu.json("transfer", "decide", tid, "--accept", "--by", "Phạm Văn Quyết")
    out = tmp_path / "bien-ban.pdf"
    first = kholuu("transfer", "handover", tid, "--out", str(out), lang="vi")
    assert first.exit_code == 0 and "Đã in lại" not in first.output
    again = kholuu("transfer", "handover", tid, "--out", str(out), lang="vi")
    assert again.exit_code == 0 and "Đã in lại" in again.output and "2 bản đã in" in again.output
    prints = kholuu.json("transfer", "show", tid)["handover_prints"]
    assert [p["sha256"] for p in prints] == [hashlib.sha256(printed[0]).hexdigest()] * 2


def test_deadlines_and_kpi(kholuu: Kholuu) -> None:
    tid = kholuu.json("transfer", "receive", A, "p.zip", "--by", "Thu", "--at", "2025-10-01T09:00")[
        "transfer_id"
    ]
    kholuu.json("transfer", "link", tid, AIP)  # received, not decided
    data = kholuu.json("transfer", "deadlines", "--on", "2025-12-05", "--within-days", "30")
    agency, unknown = data["agencies"]
    assert unknown["organ_id"] == "" and [d["code"] for d in unknown["late"]] == ["H49.09.2021.01"]
    # created 1/3/2021 and 1/4/2021: due by 1/3/2024 and 1/4/2024, received 2025, not accepted
    assert [d["code"] for d in agency["overdue"]] == ["H49.01.2021.01", "H49.01.2021.02"]
    assert agency["not_received"] == [
        {
            "year": 2021,
            "declared": 4,
            "received": 2,
            "missing": 2,
            "deadline": "2024-12-31",
            "status": "overdue",
            "unit": "dossiers",
        }
    ]
    assert data["basis"] == "programme" and "QĐ 458" in data["basis_text"]
    law = kholuu.json("transfer", "deadlines", "--on", "2025-12-05", "--basis", "law", "--agency", A)
    # law basis: 31/12/2026, past the 90-day window
    assert (law["agencies"][0]["overdue"], law["agencies"][0]["pending"]) == ([], 2)
    assert "proxy" in law["basis_text"]
    text = kholuu("transfer", "deadlines", "--on", "2025-12-05", lang="vi")
    assert text.exit_code == 0 and "quá hạn (2)" in text.output and TITLE in text.output
    assert "kê khai 4, đã nhận 2, chưa nhận 2" in text.output
    missing = kholuu.json("transfer", "deadlines", "--agency", "H99.99", code=4)
    assert missing["error"]["code"] == "transfer.agency_not_found"

    kpi = kholuu.json("kpi", "--year", "2021", "--on", "2025-12-05")
    assert kpi["year"] == 2021 and kpi["declared_unit"] == "dossiers"
    figures = {(f["kpi"], f["unit"]): f for f in kpi["agencies"][0]["figures"]}
    # declared 4 permanent e-records created in 2021; none accepted yet
    assert {k: figures[("K3", "dossiers")][k] for k in ("numerator", "denominator", "percent", "basis")} == {
        "numerator": 0,
        "denominator": 4,
        "percent": 0.0,
        "basis": "declared",
    }
    assert figures[("K3", "documents")]["basis"] == "proxy"
    assert figures[("K3", "documents")]["note"] == "kpi.note.k3_proxy"
    table = kholuu("kpi", "--year", "2021", "--on", "2025-12-05", lang="vi")
    assert table.exit_code == 0
    assert "K3 HS" in table.output and "0/4 0%†" in table.output and "* ước tính" in table.output
    assert "Chung" in table.output
    # K4: no publication date recorded anywhere: "no data" and the command that records them
    k4 = figures[("K4", "dossiers")]
    assert (k4["numerator"], k4["percent"], k4["basis"], k4["note"]) == (
        None,
        None,
        "no_data",
        "kpi.note.k4_no_data",
    )
    assert "kholuu kpi mark-published" in table.output and "? chưa có dữ liệu" in table.output

    kholuu.json("transfer", "decide", tid, "--accept", "--by", "Phạm Văn Quyết")
    unknown = kholuu.json("kpi", "mark-published", "H49.01.2021.99", code=4)
    assert unknown["error"]["code"] == "kpi.mark.dossier_not_found"
    both = ("H49.01.2021.01", "H49.01.2021.02")
    refused = kholuu.json("kpi", "mark-published", *both, "--unset", "--at", "2025-12-01", code=2)
    assert refused["error"]["code"] == "cli.kpi.unset_with_at"
    marked = kholuu.json(
        "kpi", "mark-published", *both, "--aip", AIP.removeprefix("uuid-"), "--at", "2025-12-01"
    )
    assert marked["count"] == 2 and marked["at"] == "2025-12-01T00:00:00+07:00"
    assert [m["code"] for m in marked["marked"]] == list(both)
    high = kholuu("kpi", "mark-high-use", "H49.01.2021.01", lang="vi")
    assert high.exit_code == 0 and "tần suất sử dụng cao" in high.output
    kpi = kholuu.json("kpi", "--year", "2021")  # today: accepted just now, published on 1/12/2025
    k4 = {(f["kpi"], f["unit"]): f for f in kpi["agencies"][0]["figures"]}[("K4", "dossiers")]
    assert (k4["numerator"], k4["denominator"], k4["basis"]) == (2, 2, "measured")
    # overall: H49.09's dossier is held too, not published
    assert [(f["numerator"], f["denominator"]) for f in kpi["overall"] if f["kpi"] == "K4"] == [
        (2, 3),
        (0, 0),
    ]
    assert {f["basis"] for f in kpi["overall"] if f["kpi"] == "K6"} == {"measured"}
