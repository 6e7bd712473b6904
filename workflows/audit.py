"""Fixity audits: read every stored copy again, find damage, repair it from a good copy.

ISO 16363 5.1.1.3 asks a repository to detect bit corruption or loss, 5.1.2 to know the number and
location of its copies, 3.3.5 to keep integrity measurements. An audit of one copy (one AIP in one
location) streams every key of the OCFL object straight from the backend, in bounded memory and
never through a temporary copy of the package, and checks it against:

* the OCFL inventory (sha512 of every content file, the SHA-256 ``fixity`` block, inventory
  sidecars, missing and unexpected files: :func:`repository.storage.ocfl_verify.verify_object`);
* the catalog (the SHA-256 and SHA-512 recorded at ingest for every file of every version);
* the package's own manifests (the CHECKSUM of every file the root and representation METS of the
  current version reference).

Repair, on unless the location says ``repair = false``: a damaged or missing key is rewritten from
another location whose copy agrees with the catalog, streamed and checked against the expected
digest before it becomes visible (``write_atomic(expected=...)``), read back, and the object is
verified again. A file not in the inventory is moved aside to ``lost-and-found/`` outside the OCFL
root (never deleted: it may be someone's lost work). Damage with no good copy anywhere opens an
:class:`Incident` that stays open until a person acknowledges it. Every copy checked gets a PREMIS
``fixity check`` event, every repair a ``recovery`` event, and the copy its last-checked time and
outcome, so the next audit picks the copies checked longest ago.

A location that cannot be reached is "could not check" (style guide item 15): never damage, never
repaired. Two auditors never work on the same location at once: each takes a lease row first.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import PreservationError
from preservation.events import Event, EventType, Outcome
from preservation.findings import Finding, Severity
from preservation.mets_read import MetsReadError, read_mets
from preservation.premis_read import read_premis
from repository.catalog import store
from repository.catalog.models import (
    Aip,
    AipStatus,
    AuditFinding,
    AuditRun,
    Copy,
    CopyStatus,
    File,
    Incident,
    Job,
    JobStatus,
)
from repository.settings import Settings
from repository.storage.backend import digest_key, join_key
from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError
from repository.storage.locations import Location, open_locations
from repository.storage.ocfl import ROOT_PREFIX
from repository.storage.ocfl_inventory import INVENTORY, SIDECAR, fixity_of, read_json, read_sidecar
from workflows.audit_leases import recently_audited, release_lease, renew_lease, take_lease
from workflows.incidents import acknowledge_incident, incident_dict
from workflows.jobs import JobSpec, Workflow, run_job, workflow_agent
from workflows.recovery import recover_interrupted

log = logging.getLogger("kholuu.audit")

LOST_AND_FOUND = "lost-and-found"
"""Key folder (outside the OCFL root) where files found inside an object but not in its inventory
are moved, per audit run, so that the object is valid again and nothing is thrown away."""

KIND_OF_CODE = {
    "ocfl.digest_mismatch": "corrupt",
    "ocfl.inventory_sidecar": "corrupt",
    "ocfl.head_inventory_differs": "corrupt",
    "ocfl.inventory_invalid": "corrupt",
    "ocfl.missing_file": "missing",
    "ocfl.unexpected_file": "unexpected",
}


@dataclass(frozen=True)
class AuditOptions:
    """What to audit. ``mode``: ``due`` (not checked within the cycle, oldest first) or ``all``."""

    mode: str = "due"
    location: str | None = None
    limit: int | None = None
    budget_bytes: int | None = None
    trigger: str = "cli"
    now: datetime | None = None
    skip_if_run_within: timedelta | None = None
    """For the scheduler: a location another process audited this recently is left alone, so two
    scheduler processes firing the same slot do not audit it twice."""


@dataclass
class CopyResult:
    aip_id: str
    version: int
    location: str
    outcome: str  # passed | repaired | failed | could not check
    files: int = 0
    bytes: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "aip_id": self.aip_id,
            "version": self.version,
            "location": self.location,
            "outcome": self.outcome,
            "files": self.files,
            "bytes": self.bytes,
            "problems": self.problems,
        }


@dataclass
class AuditReport:
    run_id: str
    mode: str
    location: str | None
    copies: list[CopyResult] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    incidents: int = 0
    unregistered: list[dict[str, Any]] = field(default_factory=list)
    """Objects in storage the catalog does not know (a full audit lists every object)."""

    @property
    def ok(self) -> bool:
        return all(c.outcome in ("passed", "repaired") for c in self.copies)

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.copies if c.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "location": self.location,
            "ok": self.ok,
            "copies_checked": len(self.copies),
            "passed": self.count("passed"),
            "repaired": self.count("repaired"),
            "failed": self.count("failed"),
            "could_not_check": self.count("could not check"),
            "files": sum(c.files for c in self.copies),
            "bytes": sum(c.bytes for c in self.copies),
            "incidents_opened": self.incidents,
            "busy_locations": self.busy,
            "unregistered_objects": self.unregistered,
            "copies": [c.as_dict() for c in self.copies],
        }


@dataclass(frozen=True)
class _Due:
    copy_id: int
    aip_id: str
    version: int
    location: str
    size: int


def due_copies(
    session: Session,
    *,
    location: str | None,
    mode: str,
    now: datetime,
    cycle_days: int,
    limit: int | None,
) -> list[tuple[int, str, int, str, datetime | None]]:
    """(copy id, AIP id, version, location, last check) to audit, never-checked first, then oldest
    check first.

    Only stored copies of current versions. The (location, last_checked_at) index makes the cost
    grow with the number of due copies read, not with the size of the catalog.
    """
    query = (
        select(Copy.id, Copy.aip_id, Copy.version, Copy.location, Copy.last_checked_at)
        .join(Aip, Aip.id == Copy.aip_id)
        .where(Copy.status == CopyStatus.STORED, Copy.version == Aip.current_version)
        .order_by(Copy.last_checked_at.asc().nulls_first(), Copy.id)
    )
    if location is not None:
        query = query.where(Copy.location == location)
    if mode == "due":
        cutoff = now - timedelta(days=cycle_days)
        query = query.where(or_(Copy.last_checked_at.is_(None), Copy.last_checked_at < cutoff))
    if limit:
        query = query.limit(limit)
    return [(int(a), str(b), int(c), str(d), e) for a, b, c, d, e in session.execute(query)]


def run_audit(settings: Settings, sessions: sessionmaker[Session], options: AuditOptions) -> AuditReport:
    """Audit the copies the options select, as one job (kind ``audit``); returns what was found and done."""
    recover_interrupted(settings, sessions)  # a crashed job must not leave its AIP "busy" for ever
    now = options.now or datetime.now(UTC)
    run_id = str(uuid.uuid4())
    holder = f"{socket.gethostname()}:{os.getpid()}:{run_id[:8]}"
    locations = {loc.name: loc for loc in open_locations(settings)}
    if options.location is not None and options.location not in locations:
        raise NotFound(
            f"no storage location {options.location!r}",
            code="storage.location_unknown",
            location=options.location,
        )
    report = AuditReport(run_id=run_id, mode=options.mode, location=options.location)
    agent = workflow_agent(Workflow.AUDIT)
    wanted = [options.location] if options.location else list(locations)
    held: list[str] = []
    for name in wanted:
        if take_lease(sessions, name, holder, run_id, now, settings.audit.lease_seconds):
            held.append(name)
        else:
            report.busy.append(name)
    if options.skip_if_run_within is not None:
        recent = recently_audited(sessions, held, datetime.now(UTC) - options.skip_if_run_within)
        for name in recent:
            release_lease(sessions, name, holder)
            report.busy.append(name)
        held = [name for name in held if name not in recent]
    if not held and options.trigger == "scheduler":
        return report  # another scheduler process has this slot: nothing to record
    spec = JobSpec(
        kind=Workflow.AUDIT,
        source=options.location or "all locations",
        source_name=options.location or "",
        options={"run_id": run_id, "mode": options.mode, "trigger": options.trigger, "limit": options.limit},
    )
    with run_job(settings, sessions, spec, recover=False):
        _run_held(settings, sessions, options, report, locations, held, holder, run_id, agent, now)
    _log_outcome(report)
    return report


def _run_held(
    settings: Settings,
    sessions: sessionmaker[Session],
    options: AuditOptions,
    report: AuditReport,
    locations: dict[str, Location],
    held: list[str],
    holder: str,
    run_id: str,
    agent: Any,
    now: datetime,
) -> None:
    """The audit run proper, over the locations whose lease this run holds."""
    with sessions.begin() as session:
        session.add(
            AuditRun(
                id=run_id,
                started_at=now,
                status="running",
                trigger=options.trigger,
                mode=options.mode,
                location=options.location,
                holder=holder,
            )
        )
    try:
        with sessions() as session:
            selected = [
                row
                for name in held
                for row in due_copies(
                    session,
                    location=name,
                    mode=options.mode,
                    now=now,
                    cycle_days=settings.audit.cycle_days,
                    limit=options.limit,
                )
            ]
            oldest = datetime.min.replace(tzinfo=UTC)
            selected.sort(key=lambda row: (row[4] is not None, row[4] or oldest, row[0]))  # across locations
            sizes = _copy_sizes(session, {(row[1], row[2]) for row in selected})
        if options.limit:
            selected = selected[: options.limit]
        spent = 0
        lost: set[str] = set()
        down: dict[str, StorageError | None] = {}
        for _copy_id, aip_id, version, name, _last in selected:
            if name in lost:
                continue
            size = sizes.get((aip_id, version), 0)
            if options.budget_bytes is not None and spent and spent + size > options.budget_bytes:
                break
            if name not in down:
                down[name] = _reachable(locations[name])  # once per location and run
            problem = down[name]
            if problem is not None:  # a missing bucket must not read as every object missing
                empty = CopyResult(aip_id=aip_id, version=version, location=name, outcome="could not check")
                result = _could_not_check(sessions, run_id, empty, agent, now, problem.code, str(problem))
            else:
                result = _audit_copy(settings, sessions, locations, name, aip_id, version, run_id, agent, now)
            spent += result.bytes
            report.copies.append(result)
            if not renew_lease(sessions, name, holder, settings.audit.lease_seconds):
                log.error("lost the audit lease of %s (run %s): stopping there", name, run_id)
                lost.add(name)
        if options.mode == "all" and not options.limit and options.budget_bytes is None:
            report.unregistered = _unregistered(sessions, locations, held, run_id, now)
        with sessions() as session:
            report.incidents = len(
                list(session.scalars(select(Incident.id).where(Incident.run_id == run_id)))
            )
        _finish_run(sessions, run_id, report, "completed")
    except BaseException as exc:
        _finish_run(sessions, run_id, report, "failed", message=str(exc))
        raise
    finally:
        for name in held:
            release_lease(sessions, name, holder)


def _unregistered(
    sessions: sessionmaker[Session],
    locations: dict[str, Location],
    held: list[str],
    run_id: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Objects a location holds that the catalog does not know and no running job is writing.

    Recovery removes what a dead job left before the audit starts; what is still here is a leftover
    recovery could not reach, or an AIP the catalog lost. Either way a person must look: the audit
    records a finding (never deletes the object), which the fixity report lists.
    """
    with sessions() as session:
        known = set(session.scalars(select(Aip.id)))
        known |= {
            str(a)
            for a in session.scalars(
                select(Job.aip_id).where(Job.status == JobStatus.RUNNING, Job.aip_id.is_not(None))
            )
        }
    found: list[dict[str, Any]] = []
    for name in held:
        try:
            stray = [o for o in locations[name].store.list_objects() if o not in known]
        except StorageError as exc:
            log.warning("audit %s: could not list the objects of %s: %s", run_id, name, exc)
            continue
        for object_id in sorted(stray):
            found.append({"location": name, "object_id": object_id, "code": "audit.unregistered_object"})
    if found:
        with sessions.begin() as session:
            for item in found:
                session.add(
                    AuditFinding(
                        run_id=run_id,
                        aip_id=item["object_id"],
                        version=0,
                        location=item["location"],
                        path="",
                        kind="unregistered",
                        code="audit.unregistered_object",
                        message=f"location {item['location']!r} holds object {item['object_id']}, which the "
                        "catalog does not know (an interrupted job's leftover, or an AIP the catalog lost)",
                        detected_at=now,
                        repair="none",
                    )
                )
    return found


