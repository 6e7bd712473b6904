"""Rebuild the catalog from a storage root alone (``kholuu rebuild-catalog --location NAME``).

The catalog is Data Management in OAIS terms and can be lost; the storage root is the record.
For every published OCFL object of the location this reads the root inventory (sidecar checked,
OCFL 1.1 §3.5.6), and for every version the package ``METS.xml``, ``metadata/preservation/PREMIS.xml``
and each ``representations/<rep>/metadata/preservation/PREMIS_<rep>.xml`` (the file objects and
their per-file events live there), each checked against the inventory's SHA-512 before it is
parsed. From those it recreates the ``aip``, ``aip_version``, ``file`` and ``copy`` rows and the
in-package PREMIS events, in one transaction per object: a damaged object is reported with its
error code and nothing of it is written. The package kind, container, submitted names and job come
from the package's facts file (``preservation.facts``), never from the wording of its events.
Then the catalog journal (``repository.catalog.journal``) restores the archive's decisions about
the records: hồ sơ, tài liệu, agencies, phông, restrictions, access changes, transfers.

What storage does not hold cannot come back, and the report says so per object: events recorded
after the package was written (storage, accession, ingestion end, later audits), the job rows, the
MIME type, validator findings' locations, and, for a package written before packages carried a
facts file, the ingest facts (recorded as ``"unknown"``). Times come back at the precision they
were written: PREMIS and METS milliseconds, OCFL version blocks whole seconds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from preservation.aip_update import DESCRIPTIVE
from preservation.characteristics import Characterization, Validity
from preservation.errors import KholuuError, PreservationError
from preservation.events import Agent, Event, EventType, Outcome
from preservation.facts import FACTS_PATH, FactsError, PackageFacts, read_facts
from preservation.findings import Finding, Severity
from preservation.mets_read import MetsReadError, read_mets
from preservation.names import nfc
from preservation.package import PackageKind
from preservation.premis_read import (
    FileRecord,
    PremisReadError,
    PremisRecords,
    identification_basis,
    read_premis,
)
from repository.catalog import store
from repository.catalog.journal import ReplayReport, replay_journal
from repository.catalog.models import Aip, AipStatus, AipVersion, Copy, CopyStatus, File, FileRole
from repository.catalog.models import Event as EventRow
from repository.settings import Settings
from repository.storage.copyset import aip_status
from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError
from repository.storage.locations import Location, open_locations
from repository.storage.ocfl_inventory import (
    fixity_of,
    head_number,
    logical_state,
    version_number,
)
from workflows.ingest.registration import char_json, overall_validity
from workflows.jobs.envelope import Workflow, workflow_agent

__all__ = ["ObjectReport", "RebuildError", "RebuildOutcome", "RebuildReport", "rebuild_catalog"]

UNKNOWN = "unknown"
"""What an ingest fact the package does not state is recorded as."""
ROOT_METS = "METS.xml"
ROOT_INVENTORY = "inventory.json"  # the path a RebuildError names for the OCFL object's own record
PACKAGE_PREMIS = "metadata/preservation/PREMIS.xml"
_REP_PREMIS = re.compile(r"representations/(?P<rep>[^/]+)/metadata/preservation/PREMIS_(?P=rep)\.xml")
_PAYLOAD = re.compile(r"representations/(?P<rep>[^/]+)/data/.+", re.DOTALL)
_PACKAGE_FILE = re.compile(r"METS\.xml|representations/[^/]+/METS\.xml|schemas/[^/]+")
_SUBMITTED_METADATA = (
    ("metadata/descriptive/", "metadata/descriptive/"),
    ("metadata/preservation/submission/", "metadata/preservation/"),
    ("documentation/", "documentation/"),
    ("schemas/submission/", "schemas/"),
)
"""AIP folder -> submission folder of submitted metadata (inverse of ``preservation.aip.metadata_target``)."""


def rebuild_agent() -> Agent:
    """The catalog rebuild's PREMIS agent: the events it writes about what it recovered name it."""
    return workflow_agent(Workflow.REBUILD)


class RebuildError(KholuuError):
    """A stored AIP contradicts itself (inventory, METS and PREMIS disagree)."""

    code = "rebuild.inconsistent"

    def __init__(self, object_id: str, path: str, problem: str) -> None:
        super().__init__(
            f"{object_id}: {path}: {problem}",
            params={"object_id": object_id, "path": path, "problem": problem},
        )


