"""The catalog journal: every decision about the records, written to storage before it is committed.

The AIPs carry what was submitted and how it was preserved; the archive's own decisions about the
records (hồ sơ and tài liệu as registered, source agencies, phông, restrictions and their lifting,
changes of mức độ tiếp cận, transfer plans, transfers and their acceptance, declared totals,
retention schedules) exist first in the catalog. So that ``kholuu rebuild-catalog`` can restore
them from storage alone, each transaction that changes one of those tables writes one **journal
entry** into every storage location, under the key folder ``catalog-journal/`` beside the OCFL
storage root, before the transaction commits:

* An entry is a JSON Lines file named ``<UTC time>-<uuid>.jsonl`` (names sort in commit order):
  a header line ``{"format", "kind", "written_at"}``, then one line per row, either
  ``{"table", "op": "put", "row": {column: value}}`` (the row as committed, every column) or
  ``{"table", "op": "delete", "key": {...}}``.
* A location with no journal yet (a new home, a location added later, a home from before the
  journal) first gets a ``snapshot`` entry: every row of those tables as of this transaction.
* The entry goes through the storage backend interface (``write_atomic``: temporary key, read back
  and compared with the SHA-256 computed while writing, then made visible), so it works the same
  on local disk and S3. It is streamed from a spooled temporary file, never held whole in memory.
* Every configured location is tried. A location that cannot be written is logged and skipped: the
  rebuild merges the journals of all reachable locations (entries are immutable and uniquely
  named), so one that missed an entry is covered by another. When **no** location takes the
  entry, the commit is refused (``journal.not_written``): a decision storage does not hold is
  not made.

Why a journal rather than a new AIP version per decision: agencies, phông, plans, declared totals
and rejected transfers belong to no AIP; and a new OCFL version for each restriction would rewrite
the package METS for a catalog fact. The next AIP version still carries the events since the last
one (``workflows.custody.update``). Known limit: an entry is written before the database commit, so a
commit that fails after the entry landed (the database server lost at that instant) leaves an
entry for a change that was not made; the rebuild then restores that change.

Capture is automatic for sessions made by :func:`attach_journal`: ORM flushes of those tables and
ORM-enabled ``update()``/``delete()`` statements on them are noted, and the rows' state is read
back inside the transaction just before commit, so the entry holds exactly what commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy import Date, Table, delete, event, func, insert, inspect, select, text, update
from sqlalchemy import Enum as SaEnum
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from repository.catalog import records as _records  # noqa: F401  (the tables below are defined there)
from repository.catalog.base import Base, UtcDateTime, json_value
from repository.catalog.models import Aip
from repository.settings import Settings
from repository.storage.backend import Backend, join_key
from repository.storage.errors import StorageError
from repository.storage.locations import Location, open_locations

__all__ = [
    "JOURNAL_PREFIX",
    "RECORD_TABLES",
    "JournalError",
    "ReplayReport",
    "attach_journal",
    "replay_journal",
]

log = logging.getLogger("kholuu.journal")

JOURNAL_PREFIX = "catalog-journal"
FORMAT = "kholuu-catalog-journal/1"
RECORD_TABLES = (
    "fonds",
    "source_agency",
    "retention_schedule",
    "retention_item",
    "transfer_plan",
    "dossier",
    "document",
    "document_file",
    "access_restriction",
    "access_change",
    "transfer",
    "declared_total",
)
"""The tables whose rows are the archive's decisions about the records (``repository.catalog.records``)."""

_JOURNAL = "kholuu.journal"
_PENDING = "kholuu.journal.pending"
_SPOOL = 1 << 20


class JournalError(StorageError):
    """No storage location took the journal entry of a change: the change is not committed."""

    code = "journal.not_written"


def attach_journal(sessions: sessionmaker[Session], settings: Settings) -> sessionmaker[Session]:
    """Make every session of ``sessions`` journal its changes to the records tables (see module)."""
    sessions.configure(info={_JOURNAL: _Writer(settings)})
    return sessions


def tables() -> list[Table]:
    """The journaled tables, parents before children (the order rows are inserted in)."""
    return [t for t in Base.metadata.sorted_tables if t.name in RECORD_TABLES]


# ------------------------------------------------------------------------------------ capture


