"""``kholuu auditlog show|verify`` and the CLI decisions behind it, as an operator runs them: who is
recorded (the OS user, and the ``--by`` person), the row named when the log is tampered with, and a
deleted tail caught by the head a fixity audit anchored in storage (issue 13)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update

from repository.actor import cli_actor
from repository.catalog.db import make_engine, session_factory
from repository.catalog.models import AuditLogEntry
from tests.conftest import CliRun, cli_env, run_cli

AGENCY = "000.00.00.H49"


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    environment = cli_env(home, database_url)
    assert run_cli("init", env=environment).returncode == 0
    return environment


def kholuu(env: dict[str, str], *args: str, lang: str = "en") -> CliRun:
    return run_cli(*args, env={**env, "KHOLUU_LANG": lang})


def as_json(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = kholuu(env, *args, "--json")
    assert result.returncode == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def tamper(env: dict[str, str], statement: Any) -> None:
    """What someone with write access to the catalog database could do behind Kho Lưu's back."""
    engine = make_engine(env["KHOLUU_DATABASE_URL"])
    try:
        with session_factory(engine).begin() as session:
            session.execute(statement)
    finally:
        engine.dispose()


def test_decisions_record_the_os_user_and_the_person_acted_for(env: dict[str, str]) -> None:
    me = cli_actor()
    as_json(env, "records", "agency", "add", AGENCY, "Sở Nội vụ")
    unnamed = as_json(env, "transfer", "receive", AGENCY, "p.zip")  # --by is no longer required
    named = as_json(env, "transfer", "receive", AGENCY, "q.zip", "--by", "Trần Thị Thu")
    assert unnamed["received_by"] == me.name
    assert named["received_by"] == f"Trần Thị Thu (via {me.name}@{socket.gethostname()})"
    refused = kholuu(env, "transfer", "receive", "H99.99", "x.zip", "--by", "X")
    assert refused.returncode == 4  # refused: no decision, so no row either

    rows = as_json(env, "auditlog", "show")["entries"]
    assert [(r["seq"], r["action"]) for r in rows] == [
        (1, "agency.add"),
        (2, "transfer.receive"),
        (3, "transfer.receive"),
    ]
    assert {(r["actor"], r["channel"], r["address"]) for r in rows} == {
        (me.name, "cli", socket.gethostname())
    }
    assert [r["on_behalf"] for r in rows] == [None, None, "Trần Thị Thu"]
    assert rows[2]["target"] == named["transfer_id"] and rows[2]["params"]["package_name"] == "q.zip"
    assert [r["seq"] for r in as_json(env, "auditlog", "show", "--actor", "Trần Thị Thu")["entries"]] == [3]
    assert as_json(env, "auditlog", "show", "--since", "2999-01-01")["count"] == 0

    text = kholuu(env, "auditlog", "show", "--action", "transfer", lang="vi")
    assert text.returncode == 0 and "Trần Thị Thu (via" in text.stdout and "q.zip" in text.stdout
    assert "agency.add" not in text.stdout

    verified = as_json(env, "auditlog", "verify")
    assert (verified["ok"], verified["rows"], verified["head"]["seq"]) == (True, 3, 3)
    human = kholuu(env, "auditlog", "verify", lang="vi")
    assert human.returncode == 0 and "nguyên vẹn: 3 dòng" in human.stdout
    assert "Chưa có mốc neo" in human.stdout


def test_an_edited_row_is_named_and_fails_the_command(env: dict[str, str]) -> None:
    as_json(env, "records", "agency", "add", AGENCY, "Sở Nội vụ")
    for name in ("a.zip", "b.zip", "c.zip"):
        as_json(env, "transfer", "receive", AGENCY, name, "--by", "Trần Thị Thu")
    tamper(env, update(AuditLogEntry).where(AuditLogEntry.seq == 3).values(on_behalf="Người khác"))
    report = as_json(env, "auditlog", "verify", code=1)
    assert report["ok"] is False
    assert (report["first_problem"]["seq"], report["first_problem"]["code"]) == (3, "auditlog.row_edited")
    human = kholuu(env, "auditlog", "verify", lang="vi")
    assert human.returncode == 1
    assert "BỊ CAN THIỆP" in human.stderr and "Dòng hỏng đầu tiên: #3" in human.stderr
    assert "Dòng 3 của nhật ký kiểm toán (transfer.receive" in human.stderr

    tamper(env, delete(AuditLogEntry).where(AuditLogEntry.seq == 3))
    first = as_json(env, "auditlog", "verify", code=1)["first_problem"]
    assert (first["seq"], first["code"]) == (3, "auditlog.row_missing")
    assert "Rows 3 to 3 of the audit log are missing before row 4" in first["text"]


def test_a_deleted_tail_is_caught_by_the_anchor_a_fixity_audit_wrote(env: dict[str, str]) -> None:
    as_json(env, "records", "agency", "add", AGENCY, "Sở Nội vụ")
    as_json(env, "transfer", "receive", AGENCY, "a.zip", "--by", "Trần Thị Thu")
    audited = as_json(env, "audit", "--all")
    anchor = audited["audit_log_anchor"]
    assert anchor["seq"] == 3 and anchor["written"] and not anchor["failed"]  # the audit.run row included
    assert [r["action"] for r in as_json(env, "auditlog", "show")["entries"]][-1] == "audit.run"
    verified = as_json(env, "auditlog", "verify")
    assert verified["ok"] and verified["latest_anchor"]["seq"] == 3
    assert verified["latest_anchor"]["run_id"] == audited["run_id"]

    tamper(env, delete(AuditLogEntry).where(AuditLogEntry.seq >= 2))  # the chain alone stays whole
    report = as_json(env, "auditlog", "verify", code=1)
    assert report["chain_problems"] == []
    assert (report["first_problem"]["seq"], report["first_problem"]["code"]) == (
        3,
        "auditlog.anchor_beyond_head",
    )
    human = kholuu(env, "auditlog", "verify", lang="vi")
    assert human.returncode == 1 and "các dòng sau mốc neo đã bị xóa" in human.stderr


def test_incident_ack_and_declared_totals_sign_with_the_os_user(env: dict[str, str]) -> None:
    """``incident ack`` no longer needs --by; a missing incident leaves no row."""
    assert kholuu(env, "incident", "ack", "999").returncode == 4
    as_json(env, "records", "agency", "add", AGENCY, "Sở Nội vụ")
    declared = as_json(env, "records", "declared", "set", AGENCY, "2024", "records_created", "10")["declared"]
    assert declared["source"] == f"entered by {cli_actor().signature()}"
    rows = as_json(env, "auditlog", "show", "--action", "declared.set")["entries"]
    assert [(r["target"], r["params"]["value"], r["on_behalf"]) for r in rows] == [(AGENCY, 10, None)]
    assert as_json(env, "auditlog", "show", "--action", "incident")["count"] == 0