class RebuildOutcome(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"  # the catalog had the AIP; ``replace=True`` recreated its rows
    SKIPPED = "skipped"  # the catalog already has the AIP
    FAILED = "failed"  # damaged or contradictory: nothing written


@dataclass(frozen=True)
class ObjectReport:
    """What happened to one OCFL object. ``notes`` list what could not be recovered."""

    object_id: str
    outcome: RebuildOutcome
    code: str = ""
    message: str = ""
    version: int = 0
    files: int = 0
    events: int = 0
    copies: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "object_id": self.object_id,
            "outcome": self.outcome.value,
            "code": self.code,
            "message": self.message,
            "version": self.version,
            "files": self.files,
            "events": self.events,
            "copies": dict(self.copies),
            "notes": list(self.notes),
        }


@dataclass
class RebuildReport:
    """Every object of the location, in id order, and the locations that could not be compared."""

    location: str
    replace: bool
    objects: list[ObjectReport] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    records: ReplayReport = field(default_factory=ReplayReport)

    @property
    def totals(self) -> dict[str, int]:
        return {o.value: sum(1 for r in self.objects if r.outcome is o) for o in RebuildOutcome}

    def as_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "replace": self.replace,
            "totals": self.totals,
            "unreachable_locations": dict(self.unreachable),
            "objects": [o.as_dict() for o in self.objects],
            "records": self.records.as_dict(),
        }


@dataclass
class _Plan:
    """Everything read from storage for one object, before any row is written."""

    aip_id: str
    fields: dict[str, Any]  # the aip row's columns
    versions: list[AipVersion]
    files: list[File]
    events: list[Event]
    notes: list[str]
    inventory: dict[str, Any]
    inventory_digest: str
    copies: list[Copy] = field(default_factory=list)

    @property
    def head(self) -> int:
        return self.versions[-1].number


def rebuild_catalog(
    settings: Settings, sessions: sessionmaker[Session], location: str, *, replace: bool = False
) -> RebuildReport:
    """Recreate the catalog rows of every AIP stored in ``location``.

    Args:
        location: the configured location whose OCFL storage root is read.
        replace: recreate AIPs the catalog already has (otherwise they are skipped). Their
            ``aip`` row is updated in place so that catalog-only events stay linked to it.

    Returns:
        One :class:`ObjectReport` per object, and in ``records`` what the catalog journal
        (``repository.catalog.journal``, merged over every reachable location) restored: hồ sơ,
        tài liệu, agencies, phông, restrictions, access changes, transfers. Other configured
        locations holding an identical copy (same root inventory digest) get a ``stored`` copy
        row; a reachable one without the object gets a ``pending`` copy (``kholuu storage sync``
        lands it); an unreachable one is listed in ``unreachable`` and not recorded.

    Raises:
        NotFound: ``rebuild.location_unknown`` when ``location`` is not configured.
        StorageError: the location itself cannot be listed (e.g. BackendUnavailable).
    """
    locations = open_locations(settings)
    source = next((loc for loc in locations if loc.name == location), None)
    if source is None:
        raise NotFound(
            f"no storage location {location!r} is configured",
            code="rebuild.location_unknown",
            key=location,
            location=location,
        )
    others = [loc for loc in locations if loc is not source]
    report = RebuildReport(location=location, replace=replace)
    for object_id in sorted(source.store.list_objects()):
        report.objects.append(_rebuild_object(sessions, source, others, object_id, report, replace))
    report.records = replay_journal(settings, sessions)
    return report


def _rebuild_object(
    sessions: sessionmaker[Session],
    source: Location,
    others: list[Location],
    object_id: str,
    report: RebuildReport,
    replace: bool,
) -> ObjectReport:
    with sessions() as session:
        if not replace and session.get(Aip, object_id) is not None:
            return ObjectReport(object_id, RebuildOutcome.SKIPPED, message="already in the catalog")
    try:
        try:
            plan = _read_object(source, object_id)
        except (KeyError, TypeError, AttributeError) as exc:  # an inventory not shaped as OCFL 1.1 says
            raise IntegrityError(
                f"the inventory of {object_id} is malformed: {exc!r}",
                code="ocfl.inventory_invalid",
                key=object_id,
                location=source.name,
            ) from exc
        _add_copies(plan, source, others, report.unreachable)
        with sessions.begin() as session:
            outcome = _write(session, plan, replace=replace, source=source.name)
    except (StorageError, PreservationError, RebuildError, SQLAlchemyError) as exc:
        code = str(getattr(exc, "code", "catalog.error"))
        return ObjectReport(object_id, RebuildOutcome.FAILED, code=code, message=str(exc))
    return ObjectReport(
        object_id,
        outcome,
        version=plan.head,
        files=len(plan.files),
        events=len(plan.events),
        copies={c.location: c.status.value for c in plan.copies},
        notes=tuple(plan.notes),
    )


