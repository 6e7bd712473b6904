"""The staff audit log: who did what, when and from where, append-only and hash-chained.

Every staff action (a transfer received or decided, a restriction added or lifted, a change of
mức độ tiếp cận, an incident acknowledged, an export or fetch, an ingest, a migration...) is one
row of ``audit_log`` (:class:`repository.catalog.models.AuditLogEntry`), written by
:func:`record_action` **in the transaction that makes the decision**, so a decision never exists
without its row (and a rolled-back decision leaves none). ISO 16363 3.3.5 and 4.6.1.1 ask a
repository to keep such a record; Luật Lưu trữ 2024 Điều 33 asks who used which records.

The chain: row ``n`` carries ``prev_hash`` = ``hash`` of row ``n - 1`` (64 zeros for row 1) and
``hash`` = SHA-256 of its canonical serialization (:func:`row_hash`: every column, ``prev_hash``
included, as sorted compact UTF-8 JSON). Editing a row changes its hash; deleting one leaves a gap
in ``seq`` and a ``prev_hash`` that points nowhere; reordering points ``prev_hash`` at the wrong
row. :func:`verify_chain` walks the rows in order and names the first row where any of this shows.

What the chain alone cannot show: someone with write access to the catalog who deletes the newest
rows, or rebuilds the whole table with fresh hashes, leaves a chain that is consistent. That is
what the anchors are for: each fixity audit writes the current head (``seq``, ``hash``) to every
storage location (:mod:`repository.catalog.auditlog_anchor`), and the verification compares.

Appending is serialized: PostgreSQL takes a transaction-level advisory lock, SQLite the database
write lock (a write statement first; writers wait ``busy_timeout``), before the head is read. The
unique ``prev_hash`` and the ``seq`` key make a fork impossible even if that lock were bypassed.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from repository.actor import Actor
from repository.catalog.base import json_value
from repository.catalog.models import AuditLogEntry

__all__ = [
    "GENESIS",
    "ChainProblem",
    "ChainReport",
    "Entry",
    "canonical_json",
    "chain_head",
    "read_entries",
    "record_action",
    "row_hash",
    "verify_chain",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first row."""

FORMAT = 1
"""The version of the canonical serialization, hashed with every row."""