def _pending(session: Session) -> dict[tuple[str, tuple[Any, ...]], None]:
    return session.info.setdefault(_PENDING, {})  # type: ignore[no-any-return]


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if session.info.get(_JOURNAL) is None:
        return
    pending = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__table__", None)
        if table is None or table.name not in RECORD_TABLES:
            continue
        key = tuple(inspect(obj).mapper.primary_key_from_instance(obj))
        if None not in key:
            pending[(table.name, key)] = None


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    """Note the rows an ORM-enabled UPDATE or DELETE is about to change (read before it runs:
    afterwards its WHERE may no longer match them)."""
    session = state.session
    if session.info.get(_JOURNAL) is None or not (state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name not in RECORD_TABLES:
        return
    table = Base.metadata.tables[name]
    query = select(*table.primary_key.columns)
    where = getattr(state.statement, "whereclause", None)
    if where is not None:
        query = query.where(where)
    pending = _pending(session)
    for key in session.execute(query):
        pending[(name, tuple(key))] = None


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    writer = session.info.get(_JOURNAL)
    if writer is None:
        return
    session.flush()
    pending = _pending(session)
    if pending:
        writer.write(session, list(pending))
        pending.clear()


@event.listens_for(Session, "after_transaction_end")
def _transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# ------------------------------------------------------------------------------------ writing


def _row(table: Table, row: Any) -> dict[str, Any]:
    return {c.name: json_value(row._mapping[c]) for c in table.columns}


@dataclass
class _Writer:
    """Writes the entries of one home's sessions; remembers which locations have a journal."""

    settings: Settings
    started: set[str] = field(default_factory=set)

    def write(self, session: Session, keys: list[tuple[str, tuple[Any, ...]]]) -> None:
        now = datetime.now(UTC)
        name = f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{uuid.uuid4()}.jsonl"
        changes: IO[bytes] | None = None
        written: list[str] = []
        failures: dict[str, str] = {}
        try:
            locations = open_locations(self.settings)
        except StorageError as exc:  # a location that cannot even be set up: nothing is written
            locations, failures[exc.location or "?"] = [], f"{exc.code}: {exc}"
        if not locations and not failures:
            return  # no storage configured at all: there is nowhere to journal to
        with ExitStack() as spools:
            for location in locations:
                try:
                    if self._has_journal(location.backend):
                        if changes is None:
                            changes = spools.enter_context(
                                self._spool(now, "changes", self._changes(session, keys))
                            )
                        entry = changes
                    else:
                        entry = spools.enter_context(self._spool(now, "snapshot", self._snapshot(session)))
                    self._put(location, name, entry)
                    written.append(location.name)
                    self.started.add(location.name)
                except StorageError as exc:
                    failures[location.name] = f"{exc.code}: {exc}"
                    log.warning("journal entry %s not written to %s: %s", name, location.name, exc)
        if not written:
            raise JournalError(
                f"the catalog change could not be journaled in any storage location: {failures}",
                code="journal.not_written",
                key=join_key(JOURNAL_PREFIX, name),
                params={"locations": ", ".join(f"{k} ({v})" for k, v in failures.items())},
            )

    def _has_journal(self, backend: Backend) -> bool:
        if backend.name in self.started:
            return True
        return next(iter(backend.iter_keys(JOURNAL_PREFIX)), None) is not None

    @staticmethod
    def _put(location: Location, name: str, entry: IO[bytes]) -> None:
        entry.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: entry.read(1 << 16), b""):
            digest.update(block)
        entry.seek(0)
        location.backend.write_atomic(
            join_key(JOURNAL_PREFIX, name),
            entry,  # type: ignore[arg-type]
            expected={"sha256": digest.hexdigest()},
        )

    @staticmethod
    def _spool(now: datetime, kind: str, lines: Iterable[dict[str, Any]]) -> IO[bytes]:
        out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115  (closed by the caller)
        header = {"format": FORMAT, "kind": kind, "written_at": now.isoformat()}
        for line in _chain(header, lines):
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
        return out

    @staticmethod
    def _changes(session: Session, keys: list[tuple[str, tuple[Any, ...]]]) -> Iterator[dict[str, Any]]:
        """The committed state of every noted row: parents first, deletions last (children first)."""
        order = {t.name: i for i, t in enumerate(tables())}
        deletions: list[dict[str, Any]] = []
        for name, key in sorted(keys, key=lambda k: (order[k[0]], k[1])):
            table = Base.metadata.tables[name]
            pk = list(table.primary_key.columns)
            row = session.execute(
                select(table).where(*(c == v for c, v in zip(pk, key, strict=True)))
            ).first()
            if row is None:
                deletions.append(
                    {
                        "table": name,
                        "op": "delete",
                        "key": {c.name: json_value(v) for c, v in zip(pk, key, strict=True)},
                    }
                )
            else:
                yield {"table": name, "op": "put", "row": _row(table, row)}
        yield from reversed(deletions)

    @staticmethod
    def _snapshot(session: Session) -> Iterator[dict[str, Any]]:
        for table in tables():
            query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=500)
            for row in session.execute(query):
                yield {"table": table.name, "op": "put", "row": _row(table, row)}


def _chain(header: dict[str, Any], lines: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield header
    yield from lines


# ------------------------------------------------------------------------------------ replay


@dataclass
class ReplayReport:
    """What the rebuild restored from the journal.

    Attributes:
        entries: entries read (merged over the locations, each once).
        rows: table -> rows written (puts) in the catalog.
        deleted: table -> rows removed.
        skipped: table -> rows not restored because they are about an AIP the catalog lacks.
        failed: entry name -> error code and text (nothing of that entry was written).
        unreachable: location -> why its journal could not be read.
    """

    entries: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "rows": dict(self.rows),
            "deleted": dict(self.deleted),
            "skipped": dict(self.skipped),
            "failed": dict(self.failed),
            "unreachable_locations": dict(self.unreachable),
        }