# ------------------------------------------------------------------------------------ reading


def _read_object(source: Location, object_id: str) -> _Plan:
    """Read and cross-check everything the rows need; raises on any damage or contradiction."""
    inventory, digest = source.store.verified_inventory(object_id)
    if inventory.get("id") != object_id:
        raise RebuildError(object_id, ROOT_INVENTORY, f"inventory id is {inventory.get('id')!r}")
    head = head_number(inventory)
    sizes: dict[str, int] = {}
    read = [_read_version(source, object_id, inventory, number, sizes) for number in range(1, head + 1)]
    events = {e.identifier: e for v in read for doc in (v.package, *v.reps) for e in doc.to_events()}
    notes: list[str] = []
    created_at = _creation_time(read[0].package, object_id)
    if created_at is None:
        notes.append("created_at: no information package creation event, METS CREATEDATE used")
        created_at = read[0].mets[2]
    if created_at is None:
        raise RebuildError(object_id, ROOT_METS, "no creation time in PREMIS or METS")
    files = [row for v in read for row in v.files]
    stated = next((v.facts for v in reversed(read) if v.facts is not None), None)
    facts = _ingest_facts(stated, object_id, notes)
    _metadata_names(files, stated, facts["package_kind"], notes)
    payload = sorted(read[0].originals.values(), key=lambda item: item[1].aip_path)  # the submission
    fields = dict(
        id=object_id,
        objid=read[-1].mets[0],
        label=read[-1].mets[1],
        status=AipStatus.STORED,
        payload_digest=_payload_digest(payload),
        file_count=len(payload),
        payload_bytes=sum(f.size for _, f in payload),
        created_at=created_at,
        stored_at=read[0].row.created_at,
        current_version=head,
        **facts,
    )
    ordered = sorted(events.values(), key=lambda e: (e.datetime, e.identifier))
    versions = [v.row for v in read]
    return _Plan(object_id, fields, versions, files, ordered, notes, inventory, digest)


@dataclass
class _Version:
    """One version as read: its row, METS header, PREMIS documents, payload and file rows."""

    row: AipVersion
    mets: tuple[str, str, datetime | None]
    facts: PackageFacts | None
    package: PremisRecords
    reps: list[PremisRecords]
    originals: dict[str, tuple[str, FileRecord]]
    files: list[File]


def _read_version(
    source: Location, object_id: str, inventory: dict[str, Any], number: int, sizes: dict[str, int]
) -> _Version:
    names = {version_number(name): name for name in inventory["versions"]}
    block = inventory["versions"].get(names.get(number, "")) or {}
    try:
        created = datetime.fromisoformat(str(block.get("created")))
    except ValueError:
        raise RebuildError(
            object_id, ROOT_INVENTORY, f"version v{number} has no valid created time"
        ) from None
    state, sha512_of = logical_state(inventory, number, object_id)
    sha256_of = fixity_of(inventory, "sha256")
    read = _VersionReader(source, object_id, number, sha512_of)
    mets = _mets_header(read(ROOT_METS), object_id)
    facts = _facts(read(FACTS_PATH), object_id) if FACTS_PATH in state else None
    package = read_premis(read(PACKAGE_PREMIS), PACKAGE_PREMIS)
    reps = [read_premis(read(p), p) for p in sorted(state) if _REP_PREMIS.fullmatch(p)]
    originals = _originals(object_id, reps)
    in_state = {p for p in state if _PAYLOAD.fullmatch(p)}
    for path in sorted(in_state ^ set(originals)):
        where = "the stored version" if path in in_state else "PREMIS"
        raise RebuildError(object_id, path, f"only in {where} of v{number}")
    files: list[File] = []
    for path, content in sorted(state.items()):
        if content not in sizes:
            size = source.store.content_size(object_id, content)
            if size is None:
                raise NotFound(
                    f"content file {content} of {object_id} is missing",
                    code="ocfl.missing_file",
                    key=content,
                    location=source.name,
                )
            sizes[content] = size
        if content not in sha256_of:
            raise RebuildError(object_id, path, f"no sha256 fixity for {content}")
        row = File(
            version=number,
            aip_path=path,
            size=sizes[content],
            sha256=sha256_of[content].lower(),
            sha512=sha512_of[path],
            role=FileRole.PACKAGE,
        )
        if path in originals:
            _original(row, *originals[path], reps, object_id)
        elif not (
            path in (PACKAGE_PREMIS, FACTS_PATH)
            or _REP_PREMIS.fullmatch(path)
            or _PACKAGE_FILE.fullmatch(path)
        ):
            row.role = FileRole.METADATA
        files.append(row)
    version = AipVersion(number=number, created_at=created, message=str(block.get("message", "")))
    return _Version(version, mets, facts, package, reps, originals, files)


