"""Reading one stored AIP back for the catalog rebuild: its OCFL object, version by version.

Kept apart from :mod:`workflows.custody.rebuild` (which walks a location, compares copies and writes
the rows) because this is the part that trusts nothing: every small file is checked against the
inventory's SHA-512 before it is parsed, and inventory, METS, PREMIS and the facts file must agree
with each other, or a :class:`RebuildError` names the object, the path and the contradiction. The
result is an :class:`ObjectPlan`: every row of the AIP, built before anything is written.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from preservation.aip_update import DESCRIPTIVE
from preservation.characteristics import Characterization, Validity
from preservation.errors import KholuuError
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
from repository.catalog.models import AipStatus, AipVersion, Copy, File, FileRole
from repository.storage.stored_objects import StoredObject, StoredObjects
from workflows.ingest.registration import char_json, overall_validity

UNKNOWN = "unknown"
"""What an ingest fact the package does not state is recorded as."""
ROOT_METS = "METS.xml"
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
"""AIP folder -> submission folder of submitted metadata (inverse of ``aip_layout.metadata_target``)."""


class RebuildError(KholuuError):
    """A stored AIP contradicts itself (inventory, METS and PREMIS disagree)."""

    code = "rebuild.inconsistent"

    def __init__(self, object_id: str, path: str, problem: str) -> None:
        super().__init__(
            f"{object_id}: {path}: {problem}",
            params={"object_id": object_id, "path": path, "problem": problem},
        )


@dataclass
class ObjectPlan:
    """Everything read from storage for one object, before any row is written."""

    aip_id: str
    fields: dict[str, Any]  # the aip row's columns
    versions: list[AipVersion]
    files: list[File]
    events: list[Event]
    notes: list[str]
    stored: StoredObject  # the object as the location holds it (versions, files, inventory digest)
    copies: list[Copy] = field(default_factory=list)

    @property
    def head(self) -> int:
        return self.versions[-1].number


def read_object(source: StoredObjects, object_id: str) -> ObjectPlan:
    """Read and cross-check everything the rows need; raises on any damage or contradiction."""
    stored = source.read(object_id)
    head = stored.head
    read = [_read_version(source, stored, number) for number in range(1, head + 1)]
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
    return ObjectPlan(object_id, fields, versions, files, ordered, notes, stored)


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


def _read_version(source: StoredObjects, stored: StoredObject, number: int) -> _Version:
    object_id = stored.aip_id
    version = stored.version(number)
    state = version.files

    def read(path: str) -> bytes:
        return source.read_file(stored, number, path)

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
    for path, stored_file in sorted(state.items()):
        row = File(
            version=number,
            aip_path=path,
            size=stored_file.size,
            sha256=stored_file.sha256,
            sha512=stored_file.sha512,
            role=FileRole.PACKAGE,
        )
        if path in originals:
            _original(row, *originals[path], [package, *reps], object_id)
        elif not (
            path in (PACKAGE_PREMIS, FACTS_PATH)
            or _REP_PREMIS.fullmatch(path)
            or _PACKAGE_FILE.fullmatch(path)
        ):
            row.role = FileRole.METADATA
        files.append(row)
    row_version = AipVersion(number=number, created_at=version.created, message=version.message)
    return _Version(row_version, mets, facts, package, reps, originals, files)


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
    if f.derived_from:
        row.role, row.derived_from = FileRole.DERIVATIVE, f.derived_from
        row.action = _action(f.uuid, reps)
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


def _action(uuid: str, reps: list[PremisRecords]) -> str | None:
    """The fingerprint of the policy action that made a derivative, from the successful
    normalization or migration event that names it (None for copies made before it was recorded:
    ``kholuu migrate`` then treats them as made by an older action)."""
    made = (EventType.NORMALIZATION.value, EventType.MIGRATION.value)
    for doc in reps:
        for e in doc.events:
            if e.type in made and e.outcome == Outcome.SUCCESS.value and uuid in e.objects[1:2]:
                return e.detail_params.get("action") or None
    return None


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