def replay_journal(settings: Settings, sessions: sessionmaker[Session]) -> ReplayReport:
    """Apply every journal entry of every reachable location to the catalog, oldest first.

    Entries are merged by name over the locations and each is applied once, in its own
    transaction: a ``put`` makes the row exactly as journaled (inserted, or updated in place), a
    ``delete`` removes it. A row about an AIP the catalog does not have (one that could not be
    rebuilt), and the rows that depend on it (its tài liệu, their files, restrictions, access
    changes), are skipped and counted in ``skipped``: the rest of the entry still applies. An entry
    that cannot be applied at all is reported in ``failed`` and the next one is still applied.
    PostgreSQL sequences are moved past the restored ids afterwards, so new rows do not collide.
    """
    report = ReplayReport()
    skipped: set[tuple[str, tuple[Any, ...]]] = set()
    sources: dict[str, Location] = {}
    for location in open_locations(settings):
        try:
            for key in location.backend.iter_keys(JOURNAL_PREFIX):
                sources.setdefault(key, location)
        except StorageError as exc:
            report.unreachable[location.name] = f"{exc.code}: {exc}"
    for key in sorted(sources):
        report.entries += 1
        try:
            with sessions(info={_JOURNAL: None}) as session, session.begin():
                _apply(session, sources[key], key, report, skipped)  # not journaled again: it is the journal
        except (StorageError, SQLAlchemyError, ValueError, KeyError, TypeError) as exc:
            report.failed[key] = f"{getattr(exc, 'code', type(exc).__name__)}: {exc}"
    with sessions(info={_JOURNAL: None}) as session, session.begin():
        _move_sequences(session)
    return report


def _apply(
    session: Session,
    location: Location,
    key: str,
    report: ReplayReport,
    skipped: set[tuple[str, tuple[Any, ...]]],
) -> None:
    rows: dict[str, int] = {}
    deleted: dict[str, int] = {}
    aips = set(session.scalars(select(Aip.id)))
    with location.backend.open_read(key) as fh:
        header = json.loads(fh.readline())
        if header.get("format") != FORMAT:
            raise ValueError(f"format is {header.get('format')!r}, this version reads {FORMAT!r}")
        for raw in fh:
            line = json.loads(raw)
            if line["table"] not in RECORD_TABLES:
                raise ValueError(f"table {line['table']!r} is not journaled")
            table = Base.metadata.tables[line["table"]]
            if line["op"] == "put":
                values = _decode(table, line["row"])
                if _orphan(table, values, aips, skipped):
                    skipped.add((table.name, tuple(values[c.name] for c in table.primary_key.columns)))
                    report.skipped[table.name] = report.skipped.get(table.name, 0) + 1
                    continue
                _put(session, table, values)
                rows[table.name] = rows.get(table.name, 0) + 1
            elif line["op"] == "delete":
                values = _decode(table, line["key"])
                pk = list(table.primary_key.columns)
                session.execute(delete(table).where(*(c == values[c.name] for c in pk)))
                deleted[table.name] = deleted.get(table.name, 0) + 1
            else:
                raise ValueError(f"unknown operation {line['op']!r}")
    for name, count in rows.items():
        report.rows[name] = report.rows.get(name, 0) + count
    for name, count in deleted.items():
        report.deleted[name] = report.deleted.get(name, 0) + count


def _orphan(
    table: Table, values: dict[str, Any], aips: set[str], skipped: set[tuple[str, tuple[Any, ...]]]
) -> bool:
    """Whether the row refers to an AIP the catalog lacks, or to a row skipped for that reason."""
    for fk in table.foreign_keys:
        value = values.get(fk.parent.name)
        if value is None:
            continue
        target = fk.column.table.name
        if (target == Aip.__tablename__ and value not in aips) or (target, (value,)) in skipped:
            return True
    return False


def _put(session: Session, table: Table, values: dict[str, Any]) -> None:
    pk = list(table.primary_key.columns)
    where = [c == values[c.name] for c in pk]
    if session.execute(select(*pk).where(*where)).first() is None:
        session.execute(insert(table).values(**values))
    else:
        session.execute(update(table).where(*where).values(**values))


def _decode(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in data.items():
        column = table.columns[name]
        if value is not None:
            kind = column.type
            if isinstance(kind, UtcDateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(kind, Date):
                value = date.fromisoformat(value)
            elif isinstance(kind, SaEnum) and kind.enum_class is not None:
                value = kind.enum_class(value)
        out[name] = value
    return out


def _move_sequences(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
            continue
        highest = session.execute(select(func.max(pk[0]))).scalar()
        if highest is None:
            continue
        session.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, :column), :value)"),
            {"table": table.name, "column": pk[0].name, "value": highest},
        )
