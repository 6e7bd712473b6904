"""``kholuu request`` as reader services run it without the web app (in-process, both catalogs):
submit on a reader's behalf, list, approve (the decision number an undescribed AIP needs), build
and the one-time download path, refuse with a reason, show, expire; and who may run what."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from repository.catalog.requests import DisseminationRequest
from tests import dip_requests
from tests.conftest import run_cli
from tests.dip_requests import Stored
from workflows.access.requests import secret_hash

READER = ("--name", "Trần Văn Minh", "--contact", "0912 345 678", "--purpose", "cong vu")


request_folders, stored = dip_requests.request_folders, dip_requests.stored  # the fixtures


def kholuu(stored: Stored, *args: str, code: int = 0, **env: str) -> Any:
    done = run_cli(*args, "--json", env=stored.env(**env))
    assert done.returncode == code, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_reader_services_work_a_request_through_on_the_command_line(stored: Stored) -> None:
    aip_id = stored.aips.undescribed
    sent = kholuu(stored, "request", "submit", aip_id, *READER, "--by", "Lê Thị Thu")
    request_id = sent["request"]["id"]
    assert sent["request"]["submitted_by"].startswith("Lê Thị Thu (via ")
    assert sent["request"]["purpose"] == "02" and sent["follow_key"]
    listed = kholuu(stored, "request", "list", "--status", "submitted")
    assert [r["id"] for r in listed["requests"]] == [request_id]

    missing = kholuu(stored, "request", "approve", request_id, code=3)
    assert missing["error"]["code"] == "request.decision_required"
    approved = kholuu(
        stored, "request", "approve", request_id, "--decision", "27/QĐ-TTLT", "--by", "Lê Thị Thu"
    )
    assert approved["request"]["status"] == "ready" and approved["download"].startswith("/dip/")
    token = approved["download"].removeprefix("/dip/")
    shown = kholuu(stored, "request", "show", request_id.lower())["request"]
    assert shown["decision_number"] == "27/QĐ-TTLT" and shown["decided_by"].startswith("Lê Thị Thu (via ")
    assert Path(shown["dip_path"]).is_file() and shown["job_id"]
    assert kholuu(stored, "job", "show", shown["job_id"])["status"] == "completed"
    again = kholuu(stored, "request", "approve", request_id, "--decision", "x", code=3)
    assert again["error"]["code"] == "request.wrong_state"

    # building again is refused once ready; a fresh link is the web's (status page) business
    rebuilt = kholuu(stored, "request", "build", request_id, code=3)
    assert rebuilt["error"]["code"] == "request.wrong_state"
    with stored.sessions() as s:
        row = s.get(DisseminationRequest, request_id)
        assert row is not None and row.token_hash == secret_hash(token)
        assert row.user_id is None  # an OS user is not an account

    other = kholuu(stored, "request", "submit", stored.aips.described, *READER)["request"]["id"]
    no_reason = run_cli("request", "refuse", other, env=stored.env())
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    blank = kholuu(stored, "request", "refuse", other, "--reason", "  ", code=2)
    assert blank["error"]["code"] == "request.reason_required"
    refused = kholuu(stored, "request", "refuse", other, "--reason", "Hồ sơ đang tu bổ")
    assert refused["request"]["status"] == "refused" and refused["request"]["reason"] == "Hồ sơ đang tu bổ"
    assert kholuu(stored, "request", "expire") == {"expired": [], "deleted": []}
    unknown = kholuu(stored, "request", "show", "YC-000000000000", code=4)
    assert unknown["error"]["code"] == "request.not_found"


def test_who_may_run_the_request_commands(stored: Stored) -> None:
    request_id = kholuu(stored, "request", "submit", stored.aips.described, *READER)["request"]["id"]
    auditor = kholuu(stored, "request", "approve", request_id, code=3, KHOLUU_ROLE="auditor")
    assert auditor["error"]["code"] == "cli.role_refused"
    assert kholuu(stored, "request", "list", KHOLUU_ROLE="auditor")["count"] == 1
    human = run_cli(
        "request", "approve", request_id, env=stored.env(KHOLUU_ROLE="reader_services", KHOLUU_LANG="vi")
    )
    assert human.returncode == 0, human.stderr
    assert f"Đã lập gói DIP của yêu cầu {request_id}" in human.stdout
    assert human.stdout.strip().splitlines()[-1].startswith("/dip/")