# ----------------------------------------------------------------------------------- one copy


def _audit_copy(
    settings: Settings,
    sessions: sessionmaker[Session],
    locations: dict[str, Location],
    name: str,
    aip_id: str,
    version: int,
    run_id: str,
    agent: Any,
    now: datetime,
) -> CopyResult:
    location = locations[name]
    with sessions() as session:
        files = list(session.scalars(select(File).where(File.aip_id == aip_id)))
        holders = [
            c.location
            for c in session.scalars(
                select(Copy).where(
                    Copy.aip_id == aip_id, Copy.version == version, Copy.status == CopyStatus.STORED
                )
            )
        ]
        busy = session.scalars(
            select(Job.id).where(Job.aip_id == aip_id, Job.status == JobStatus.RUNNING)
        ).first()
    expected = {(f.version, f.aip_path): f for f in files}
    current = {f.aip_path: f for f in files if f.version == version}
    result = CopyResult(aip_id=aip_id, version=version, location=name, outcome="passed")
    result.files = len({f.sha512 for f in files})
    result.bytes = sum({f.sha512: f.size for f in files}.values())
    if busy is not None:  # an update of this AIP is being written: its keys are in motion
        return _could_not_check(sessions, run_id, result, agent, now, "audit.object_busy",
                                f"job {busy} is writing this AIP; it is checked on the next run")  # fmt: skip
    try:
        before = _inventory_digest(location, aip_id)
        problems = _check(location, aip_id, expected, current)
    except NotFound as exc:
        if exc.code != "ocfl.object_not_found" and exc.code != "ocfl.missing_file":
            raise
        problems = [{"path": "", "kind": "missing", "code": exc.code, "message": str(exc)}]
    except StorageError as exc:  # unreachable, access refused, ...: says nothing about the object
        return _could_not_check(sessions, run_id, result, agent, now, exc.code, str(exc))
    if not problems:
        _record(sessions, run_id, result, [], agent, now, repaired_events=[])
        return result
    if before is not None and _inventory_digest(location, aip_id) != before:
        return _could_not_check(sessions, run_id, result, agent, now, "audit.object_changed",
                                "the object changed while it was being checked")  # fmt: skip
    findings: list[dict[str, Any]] = []
    repaired_events: list[Event] = []
    sources = [locations[h] for h in holders if h != name and h in locations]
    try:
        for problem in problems:
            outcome, source, event = _repair(
                settings, location, sources, aip_id, problem, run_id, agent, expected
            )
            findings.append({**problem, "repair": outcome, "repaired_from": source, "event": event})
            if event is not None:
                repaired_events.append(event)
        after = _check(location, aip_id, expected, current)
    except BackendUnavailable as exc:  # the audited location went away during the repair
        result.problems = [{k: v for k, v in f.items() if k != "event"} for f in findings]
        return _could_not_check(sessions, run_id, result, agent, now, exc.code, str(exc),
                                events=repaired_events)  # fmt: skip
    except NotFound:
        after = problems
    result.problems = [
        {k: v for k, v in f.items() if k != "event"}
        | {"event_id": f["event"].identifier if f["event"] else None}
        for f in findings
    ]
    result.outcome = "repaired" if not after else "failed"
    _record(sessions, run_id, result, findings, agent, now, repaired_events=repaired_events, remaining=after)
    return result


