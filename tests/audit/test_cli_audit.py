"""`kholuu audit`, `kholuu incident`, `kholuu scheduler` as an operator runs them: the commands
in-process (:func:`tests.conftest.run_cli`), a real SMTP conversation for the alert, two real
scheduler processes sharing one catalog."""

from __future__ import annotations

import email
import io
import itertools
import json
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select, text

from repository.catalog.db import make_engine, session_factory
from repository.catalog.models import AuditRun, Copy, Event
from repository.settings import load_settings
from repository.storage.locations import open_locations
from tests.audit.test_audit import content_key, flip_byte, payload_paths
from tests.conftest import KHOLUU, SAMPLES, CliRun, cli_env, run_cli, write_home_config


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to receive one message: a real server on loopback."""

    received: ClassVar[list[bytes]] = []

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = io.BytesIO()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body.write(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.received.append(body.getvalue())
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[bytes]]]:
    _Smtp.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Smtp.received
    server.shutdown()
    server.server_close()


def kholuu(env: dict[str, str], *args: str) -> CliRun:
    return run_cli(*args, env=env)


def test_audit_finds_damage_alerts_by_mail_and_incidents_are_acknowledged(
    home: Path, database_url: str, smtp: tuple[int, list[bytes]]
) -> None:
    port, received = smtp
    write_home_config(
        home,
        f'[alerts]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nmail_from = "kholuu@lltl.angiang.gov.vn"\n'
        'mail_to = ["luutru@angiang.gov.vn"]\n',
    )
    env = cli_env(home, database_url)
    assert kholuu(env, "init").returncode == 0
    aip_id = json.loads(kholuu(env, "ingest", str(SAMPLES / "sip-bag-cong-van"), "--json").stdout)["aip_id"]
    clean = kholuu(env, "audit", "--all", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["passed"] == 1 and received == []  # nothing to say, no mail

    settings = load_settings(home, environ=env)
    (location,) = open_locations(settings)
    damaged = payload_paths(location, aip_id)[0]
    flip_byte(location, content_key(location, aip_id, damaged))
    r = kholuu(env, "audit", "--all", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert (out["failed"], out["incidents_opened"]) == (1, 1)
    assert out["alert"]["mailed_to"] == ["luutru@angiang.gov.vn"]
    (mail,) = received
    message = email.message_from_bytes(mail)
    assert "fixity audit" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes) and aip_id.encode() in body and b"open incidents" in body

    day = datetime.now(UTC).strftime("%Y-%m-%d")
    for fmt in ("json", "html"):
        out = home / f"fixity.{fmt}"
        r = kholuu(env, "report", "fixity", "--format", fmt, "--since", day, "--out", str(out), "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        digest = json.loads(r.stdout)["digest"]
        assert digest.startswith("sha256:") and digest in out.read_text(encoding="utf-8")
    data = json.loads((home / "fixity.json").read_text(encoding="utf-8"))
    assert data["summary"]["open_incidents"] == 1 and data["summary"]["copies_checked"] == 2
    assert [(f["kind"], f["repair"]) for f in data["failures"]] == [("corrupt", "no good copy")]

    listed = json.loads(kholuu(env, "incident", "list", "--json").stdout)
    assert listed["open"] == 1
    (incident,) = listed["incidents"]
    assert (incident["aip_id"], incident["kind"]) == (aip_id, "corrupt")
    ack = kholuu(
        env, "incident", "ack", str(incident["id"]), "--by", "Trần Thị B", "--note", "đã báo cáo", "--json"
    )
    assert ack.returncode == 0 and json.loads(ack.stdout)["status"] == "acknowledged"
    assert json.loads(kholuu(env, "incident", "list", "--json").stdout)["open"] == 0
    human = kholuu(env, "incident", "list", "--all")
    assert "Trần Thị B" in human.stdout
    assert kholuu(env, "incident", "ack", "999", "--by", "x").returncode == 4
    both = kholuu(env, "audit", "--limit", "1", "--budget-gb", "1")
    assert both.returncode == 2


def test_two_schedulers_audit_oldest_first_and_never_the_same_slot_twice(
    home: Path, database_url: str
) -> None:
    write_home_config(home, '[[audit.schedules]]\nlocation = "primary"\ninterval_seconds = 1\nlimit = 1\n')
    env = cli_env(home, database_url)
    assert kholuu(env, "init").returncode == 0
    ids = [
        json.loads(kholuu(env, "ingest", str(SAMPLES / s), "--json").stdout)["aip_id"]
        for s in ("sip-folder-quyet-dinh", "sip-bag-cong-van", "sip-zip-bao-cao.zip")
    ]
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as s:  # last checked 100, 300 and 200 days ago: due in the order 2, 3, 1
        for aip_id, days in zip(ids, (100, 300, 200), strict=True):
            s.scalars(select(Copy).where(Copy.aip_id == aip_id)).one().last_checked_at = now - timedelta(
                days=days
            )

    procs = [
        subprocess.Popen(
            [KHOLUU, "scheduler", "--run-for", "7"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err

    with sessions() as s:
        checks = list(
            s.scalars(
                select(Event)
                .where(Event.type == "fixity check", Event.detail.startswith("Every file of the copy"))
                .order_by(Event.datetime, Event.id)
            )
        )
        assert [e.aip_id for e in checks] == [ids[1], ids[2], ids[0]]
        # each copy exactly once: afterwards all three are within the cycle, nothing is due
        runs = list(
            s.scalars(select(AuditRun).where(AuditRun.trigger == "scheduler").order_by(AuditRun.started_at))
        )
        busy_or_done: list[Any] = [(r.started_at, r.ended_at) for r in runs]
        assert all(end is not None for _, end in busy_or_done)
        for (_, end), (start, _) in itertools.pairwise(busy_or_done):
            assert end <= start  # no two audits of the location at the same time
        assert sum(r.copies_checked for r in runs) == 3
        jobs = s.execute(text("select id from apscheduler_jobs")).scalars().all()
        assert jobs == ["audit:primary"]  # the schedule is kept in the catalog for the next start
    engine.dispose()


def test_bad_audit_and_report_input_is_named(home: Path, database_url: str) -> None:
    env = cli_env(home, database_url)
    assert kholuu(env, "init").returncode == 0
    unknown = kholuu(env, "audit", "--location", "nowhere", "--json")
    assert (
        unknown.returncode == 4 and json.loads(unknown.stdout)["error"]["code"] == "storage.location_unknown"
    )
    empty = kholuu(
        env,
        "report",
        "fixity",
        "--since",
        "2026-05-02",
        "--until",
        "2026-05-01",
        "--out",
        str(home / "r.html"),
    )
    assert empty.returncode == 2 and "2026-05-02" in empty.stderr
    assert not (home / "r.html").exists()