class _VersionReader:
    """Whole small files of one version, checked against the inventory's SHA-512 before use."""

    def __init__(self, source: Location, object_id: str, version: int, sha512_of: dict[str, str]) -> None:
        self.source, self.object_id, self.version, self.sha512_of = source, object_id, version, sha512_of

    def __call__(self, path: str) -> bytes:
        with self.source.store.open_file(self.object_id, path, self.version) as fh:
            data = fh.read()
        found, wanted = hashlib.sha512(data).hexdigest(), self.sha512_of[path]
        if found != wanted:
            raise IntegrityError(
                f"{path} of {self.object_id} v{self.version}: stored sha512 is {found}, "
                f"the inventory says {wanted}",
                code="ocfl.digest_mismatch",
                key=path,
                location=self.source.name,
                algorithm="sha512",
                expected=wanted,
                found=found,
                params={"object_id": self.object_id, "version": self.version},
            )
        return data


def _mets_header(data: bytes, object_id: str) -> tuple[str, str, datetime | None]:
    """(OBJID, LABEL, metsHdr/@CREATEDATE) of the package METS."""
    try:
        header = read_mets(data, ROOT_METS).header
    except MetsReadError as exc:
        raise RebuildError(object_id, ROOT_METS, exc.problem) from None
    return header.objid, header.label, header.created


def _facts(data: bytes, object_id: str) -> PackageFacts:
    """The version's facts file (``preservation.facts``), which must be about this object."""
    try:
        facts = read_facts(data)
    except FactsError as exc:
        raise RebuildError(object_id, FACTS_PATH, exc.problem) from None
    if facts.aip_id != object_id:
        raise RebuildError(object_id, FACTS_PATH, f"the facts are about {facts.aip_id!r}")
    return facts


def _originals(object_id: str, reps: list[PremisRecords]) -> dict[str, tuple[str, FileRecord]]:
    """AIP path -> (representation name, file object) of every payload file of a version."""
    out: dict[str, tuple[str, FileRecord]] = {}
    for doc in reps:
        names = {r.uuid: r.name for r in doc.representations}
        for f in doc.files:
            rep = names.get(f.representation_uuid or "")
            if rep is None or f.aip_path != f"representations/{rep}/data/{f.original_name}":
                raise RebuildError(
                    object_id, doc.where, f"file {f.uuid} ({f.aip_path}) is not in its representation"
                )
            out[f.aip_path] = (rep, f)
    return out


def _original(row: File, rep: str, f: FileRecord, reps: list[PremisRecords], object_id: str) -> None:
    """Fill a payload file's row from its PREMIS object, which must agree with the inventory."""
    for what, stored, premis in (
        ("sha256", row.sha256, f.sha256),
        ("sha512", row.sha512, f.sha512),
        ("size", row.size, f.size),
    ):
        if stored != premis:
            raise RebuildError(object_id, row.aip_path, f"{what} is {stored} in storage, {premis} in PREMIS")
    row.role = FileRole.ORIGINAL
    row.uuid = f.uuid
    row.representation = rep
    row.path = f.original_name
    row.path_raw = f.original_name.encode("utf-8")
    row.path_nfc = nfc(f.original_name)
    row.puid, row.format_name, row.format_version = f.puid, f.format_name, f.format_version
    split = identification_basis(f, [e for doc in reps for e in doc.events])
    if split is not None:
        row.identification_basis, row.identification_warning = split[0] or None, split[1] or None
    try:
        chars = [
            Characterization(
                validator=c.validator,
                agent=Agent(c.agent.partition("/")[0], c.agent.partition("/")[2]),
                validity=Validity(c.validity),
                findings=tuple(Finding(x.code, Severity(x.severity), "", x.message) for x in c.findings),
                properties=dict(c.properties),
            )
            for c in f.characterizations
        ]
    except ValueError as exc:
        raise PremisReadError(row.aip_path, f"characterization of {f.uuid}: {exc}") from None
    row.validity = overall_validity(chars)
    row.characteristics = [char_json(c) for c in chars]