def _reachable(location: Location) -> StorageError | None:
    """Why the location cannot be audited now, or None (one cheap request: S3 HEAD bucket)."""
    check = getattr(location.backend, "check", None)
    try:
        if callable(check):
            check()
        location.backend.stat(join_key(ROOT_PREFIX, "0=ocfl_1.1"))
    except StorageError as exc:
        return exc
    return None


def _could_not_check(
    sessions: sessionmaker[Session],
    run_id: str,
    result: CopyResult,
    agent: Any,
    now: datetime,
    code: str,
    message: str,
    *,
    events: list[Event] | None = None,
) -> CopyResult:
    result.outcome = "could not check"
    result.files = result.bytes = 0
    result.problems.append({"code": code, "path": "", "kind": "unavailable", "message": message})
    _record(sessions, run_id, result, [], agent, now, repaired_events=events or [])
    return result


def _inventory_digest(location: Location, aip_id: str) -> str | None:
    """SHA-512 of the stored root inventory: it changes when anyone publishes a version."""
    key = join_key(ROOT_PREFIX, location.store.object_path(aip_id), INVENTORY)
    try:
        return digest_key(location.backend, key).sha512
    except NotFound:
        return None


def _check(
    location: Location,
    aip_id: str,
    expected: dict[tuple[int, str], File],
    current: dict[str, File],
) -> list[dict[str, Any]]:
    """Every problem of one copy, as dicts (path relative to the object root, kind, code, message)."""
    store = location.store
    found = store.verify_object(aip_id, only="sha256")  # bytes hashed once; SHA-512 compared as records below
    problems = [_problem(f) for f in found if f.severity is Severity.ERROR]
    if any(p["path"] in (INVENTORY, SIDECAR) for p in problems):
        return _one_per_path(problems)  # the inventory itself is damaged: nothing else can be trusted here
    inventory = store.inventory(aip_id)
    sha256_of = fixity_of(inventory, "sha256")
    for (version, aip_path), row in sorted(expected.items()):
        block = inventory["versions"].get(f"v{version}")
        if block is None:
            message = f"version v{version} is in the catalog, not in storage"
            problems.append(_manifest(aip_path, f"v{version}", "catalog.version_missing", message))
            continue
        digest = next((d for d, paths in block["state"].items() if aip_path in paths), None)
        if digest is None:
            message = f"{aip_path} of v{version} is in the catalog, not in storage"
            problems.append(_manifest(aip_path, f"v{version}", "catalog.file_missing", message))
        elif digest.lower() != row.sha512:
            message = f"sha512 of {aip_path} in the inventory is not the one recorded at ingest"
            problems.append(_manifest(aip_path, f"v{version}", "catalog.digest_differs", message))
        else:
            content = inventory["manifest"].get(digest, [None])[0]
            recorded = sha256_of.get(content) if content else None
            if recorded is not None and recorded.lower() != row.sha256:
                message = (
                    f"the SHA-256 fixity of {aip_path} in the inventory is not the one recorded at ingest"
                )
                problems.append(_manifest(aip_path, f"v{version}", "catalog.digest_differs", message))
    problems.extend(_mets_problems(location, aip_id, current))
    problems.extend(_premis_problems(location, aip_id, current))
    return _one_per_path(problems)


