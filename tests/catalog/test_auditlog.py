"""The staff audit log on both catalogs: the chain, tampering named by row, the storage anchor, and
two real processes appending at once (issue 13)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Actor, Channel, Role, cli_actor
from repository.catalog.auditlog import GENESIS, read_entries, record_action, row_hash, verify_chain
from repository.catalog.auditlog_anchor import ANCHOR_PREFIX, read_anchors, verify_log, write_anchor
from repository.catalog.models import AuditLogEntry
from repository.settings import Settings
from repository.storage.locations import open_locations

CLERK = Actor(name="lan", role=Role.READER_SERVICES, channel=Channel.WEB, address="10.0.0.7")


def _append(sessions: sessionmaker[Session], count: int, actor: Actor = CLERK) -> None:
    for n in range(count):
        with sessions.begin() as session:
            record_action(session, actor, "restriction.add", f"HS-{n:03d}", {"decision": f"{n}/QĐ-LT"})


def _verify(sessions: sessionmaker[Session]) -> tuple[bool, int | None, str | None]:
    with sessions() as session:
        report = verify_chain(session)
    first = report.problems[0] if report.problems else None
    return report.ok, first.seq if first else None, first.code if first else None


def test_appended_rows_chain_and_read_back(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    with sessions.begin() as session:
        entry = record_action(session, cli_actor("Nguyễn Văn A"), "transfer.receive", "T-1", {"n": 1})
    assert entry.seq == 4 and entry.actor and entry.on_behalf == "Nguyễn Văn A" and entry.channel == "cli"
    with sessions() as session:
        rows = list(session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.seq)))
        assert rows[0].prev_hash == GENESIS
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
        assert all(row_hash(r) == r.hash for r in rows)
        assert [e.seq for e in read_entries(session, actor="Nguyễn Văn A")] == [4]
        assert [e.seq for e in read_entries(session, action="restriction")] == [1, 2, 3]
        assert [e.seq for e in read_entries(session, action="restriction.add", target="HS-001")] == [2]
        later = datetime.now(UTC) + timedelta(hours=1)
        assert read_entries(session, since=later) == []
        assert len(read_entries(session, until=later, limit=2, newest_first=True)) == 2
        assert read_entries(session, target="HS-002")[0].params == {"decision": "2/QĐ-LT"}
    assert _verify(sessions) == (True, None, None)


def test_a_rolled_back_decision_leaves_no_row(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 1)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        record_action(session, CLERK, "restriction.lift", "HS-000")
        raise RuntimeError("the decision failed")
    with sessions() as session:
        assert [e.action for e in read_entries(session)] == ["restriction.add"]


def test_an_edited_row_is_named(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    with sessions.begin() as session:
        session.execute(update(AuditLogEntry).where(AuditLogEntry.seq == 3).values(actor="someone-else"))
    assert _verify(sessions) == (False, 3, "auditlog.row_edited")


def test_an_edited_row_with_its_hash_recomputed_breaks_the_next_link(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    with sessions.begin() as session:
        row = session.get(AuditLogEntry, 3)
        assert row is not None
        row.params = json.dumps({"decision": "forged"})
        row.hash = row_hash(row)
    assert _verify(sessions) == (False, 4, "auditlog.chain_broken")


def test_a_deleted_row_is_named(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    with sessions.begin() as session:
        session.execute(delete(AuditLogEntry).where(AuditLogEntry.seq == 2))
    assert _verify(sessions) == (False, 2, "auditlog.row_missing")
    with sessions.begin() as session:
        session.execute(delete(AuditLogEntry).where(AuditLogEntry.seq == 1))
    assert _verify(sessions) == (False, 1, "auditlog.row_missing")


def test_reordered_rows_are_named(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    with sessions.begin() as session:  # rows 3 and 4 swapped
        for old, new in ((3, -3), (4, 3), (-3, 4)):
            session.execute(update(AuditLogEntry).where(AuditLogEntry.seq == old).values(seq=new))
    assert _verify(sessions) == (False, 3, "auditlog.row_edited")  # the number is hashed with the row
    with sessions.begin() as session:  # ... and the new row 3's hash recomputed to hide it
        row = session.get(AuditLogEntry, 3)
        assert row is not None
        row.hash = row_hash(row)
    assert _verify(sessions) == (False, 3, "auditlog.reordered")


def test_a_fork_is_impossible_even_without_the_lock(sessions: sessionmaker[Session]) -> None:
    """Two rows claiming the same predecessor: the unique prev_hash refuses the second."""
    _append(sessions, 2)
    with sessions() as session:
        head = session.get(AuditLogEntry, 2)
        assert head is not None
        fork = AuditLogEntry(
            seq=99, at=datetime.now(UTC), actor="x", on_behalf="", role="administrator", channel="cli",
            address="", action="user.add", target="", params="{}", prev_hash=head.prev_hash,
        )  # fmt: skip
        fork.hash = row_hash(fork)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(fork)


@pytest.fixture
def stored(settings: Settings) -> Settings:
    open_locations(settings, initialize=True)
    return settings


def test_the_anchor_catches_a_deleted_tail(stored: Settings, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 6)
    written = write_anchor(stored, sessions, run_id="run-1")
    names = [loc.name for loc in open_locations(stored)]
    assert written.seq == 6 and written.written == names and not written.failed
    assert written.key.startswith(ANCHOR_PREFIX + "/")
    anchors, unreachable, unreadable = read_anchors(stored)
    assert [(a.seq, a.run_id) for a in anchors] == [(6, "run-1")] * len(names)
    assert not unreachable and not unreadable
    with sessions() as session:
        assert verify_log(stored, session).ok
    with sessions.begin() as session:  # the newest two rows deleted: the chain alone looks fine
        session.execute(delete(AuditLogEntry).where(AuditLogEntry.seq >= 5))
    assert _verify(sessions) == (True, None, None)
    with sessions() as session:
        report = verify_log(stored, session)
    assert not report.ok
    assert report.first is not None
    assert (report.first.seq, report.first.code) == (6, "auditlog.anchor_beyond_head")
    assert report.first.params["head"] == 4


def test_the_anchor_catches_a_rebuilt_log(stored: Settings, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    write_anchor(stored, sessions)
    with sessions.begin() as session:  # everything deleted and written again with fresh hashes
        session.execute(delete(AuditLogEntry))
    _append(sessions, 4, actor=Actor(name="mallory", role=Role.ADMINISTRATOR, channel=Channel.CLI))
    assert _verify(sessions) == (True, None, None)
    with sessions() as session:
        report = verify_log(stored, session)
    assert report.first is not None
    assert (report.first.seq, report.first.code) == (3, "auditlog.anchor_mismatch")


def test_an_empty_log_writes_no_anchor(stored: Settings, sessions: sessionmaker[Session]) -> None:
    written = write_anchor(stored, sessions)
    assert written.seq == 0 and written.written == [] and written.key == ""
    assert read_anchors(stored)[0] == []


def test_an_altered_anchor_is_reported(stored: Settings, sessions: sessionmaker[Session]) -> None:
    _append(sessions, 1)
    written = write_anchor(stored, sessions)
    location = open_locations(stored)[0]
    path = location.backend.root / written.key  # type: ignore[attr-defined]
    path.write_text("{not json", encoding="utf-8")
    with sessions() as session:
        report = verify_log(stored, session)
    assert not report.ok
    assert [p.code for p in report.problems] == ["auditlog.anchor_unreadable"]


APPENDER = textwrap.dedent(
    """
    import sys
    import time
    from repository.actor import Actor, Channel, Role
    from repository.catalog.auditlog import record_action
    from repository.catalog.db import make_engine, session_factory

    from sqlalchemy import func, select
    from repository.catalog.models import AuditLogEntry

    url, name, other, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    sessions = session_factory(make_engine(url))
    actor = Actor(name=name, role=Role.ADMINISTRATOR, channel=Channel.CLI)
    sys.stdin.readline()  # start together
    for n in range(count):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # never more than one row ahead of the other process,
            with sessions() as session:  # so the two interleave however loaded the machine is
                theirs = session.scalar(select(func.count()).where(AuditLogEntry.actor == other))
            if theirs >= n - 1:
                break
            time.sleep(0.002)
        with sessions.begin() as session:
            record_action(session, actor, "ingest.start", f"{name}-{n}")
            time.sleep(0.005)  # hold the transaction open: the other process must wait for it
        time.sleep(0.005)  # as commands do, not a tight loop (SQLite's busy wait would starve the other)
    """
)


def test_two_processes_appending_at_once_do_not_fork(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    count = 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, database_url, name, other, str(count)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, other in (("alpha", "beta"), ("beta", "alpha"))
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert _verify(sessions) == (True, None, None)
    with sessions() as session:
        entries = read_entries(session)
    assert [e.seq for e in entries] == list(range(1, 2 * count + 1))
    assert {e.actor for e in entries} == {"alpha", "beta"}
    actors = [e.actor for e in entries]  # interleaved: the two really ran at the same time
    assert sum(1 for a, b in pairwise(actors) if a != b) > 1