def _creation_time(package: PremisRecords, object_id: str) -> datetime | None:
    times = [
        e.datetime
        for e in package.events
        if e.type == EventType.INFORMATION_PACKAGE_CREATION.value and object_id in e.objects
    ]
    return min(times) if times else None


def _payload_digest(payload: list[tuple[str, FileRecord]]) -> str:
    """Exactly ``workflows.ingest.steps.payload_digest``, from the v1 PREMIS file objects."""
    lines = sorted(f"{rep}/{nfc(f.original_name)}\0{f.sha256}\n" for rep, f in payload)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _ingest_facts(stated: PackageFacts | None, object_id: str, notes: list[str]) -> dict[str, str]:
    """source_name, job_id, package_kind and container, from the package's facts file.

    An AIP written before packages carried the file (or whose later version did not add it) has
    them nowhere as data: they come back as ``"unknown"`` and the report says so, rather than being
    guessed from the English wording of its events.
    """
    keys = ("source_name", "job_id", "package_kind", "container")
    if stated is None:
        notes.append(f"{FACTS_PATH}: not in the package (written before it carried one)")
        facts = dict.fromkeys(keys, UNKNOWN)
    else:
        facts = {key: str(getattr(stated, key)) or UNKNOWN for key in keys}
    notes.extend(
        f"{key}: not recorded in the package, set to {UNKNOWN!r}" for key, v in facts.items() if v == UNKNOWN
    )
    return facts


def _metadata_names(
    files: list[File], stated: PackageFacts | None, package_kind: str, notes: list[str]
) -> None:
    """The submitted name of each submitted-metadata file: from the facts file, or (for a package
    without one) where the AIP path says it unambiguously.

    ``metadata/other/submission/`` holds the SIP's packaging files: every non-payload file of a bag,
    the METS files of an E-ARK SIP. ``metadata/other/`` is shared by files from several SIP folders.
    """
    unknown = 0
    ingested = {row.aip_path for row in files if row.version == 1}
    for row in files:
        if row.role is not FileRole.METADATA:
            continue
        if row.aip_path not in ingested:
            name = _added_name(row.aip_path)
        elif stated is not None:
            name = stated.metadata_names.get(row.aip_path)
        else:
            name = _submitted_name(row.aip_path, package_kind)
        if name is None:
            unknown += 1
            continue
        row.path, row.path_raw, row.path_nfc = name, name.encode("utf-8"), nfc(name)
    if unknown:
        notes.append(f"path: the submitted name of {unknown} metadata file row(s) is ambiguous, left empty")


def _added_name(aip_path: str) -> str | None:
    """A metadata file a later version added (``kholuu aip add-metadata``) is stored as
    ``metadata/descriptive/<its name>``, the name kept as given (``preservation.aip_update``)."""
    rest = aip_path.removeprefix(f"{DESCRIPTIVE}/")
    return rest if rest != aip_path and "/" not in rest else None


def _submitted_name(aip_path: str, package_kind: str) -> str | None:
    rest = aip_path.removeprefix("metadata/other/submission/")
    if rest != aip_path:
        is_mets = rest == "METS.xml" or re.fullmatch(r"representations/[^/]+/METS\.xml", rest)
        return rest if package_kind == PackageKind.BAGIT.value or is_mets else None
    prefix = m.group(0) if (m := re.match(r"representations/[^/]+/", aip_path)) else ""
    rest = aip_path[len(prefix) :]
    for folder, submitted in _SUBMITTED_METADATA:
        if rest.startswith(folder):
            return prefix + submitted + rest[len(folder) :]
    return None