def _premis_problems(location: Location, aip_id: str, current: dict[str, File]) -> list[dict[str, Any]]:
    """The fixity each PREMIS file object of the current version records, against the catalog."""
    out: list[dict[str, Any]] = []
    pattern = re.compile(r"(representations/[^/]+/)?metadata/preservation/PREMIS[^/]*\.xml")
    for premis_path in [p for p in current if pattern.fullmatch(p)]:
        try:
            with location.store.open_file(aip_id, premis_path) as fh:
                records = read_premis(fh.read(), premis_path, validate=False)
        except (NotFound, IntegrityError, PreservationError):
            continue  # a damaged or missing PREMIS is already a corrupt/missing file finding
        for f in records.files:
            row = current.get(f.aip_path)
            if row is None:
                message = f"describes {f.aip_path}, which the AIP does not contain"
                out.append(_manifest(f.aip_path, premis_path, "premis.object_missing", message))
            elif (f.sha256.lower(), f.sha512.lower(), f.size) != (row.sha256, row.sha512, row.size):
                message = f"records fixity for {f.aip_path} that differs from the one recorded at ingest"
                out.append(_manifest(f.aip_path, premis_path, "premis.fixity_differs", message))
    return out


def _one_per_path(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One problem per damaged path (a digest and a sidecar check may both fail), messages joined;
    record contradictions stay apart by code, since each names a different record."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for p in problems:
        key = (p["kind"], p["path"], p["code"] if p["kind"] == "manifest" else "")
        if key in merged:
            merged[key]["message"] += "; " + p["message"]
        else:
            merged[key] = dict(p)
    return list(merged.values())


def _problem(f: Finding) -> dict[str, Any]:
    return {
        "path": f.where,
        "kind": KIND_OF_CODE.get(f.code, "corrupt"),
        "code": f.code,
        "message": f.message,
        "expected": f.params.get("expected"),
        "found": f.params.get("found"),
    }


def _manifest(path: str, where: str, code: str, message: str) -> dict[str, Any]:
    return {"path": path, "kind": "manifest", "code": code, "message": f"{where}: {message}"}


def _mets_problems(location: Location, aip_id: str, current: dict[str, File]) -> list[dict[str, Any]]:
    """The CHECKSUM each METS of the current version declares, against the catalog's SHA-256."""
    out: list[dict[str, Any]] = []
    mets_files = [
        p for p in current if p == "METS.xml" or re.fullmatch(r"representations/[^/]+/METS\.xml", p)
    ]
    for mets_path in mets_files:
        try:
            with location.store.open_file(aip_id, mets_path) as fh:
                mets = read_mets(fh, mets_path)
        except (NotFound, IntegrityError, MetsReadError):
            continue  # a damaged or missing METS is already a corrupt/missing file finding
        for ref in mets.references:
            if not ref.checksum or not ref.href or ref.checksum_type != "SHA-256":
                continue
            if ref.target is None:
                message = f"references {ref.href}, outside the package"
                out.append(_manifest(ref.href, mets_path, "mets.reference_missing", message))
                continue
            row = current.get(ref.target)
            if row is None:
                message = f"references {ref.target}, which the AIP does not contain"
                out.append(_manifest(ref.target, mets_path, "mets.reference_missing", message))
            elif row.sha256 != ref.checksum:
                message = f"declares SHA-256 {ref.checksum} for {ref.target}, recorded {row.sha256}"
                out.append(_manifest(ref.target, mets_path, "mets.checksum_differs", message))
    return out


# ------------------------------------------------------------------------------------- repair


def _repair(
    settings: Settings,
    location: Location,
    sources: list[Location],
    aip_id: str,
    problem: dict[str, Any],
    run_id: str,
    agent: Any,
    expected: dict[tuple[int, str], File],
) -> tuple[str, str | None, Event | None]:
    """(repair outcome, source location, PREMIS event) for one problem."""
    if not location.config.repair:
        return "repair off", None, None
    object_key = join_key(ROOT_PREFIX, location.store.object_path(aip_id))
    path = str(problem["path"])
    if problem["kind"] == "unexpected":
        aside = join_key(LOST_AND_FOUND, run_id, location.store.object_path(aip_id), path)
        try:
            with location.backend.open_read(join_key(object_key, path)) as fh:
                location.backend.write_atomic(aside, fh)
            location.backend.delete(join_key(object_key, path))
        except StorageError as exc:
            log.warning("could not move aside %s of %s at %s: %s", path, aip_id, location.name, exc)
            return "none", None, None
        event = Event(
            type=EventType.RECOVERY,
            outcome=Outcome.SUCCESS,
            detail=f"File {path!r}, not in the OCFL inventory of the copy in {location.name!r}, moved out of "
            f"the object to {aside}",
            agents=(agent,),
            objects=(aip_id,),
        )
        return "moved aside", None, event
    if problem["kind"] == "manifest":
        return "none", None, None  # a contradiction between records: a person must look
    for source in sources:
        try:
            if not _agrees_with_catalog(source, aip_id, expected):
                continue
            if path == "":
                location.store.replicate_from(source.store, aip_id, deposit_id=f"repair-{run_id}")
            else:
                keys = _keys_to_rewrite(source, aip_id, path)
                if not keys:
                    continue
                for key, wanted in keys:
                    source_key = join_key(ROOT_PREFIX, source.store.object_path(aip_id), key)
                    with source.backend.open_read(source_key) as fh:
                        location.backend.write_atomic(
                            join_key(object_key, key), fh, expected={"sha512": wanted}
                        )
        except StorageError as exc:  # the source is down or damaged too: try the next
            if isinstance(exc, BackendUnavailable) and exc.location == location.name:
                raise  # not the source: the location being repaired is gone
            log.info("repair of %s %s from %s failed: %s", aip_id, path, source.name, exc)
            continue
        event = Event(
            type=EventType.RECOVERY,
            outcome=Outcome.SUCCESS,
            detail=f"{problem['kind'].capitalize()} file {path!r} of the copy in {location.name!r} replaced "
            f"from {source.name!r}; the bytes matched the recorded SHA-512 before and after the write",
            outcome_detail=str(problem["message"]),
            agents=(agent,),
            objects=(aip_id,),
        )
        return "repaired", source.name, event
    return "no good copy", None, None


def _agrees_with_catalog(source: Location, aip_id: str, expected: dict[tuple[int, str], File]) -> bool:
    """A source is good when its inventory is intact (sidecar) and holds every file recorded at
    ingest with its recorded SHA-512; its bytes are checked again while they are copied."""
    try:
        inventory, _ = source.store.verified_inventory(aip_id)
    except IntegrityError:
        return False
    for (version, aip_path), row in expected.items():
        state = inventory["versions"].get(f"v{version}", {}).get("state", {})
        if not any(aip_path in paths and d.lower() == row.sha512 for d, paths in state.items()):
            return False
    return True


def _keys_to_rewrite(source: Location, aip_id: str, path: str) -> list[tuple[str, str]]:
    """(key, sha512 it must have) to copy from ``source`` to repair ``path``.

    A content file: itself, digest from the source manifest. An inventory or its sidecar: both,
    since a sidecar mismatch does not say which of the two was damaged.
    """
    object_key = join_key(ROOT_PREFIX, source.store.object_path(aip_id))
    inventory, _ = read_json(source.backend, join_key(object_key, INVENTORY))
    for digest, paths in inventory["manifest"].items():
        if path in paths:
            return [(path, str(digest).lower())]
    if path.endswith(INVENTORY) or path.endswith(SIDECAR):
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        pair = [join_key(folder, INVENTORY), join_key(folder, SIDECAR)]
        inv_digest = digest_key(source.backend, join_key(object_key, pair[0])).sha512
        if read_sidecar(source.backend, join_key(object_key, pair[1])) != inv_digest:
            return []
        return [
            (pair[0], inv_digest),
            (pair[1], digest_key(source.backend, join_key(object_key, pair[1])).sha512),
        ]
    if path == "0=ocfl_object_1.1":
        return [(path, digest_key(source.backend, join_key(object_key, path)).sha512)]
    return []


# ----------------------------------------------------------------------------------- recording


def _record(
    sessions: sessionmaker[Session],
    run_id: str,
    result: CopyResult,
    findings: list[dict[str, Any]],
    agent: Any,
    now: datetime,
    *,
    repaired_events: list[Event],
    remaining: list[dict[str, Any]] | None = None,
) -> None:
    outcome = {
        "passed": Outcome.SUCCESS,
        "repaired": Outcome.SUCCESS,
        "failed": Outcome.FAILURE,
    }.get(result.outcome, Outcome.WARNING)
    detail = (
        f"Every file of the copy in storage location {result.location!r} streamed and hashed (SHA-256) and "
        "compared with the OCFL inventory's fixity block and the digest recorded at ingest; the inventory's "
        "SHA-512 content digests and sidecars, and the METS and PREMIS checksums, compared with the catalog"
    )
    summary = {
        "passed": f"{result.files} files, {result.bytes} bytes: no problem",
        "could not check": "; ".join(p["message"] for p in result.problems),
    }.get(
        result.outcome,
        "; ".join(f"{f['kind']} {f['path']}: {f['repair']}" for f in findings),
    )
    check = Event(
        type=EventType.FIXITY_CHECK,
        outcome=outcome,
        detail=detail,
        outcome_detail=f"{result.outcome}: {summary}",
        agents=(agent,),
        objects=(result.aip_id,),
        datetime=now,
    )
    remaining_paths = {p["path"] for p in remaining or []}
    with sessions.begin() as session:
        store.add_events(session, [check, *repaired_events], aip_id=result.aip_id)
        for f in findings:
            event = f["event"]
            session.add(
                AuditFinding(
                    run_id=run_id,
                    aip_id=result.aip_id,
                    version=result.version,
                    location=result.location,
                    path=f["path"],
                    kind=f["kind"],
                    code=f["code"],
                    message=f["message"],
                    detected_at=now,
                    repair=f["repair"],
                    repaired_from=f["repaired_from"],
                    event_id=event.identifier if event is not None else None,
                )
            )
            if f["path"] in remaining_paths and f["repair"] in ("no good copy", "repair off", "none"):
                session.add(
                    Incident(
                        aip_id=result.aip_id,
                        location=result.location,
                        path=f["path"],
                        kind=f["kind"],
                        code=f["code"],
                        message=f["message"],
                        opened_at=now,
                        run_id=run_id,
                        status="open",
                    )
                )
        copy = session.scalars(
            select(Copy).where(
                Copy.aip_id == result.aip_id, Copy.version == result.version, Copy.location == result.location
            )
        ).one()
        if result.outcome != "could not check":  # an unread copy stays due (style guide item 15)
            copy.last_checked_at = now
            copy.check_outcome = result.outcome
        if result.outcome in ("passed", "repaired"):
            copy.verified_at = now
        aip = session.get(Aip, result.aip_id)
        if aip is not None and result.outcome == "failed" and aip.status is AipStatus.STORED:
            aip.status = AipStatus.DEGRADED
        elif aip is not None and result.outcome == "repaired" and aip.status is AipStatus.DEGRADED:
            session.flush()
            copies = session.scalars(
                select(Copy).where(Copy.aip_id == aip.id, Copy.version == aip.current_version)
            ).all()
            if all(c.status is CopyStatus.STORED and c.check_outcome != "failed" for c in copies):
                aip.status = AipStatus.STORED
        run = session.get(AuditRun, run_id)
        assert run is not None
        run.copies_checked += 1
        run.files_checked += result.files
        run.bytes_checked += result.bytes
        run.failures += len(findings)
        run.repaired += sum(1 for f in findings if f["repair"] in ("repaired", "moved aside"))
        run.could_not_check += 1 if result.outcome == "could not check" else 0


def _finish_run(
    sessions: sessionmaker[Session], run_id: str, report: AuditReport, status: str, *, message: str = ""
) -> None:
    with sessions.begin() as session:
        run = session.get(AuditRun, run_id)
        if run is None:
            return
        run.status = status
        run.ended_at = datetime.now(UTC)
        run.incidents = report.incidents
        run.message = message or (f"locations busy: {', '.join(report.busy)}" if report.busy else "")


def _copy_sizes(session: Session, pairs: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """Bytes an audit of each (AIP, version) copy reads: every distinct content file of the object."""
    out: dict[tuple[str, int], int] = {}
    aips = {aip for aip, _ in pairs}
    if not aips:
        return out
    distinct: dict[str, dict[str, int]] = {}
    for aip_id, sha512, size in session.execute(
        select(File.aip_id, File.sha512, File.size).where(File.aip_id.in_(aips))
    ):
        distinct.setdefault(aip_id, {})[sha512] = size
    for aip, version in pairs:
        out[(aip, version)] = sum(distinct.get(aip, {}).values())
    return out


def _log_outcome(report: AuditReport) -> None:
    for copy in report.copies:
        if copy.outcome == "passed":
            continue
        log.warning(
            "fixity audit %s: %s v%d in %s: %s",
            report.run_id,
            copy.aip_id,
            copy.version,
            copy.location,
            copy.outcome,
            extra={"kholuu": {"event": "fixity", "run_id": report.run_id, **copy.as_dict()}},
        )


__all__ = [
    "AuditOptions",
    "AuditReport",
    "CopyResult",
    "acknowledge_incident",
    "due_copies",
    "incident_dict",
    "run_audit",
]