_LOCK_KEY = 0x6B686F6C75756C67  # "kholuulg": the advisory lock of the append (PostgreSQL)
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class Entry:
    """One row of the audit log, as read back."""

    seq: int
    at: datetime
    actor: str
    on_behalf: str
    role: str
    channel: str
    address: str
    action: str
    target: str
    params: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditLogEntry) -> Entry:
        try:
            params = json.loads(row.params)
        except ValueError:  # an edited row: show it as it is, verify names it
            params = {"unreadable": row.params}
        return cls(
            row.seq,
            row.at,
            row.actor,
            row.on_behalf,
            row.role,
            row.channel,
            row.address,
            row.action,
            row.target,
            params if isinstance(params, dict) else {"value": params},
            row.prev_hash,
            row.hash,
        )

    def who(self) -> str:
        """Who acted, as the ``*_by`` columns say it (``Actor.signature``)."""
        if self.on_behalf and self.on_behalf != self.actor:
            where = f"@{self.address}" if self.address else ""
            return f"{self.on_behalf} (via {self.actor}{where})"
        return self.actor

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.astimezone(UTC).isoformat(),
            "actor": self.actor,
            "on_behalf": self.on_behalf or None,
            "role": self.role,
            "channel": self.channel,
            "address": self.address or None,
            "action": self.action,
            "target": self.target,
            "params": self.params,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _plain(value: Any) -> Any:
    """What JSON cannot hold as is: enums, times and days as text, sets sorted, anything else its text."""
    plain = json_value(value)
    if plain is not value:
        return plain
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is (NFC text): one text for one value, on every host."""
    dumped = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain)
    return unicodedata.normalize("NFC", dumped)


def row_hash(row: AuditLogEntry) -> str:
    """SHA-256 (hex) of the row's canonical serialization, ``prev_hash`` included."""
    doc = {
        "v": FORMAT,
        "seq": row.seq,
        "at": row.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": row.actor,
        "on_behalf": row.on_behalf,
        "role": row.role,
        "channel": row.channel,
        "address": row.address,
        "action": row.action,
        "target": row.target,
        "params": row.params,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def _lock(session: Session) -> None:
    """Hold the append lock until the transaction ends (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:  # SQLite: a write statement takes the database write lock, so no one appends meanwhile
        session.execute(text("DELETE FROM audit_log WHERE 0 = 1"))


def chain_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the newest row; (0, GENESIS) when the log is empty."""
    row = session.execute(
        select(AuditLogEntry.seq, AuditLogEntry.hash).order_by(AuditLogEntry.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def record_action(
    session: Session,
    actor: Actor,
    action: str,
    target: str = "",
    params: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> Entry:
    """Append one action to the audit log, in the caller's transaction.

    The row commits or rolls back with the decision it records: call this inside the
    ``session.begin()`` block that writes the decision.

    Args:
        session: the session of the decision's transaction.
        actor: who acted (:func:`repository.actor.cli_actor`, the web app's ``g.actor``...).
        action: a dotted code, ``<subject>.<verb>`` (``transfer.receive``, ``restriction.add``).
        target: what it is about: an AIP id, a record code, a transfer id.
        params: the decision's details (JSON-serializable; dates and enums are written as text).
        at: when (default: now, UTC).

    Raises:
        ValueError: ``action`` is not a dotted lower-case code (a programming error).
    """
    if not _ACTION.match(action):
        raise ValueError(f"audit log action {action!r} is not a dotted lower-case code")
    _lock(session)
    seq, prev = chain_head(session)
    nfc = unicodedata.normalize
    row = AuditLogEntry(
        seq=seq + 1,
        at=(at or datetime.now(UTC)).astimezone(UTC),
        actor=nfc("NFC", actor.name),
        on_behalf=nfc("NFC", actor.on_behalf),
        role=actor.role.value,
        channel=actor.channel.value,
        address=actor.address,
        action=action,
        target=nfc("NFC", target),
        params=canonical_json(params or {}),
        prev_hash=prev,
    )
    row.hash = row_hash(row)
    session.add(row)
    session.flush()
    return Entry.of(row)


def read_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[Entry]:
    """Rows of the log matching every filter given.

    Args:
        actor: the OS or login user, or the person acted for (``--by``): either matches.
        action: an action code, or its subject alone (``transfer`` matches ``transfer.*``).
        target: exactly this target.
        since: at or after (aware datetime). until: before.
        limit: at most this many rows (the newest when ``newest_first``).
    """
    query = select(AuditLogEntry)
    if actor:
        query = query.where(or_(AuditLogEntry.actor == actor, AuditLogEntry.on_behalf == actor))
    if action:
        exact = AuditLogEntry.action == action
        query = query.where(
            exact if "." in action else or_(exact, AuditLogEntry.action.startswith(action + "."))
        )
    if target:
        query = query.where(AuditLogEntry.target == target)
    if since is not None:
        query = query.where(AuditLogEntry.at >= since)
    if until is not None:
        query = query.where(AuditLogEntry.at < until)
    query = query.order_by(AuditLogEntry.seq.desc() if newest_first else AuditLogEntry.seq)
    if limit:
        query = query.limit(limit)
    return [Entry.of(r) for r in session.scalars(query)]


# ------------------------------------------------------------------------------------ verify


@dataclass(frozen=True)
class ChainProblem:
    """Where the chain breaks: the row (``seq``), a stable code and its parameters."""

    seq: int
    code: str
    params: dict[str, Any]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "code": self.code, "params": self.params, "message": self.message}


@dataclass
class ChainReport:
    """What :func:`verify_chain` found: rows read, the head, and the first break (if any)."""

    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in ``seq`` order and stop at the first row that breaks the chain.

    Codes: ``auditlog.row_missing`` (a gap in ``seq``: rows deleted), ``auditlog.row_edited`` (the
    row's content no longer gives its hash), ``auditlog.reordered`` (its ``prev_hash`` is another
    row's hash), ``auditlog.chain_broken`` (its ``prev_hash`` is no row's hash: the row before it
    was replaced with a recomputed hash, or deleted and the rows renumbered).
    """
    report = ChainReport()
    expected_seq, prev = 1, GENESIS
    query = select(AuditLogEntry).order_by(AuditLogEntry.seq).execution_options(yield_per=1000)
    rows = session.scalars(query)  # streamed (a server-side cursor on PostgreSQL): closed below
    try:
        for row in rows:
            report.rows += 1
            problem = _check(session, row, expected_seq, prev)
            if problem is not None:
                report.problems.append(problem)
                break
            report.head_seq, report.head_hash = row.seq, row.hash
            expected_seq, prev = row.seq + 1, row.hash
    finally:
        rows.close()
    if report.problems:  # the head as stored, for the anchors' comparison
        report.head_seq, report.head_hash = chain_head(session)
    return report


def _check(session: Session, row: AuditLogEntry, expected_seq: int, prev: str) -> ChainProblem | None:
    if row.seq != expected_seq:
        params = {"first": expected_seq, "last": row.seq - 1, "seq": row.seq}
        return ChainProblem(
            expected_seq,
            "auditlog.row_missing",
            params,
            f"rows {expected_seq} to {row.seq - 1} are missing before row {row.seq} (deleted)",
        )
    if row_hash(row) != row.hash:
        return ChainProblem(
            row.seq,
            "auditlog.row_edited",
            {"seq": row.seq, "action": row.action, "target": row.target},
            f"row {row.seq} ({row.action} {row.target}) no longer matches its hash: it was edited",
        )
    if row.prev_hash != prev:
        other = session.scalar(select(AuditLogEntry.seq).where(AuditLogEntry.hash == row.prev_hash))
        if other is not None:
            return ChainProblem(
                row.seq,
                "auditlog.reordered",
                {"seq": row.seq, "other": other, "before": row.seq - 1},
                f"row {row.seq} follows row {other} in the chain, not row {row.seq - 1}: rows were reordered",
            )
        return ChainProblem(
            row.seq,
            "auditlog.chain_broken",
            {"seq": row.seq, "before": row.seq - 1},
            f"row {row.seq} does not follow row {row.seq - 1}: row {row.seq - 1} was replaced "
            "(its hash recomputed) or rows were deleted and renumbered",
        )
    return None