def _add_copies(plan: _Plan, source: Location, others: list[Location], unreachable: dict[str, str]) -> None:
    """This location's copy, and every other location's copy of the same object version.

    The same object means the same root inventory; ingest writes each location's inventory
    separately, so the version blocks' ``created`` times may differ by a second or so, and an
    inventory that differs only there is the same content.
    """

    def copy(location: Location, status: CopyStatus, inventory: dict[str, Any] | None = None) -> Copy:
        written = None
        if inventory is not None:
            written = datetime.fromisoformat(inventory["versions"][inventory["head"]]["created"])
        return Copy(
            version=plan.head,
            location=location.name,
            status=status,
            object_path=location.store.object_path(plan.aip_id),
            written_at=written,
        )

    plan.copies.append(copy(source, CopyStatus.STORED, plan.inventory))
    for loc in others:
        if loc.name in unreachable:
            continue
        try:
            inventory, digest = loc.store.verified_inventory(plan.aip_id)
        except BackendUnavailable as exc:
            unreachable[loc.name] = str(exc)
            continue
        except NotFound:
            plan.copies.append(copy(loc, CopyStatus.PENDING))
            plan.notes.append(f"copies: {loc.name} does not hold the object; copy queued")
            continue
        except StorageError as exc:
            inventory, digest = {}, f"damaged ({exc.code})"
        if digest == plan.inventory_digest:
            plan.copies.append(copy(loc, CopyStatus.STORED, inventory))
        elif _timeless(inventory) == _timeless(plan.inventory):
            plan.copies.append(copy(loc, CopyStatus.STORED, inventory))
            plan.notes.append(f"copies: {loc.name} holds the same versions, written at other times")
        else:
            plan.notes.append(f"copies: {loc.name} holds a different copy ({digest[:16]}…), not recorded")
    # an unreachable location is not recorded, and says nothing about the copies: not counted
    required = {loc.name for loc in (source, *others) if loc.required and loc.name not in unreachable}
    plan.fields["status"] = aip_status(plan.copies, required, plan.head)


def _timeless(inventory: dict[str, Any]) -> dict[str, Any]:
    versions = inventory.get("versions") or {}
    return {
        **inventory,
        "versions": {
            name: {k: v for k, v in block.items() if k != "created"} for name, block in versions.items()
        },
    }


# ------------------------------------------------------------------------------------ writing


def _write(session: Session, plan: _Plan, *, replace: bool, source: str) -> RebuildOutcome:
    """Insert (or, with ``replace``, recreate) one AIP's rows and events in the caller's transaction."""
    aip_id = plan.aip_id
    aip = session.get(Aip, aip_id)
    outcome = RebuildOutcome.ADDED
    if aip is None:
        aip = Aip(**plan.fields)
        session.add(aip)
    elif not replace:
        return RebuildOutcome.SKIPPED
    else:
        outcome = RebuildOutcome.REPLACED
        aip.versions.clear()
        aip.files.clear()
        aip.copies.clear()
        session.flush()  # the unique (aip, version, path) rows must be gone before the new ones
        for key, value in plan.fields.items():
            setattr(aip, key, value)
    aip.versions.extend(plan.versions)
    aip.files.extend(plan.files)
    aip.copies.extend(plan.copies)
    session.flush()
    wanted = {e.identifier for e in plan.events}
    for row in session.scalars(select(EventRow).where(EventRow.aip_id == aip_id, EventRow.in_package)):
        if row.identifier not in wanted:
            row.in_package = False  # no longer carried by the stored package
    known: set[str] = set()
    identifiers = sorted(wanted)
    for start in range(0, len(identifiers), 500):
        chunk = identifiers[start : start + 500]
        for row in session.scalars(select(EventRow).where(EventRow.identifier.in_(chunk))):
            if row.aip_id not in (None, aip_id):
                raise RebuildError(
                    aip_id, PACKAGE_PREMIS, f"event {row.identifier} belongs to AIP {row.aip_id}"
                )
            row.aip_id, row.in_package = aip_id, True
            known.add(row.identifier)
    store.add_events(
        session, [e for e in plan.events if e.identifier not in known], aip_id=aip_id, in_package=True
    )
    copies = ", ".join(f"{c.location} ({c.status.value})" for c in plan.copies)
    store.add_events(
        session,
        [
            Event(
                type=EventType.ACCESSION,
                outcome=Outcome.WARNING if plan.notes else Outcome.SUCCESS,
                detail=f"AIP registered in the catalog again, rebuilt from the OCFL storage root of location "
                f"{source!r} (inventory, METS and PREMIS of every version)",
                detail_code="rebuild.accession",
                detail_params={"location": source},
                outcome_detail="; ".join(
                    [f"v{plan.head}, {len(plan.files)} file rows, copies in {copies}", *plan.notes]
                ),
                agents=(rebuild_agent(),),
                objects=(aip_id,),
            )
        ],
        aip_id=aip_id,
    )
    return outcome
