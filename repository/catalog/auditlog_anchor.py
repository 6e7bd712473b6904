"""The audit log's head, anchored in storage, so that the catalog alone cannot rewrite history.

The hash chain (:mod:`repository.catalog.auditlog`) shows an edited, deleted or reordered row, but
not a log whose newest rows were deleted, nor one rebuilt from scratch with fresh hashes: both are
consistent chains. So each fixity audit run (``kholuu audit`` and the scheduler's) writes the
current head into every storage location, beside the OCFL storage root:

* key ``audit-log-anchors/<UTC time>-<seq>.json``, a small JSON object ``{"format", "seq",
  "hash", "at", "written_at", "run_id"}`` (``at``: the head row's time);
* through the storage backend interface (``write_atomic`` with the SHA-256 of the bytes expected:
  written under a temporary key, read back and compared, then made visible), the same on local
  disk and S3; a location that cannot be written is logged and reported, the others still get it.

:func:`verify_log` then checks the chain and every anchor found in any location: the row at the
anchored ``seq`` must still exist with the anchored hash. A catalog whose chain ends before an
anchor lost its newest rows after that anchor (``auditlog.anchor_beyond_head``); a row whose hash
differs from the anchor's was rewritten (``auditlog.anchor_mismatch``). Anchors are never deleted
by Kho Lưu; on S3 with Object Lock (``object_lock_mode``) they cannot be deleted before their
retention ends either.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.auditlog import ChainProblem, ChainReport, chain_head, verify_chain
from repository.catalog.models import AuditLogEntry
from repository.settings import Settings
from repository.storage.backend import join_key
from repository.storage.errors import StorageError
from repository.storage.locations import Location, open_locations

__all__ = [
    "ANCHOR_PREFIX",
    "Anchor",
    "AnchorWrite",
    "LogReport",
    "read_anchors",
    "verify_log",
    "write_anchor",
]

log = logging.getLogger("kholuu.auditlog")

ANCHOR_PREFIX = "audit-log-anchors"
FORMAT = "kholuu-audit-log-anchor/1"


@dataclass(frozen=True)
class Anchor:
    """One anchored head, as read from a location."""

    location: str
    key: str
    seq: int
    hash: str
    at: str
    written_at: str
    run_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "key": self.key,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "written_at": self.written_at,
            "run_id": self.run_id,
        }


@dataclass
class AnchorWrite:
    """What :func:`write_anchor` did: the head anchored and where it went (or why not)."""

    seq: int = 0
    hash: str = ""
    key: str = ""
    written: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash or None,
            "key": self.key or None,
            "written": list(self.written),
            "failed": dict(self.failed),
        }


def write_anchor(settings: Settings, sessions: sessionmaker[Session], *, run_id: str = "") -> AnchorWrite:
    """Write the log's current head to every storage location (nothing when the log is empty).

    Never raises for a location that cannot be written: the fixity audit that calls this must not
    fail for it; the failure is logged and returned in ``failed``.
    """
    with sessions() as session:
        seq, digest = chain_head(session)
        at = session.scalar(select(AuditLogEntry.at).where(AuditLogEntry.seq == seq))
    result = AnchorWrite(seq=seq, hash=digest if seq else "")
    if not seq or at is None:
        return result
    now = datetime.now(UTC)
    result.key = join_key(ANCHOR_PREFIX, f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{seq:010d}.json")
    body = {
        "format": FORMAT,
        "seq": seq,
        "hash": digest,
        "at": at.astimezone(UTC).isoformat(),
        "written_at": now.isoformat(),
        "run_id": run_id,
    }
    data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
    expected = {"sha256": hashlib.sha256(data).hexdigest()}
    try:
        locations = open_locations(settings)
    except StorageError as exc:
        result.failed[exc.location or "?"] = f"{exc.code}: {exc}"
        return result
    for location in locations:
        try:
            location.backend.write_atomic(result.key, io.BytesIO(data), expected=expected)
            result.written.append(location.name)
        except StorageError as exc:
            result.failed[location.name] = f"{exc.code}: {exc}"
            log.warning("audit log anchor %s not written to %s: %s", result.key, location.name, exc)
    return result


def read_anchors(settings: Settings) -> tuple[list[Anchor], dict[str, str], list[ChainProblem]]:
    """Every anchor of every reachable location, oldest first.

    Returns:
        The anchors; the locations that could not be listed (name -> why); and a problem
        (``auditlog.anchor_unreadable``) for each anchor that is not a well-formed anchor (an
        anchor edited in storage is itself a sign of tampering).
    """
    anchors: list[Anchor] = []
    unreachable: dict[str, str] = {}
    unreadable: list[ChainProblem] = []
    for location in open_locations(settings):
        try:
            keys = list(location.backend.iter_keys(ANCHOR_PREFIX))
        except StorageError as exc:
            unreachable[location.name] = f"{exc.code}: {exc}"
            continue
        for key in keys:
            try:
                anchors.append(_read(location, key))
            except StorageError as exc:
                unreachable[location.name] = f"{exc.code}: {exc}"
            except (ValueError, KeyError, TypeError) as exc:
                params = {"location": location.name, "key": key, "problem": str(exc)}
                text = f"the anchor {key} in {location.name} is not readable: {exc}"
                unreadable.append(ChainProblem(0, "auditlog.anchor_unreadable", params, text))
    anchors.sort(key=lambda a: (a.written_at, a.seq, a.location))
    return anchors, unreachable, unreadable


def _read(location: Location, key: str) -> Anchor:
    with location.backend.open_read(key) as fh:
        body = json.loads(fh.read(1 << 16).decode("utf-8"))
    if body.get("format") != FORMAT:
        raise ValueError(f"format is {body.get('format')!r}, this version reads {FORMAT!r}")
    seq, digest = body["seq"], body["hash"]
    if not isinstance(seq, int) or seq < 1 or not isinstance(digest, str) or len(digest) != 64:
        raise ValueError("seq or hash is not valid")
    return Anchor(
        location.name, key, seq, digest, str(body["at"]), str(body["written_at"]), str(body["run_id"])
    )


@dataclass
class LogReport:
    """The chain and its anchors: what ``kholuu auditlog verify`` reports."""

    chain: ChainReport
    anchors: list[Anchor] = field(default_factory=list)
    problems: list[ChainProblem] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    @property
    def first(self) -> ChainProblem | None:
        """The first problem: the chain's, else the oldest anchor's."""
        if self.chain.problems:
            return self.chain.problems[0]
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        latest = self.anchors[-1].as_dict() if self.anchors else None
        return {
            "ok": self.ok,
            "rows": self.chain.rows,
            "head": {"seq": self.chain.head_seq, "hash": self.chain.head_hash},
            "first_problem": self.first.as_dict() if self.first else None,
            "chain_problems": [p.as_dict() for p in self.chain.problems],
            "anchor_problems": [p.as_dict() for p in self.problems],
            "anchors_checked": len(self.anchors),
            "latest_anchor": latest,
            "unreachable_locations": dict(self.unreachable),
        }


def verify_log(settings: Settings, session: Session) -> LogReport:
    """Verify the chain, then compare it with every anchor in storage (see the module docstring)."""
    report = LogReport(chain=verify_chain(session))
    anchors, report.unreachable, report.problems = read_anchors(settings)
    report.anchors = anchors
    seen: set[tuple[int, str]] = set()
    for anchor in anchors:
        if (anchor.seq, anchor.hash) in seen:
            continue
        seen.add((anchor.seq, anchor.hash))
        problem = _compare(session, anchor, report.chain.head_seq)
        if problem is not None:
            report.problems.append(problem)
    report.problems.sort(key=lambda p: p.seq)
    return report


def _compare(session: Session, anchor: Anchor, head: int) -> ChainProblem | None:
    stored = session.scalar(select(AuditLogEntry.hash).where(AuditLogEntry.seq == anchor.seq))
    params = {
        "seq": anchor.seq,
        "head": head,
        "location": anchor.location,
        "written_at": anchor.written_at,
        "key": anchor.key,
    }
    if stored is None and anchor.seq > head:
        return ChainProblem(
            anchor.seq,
            "auditlog.anchor_beyond_head",
            params,
            f"the anchor written to {anchor.location} at {anchor.written_at} holds row {anchor.seq}, but "
            f"the catalog's log ends at row {head}: rows were deleted after the anchor",
        )
    if stored is None:
        return ChainProblem(
            anchor.seq,
            "auditlog.anchor_row_missing",
            params,
            f"row {anchor.seq}, anchored in {anchor.location} at {anchor.written_at}, is missing",
        )
    if stored != anchor.hash:
        return ChainProblem(
            anchor.seq,
            "auditlog.anchor_mismatch",
            params,
            f"row {anchor.seq} is not the row anchored in {anchor.location} at {anchor.written_at}: "
            "the log was rewritten after the anchor",
        )
    return None
