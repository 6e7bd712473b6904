"""Exports of a stored AIP: for another archive, for a requester, for any BagIt tool.

Three forms (``kholuu export``):

* ``tt05-aip``: the AIP version exactly as stored, as its package folder ``<OBJID, ':' → '_'>/``.
  It is the TT 05/2025 AIP_hoso / AIP_tailieu that another archive or the national database
  receives (Điều 17: between systems of the same kind the AIP is the transfer package;
  vn-standards.md §2.3).
* ``tt05-dip``: a new DIP (TT 05/2025 Phụ lục V; Chương VI Điều 32-33: the user's copy is cloned
  from the original in DIP form) that holds only what the requester may see; the access rules and
  the package are in :mod:`workflows.access.access_rules`, :mod:`workflows.access.dip` and
  :mod:`workflows.access.dip_writer`.
* ``bagit``: the AIP version as a BagIt bag (RFC 8493) for tools that know bags and nothing else.

The two transfer forms (``tt05-aip``, ``bagit``) carry every record of the AIP, so they name who
receives the package (``recipient``: another archive, the national database…; recorded in the
event). When a hồ sơ or tài liệu of the AIP is Mật (mức độ tiếp cận 03) or on the list of tài
liệu tiếp cận có điều kiện, the export is refused unless ``decision`` names the decision that
authorises the full transfer (Luật Lưu trữ 2024 khoản 4 Điều 25; vn-standards.md §3.3); the
decision and the restricted records are recorded in the event. The bag's ``bag-info.txt`` names
the AIP by its identifier and package kind only, never by its title: a title may itself say what
a Mật record is about, and tag files are read by every tool the bag passes through.

Every byte leaves storage through :func:`workflows.custody.retrieve.copy_aip`, which checks each file
against the OCFL inventory (SHA-512) and the catalog (SHA-256) into a private staging folder. Each
file is hashed again while it is streamed into the ZIP, so what leaves is what the catalog holds.
The ZIP is written under a temporary name beside the target and renamed only once it is complete
and its event recorded (style guide item 7): an interrupted export leaves no ZIP under the final
name. Every export is a PREMIS ``dissemination`` event of the AIP in the catalog.
"""

from __future__ import annotations

import dataclasses
import os
import unicodedata
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import ErrorKind
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.fixity import MultiHasher, iter_blocks
from preservation.names import portable_path_problem
from preservation.tt05.model import Description
from preservation.tt05.tables import Tables, shipped_tables
from repository.catalog import store
from repository.catalog.models import Aip, File
from repository.settings import Settings
from workflows.access.access_rules import (
    Selection,
    Withheld,
    document_code,
    restricted_content,
    select_documents,
)
from workflows.access.dip import AccessRequest, dip_event, request_to_description, software_agent
from workflows.access.dip_writer import DipWriter, StoredFile
from workflows.access.errors import ExportError
from workflows.custody.retrieve import RetrieveError, copy_aip
from workflows.jobs.envelope import JobSpec, Workflow, run_job

__all__ = [
    "AccessRequest",
    "ErrorKind",
    "ExportError",
    "ExportFormat",
    "ExportResult",
    "Withheld",
    "export_aip",
]

_ZIP64_FROM = 1 << 30  # stream files of 1 GiB and more with ZIP64 sizes from the start


class ExportFormat(StrEnum):
    TT05_AIP = "tt05-aip"
    TT05_DIP = "tt05-dip"
    BAGIT = "bagit"


@dataclass(frozen=True)
class ExportResult:
    format: ExportFormat
    aip_id: str
    version: int
    path: Path
    package: str  # the folder at the top of the ZIP
    location: str
    files: int
    bytes: int
    event_id: str
    dip_id: str = ""
    released: tuple[str, ...] = ()
    withheld: tuple[Withheld, ...] = ()
    approved_conditional: str = ""
    recipient: str = ""
    decision: str = ""
    restricted: tuple[Withheld, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format.value,
            "aip_id": self.aip_id,
            "version": self.version,
            "path": str(self.path),
            "package": self.package,
            "location": self.location,
            "files": self.files,
            "bytes": self.bytes,
            "event_id": self.event_id,
            "dip_id": self.dip_id or None,
            "released": list(self.released),
            "withheld": [w.as_dict() for w in self.withheld],
            "approved_conditional": self.approved_conditional or None,
            "recipient": self.recipient or None,
            "decision": self.decision or None,
            "restricted": [r.as_dict() for r in self.restricted],
        }


@dataclass(frozen=True)
class _Fetched:
    aip_id: str
    folder: Path
    version: int
    location: str
    objid: str
    package_kind: str
    files: Mapping[str, StoredFile]


@dataclass(frozen=True)
class _Transfer:
    """Who a transfer package goes to, under which decision, and the restricted records it carries."""

    recipient: str
    decision: str
    restricted: tuple[Withheld, ...]


# ------------------------------------------------------------------------------------------ entry


def export_aip(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip_id: str,
    out: Path,
    *,
    fmt: ExportFormat,
    version: int | None = None,
    location: str | None = None,
    request: AccessRequest | None = None,
    tables: Tables | None = None,
    recipient: str | None = None,
    decision: str | None = None,
    by: str = "",
) -> ExportResult:
    """Write ``out`` (a ZIP) with the AIP version in the form ``fmt``.

    Args:
        version: OCFL version (default: the latest).
        location: read from this storage location only (default: any holding a copy).
        request: the access request; required for ``tt05-dip``, refused for the other forms.
        recipient: who receives a ``tt05-aip`` or ``bagit`` package; required for them, refused
            for ``tt05-dip`` (a DIP goes to the requester of its access request).
        decision: number of the decision authorising the transfer of Mật (03) or listed records;
            required when the AIP holds any, refused for ``tt05-dip``.
        by: who makes the export: named in the catalog's dissemination event, with the person as
            an agent (issue 11 item 23: every path out of storage records who took what).

    Raises:
        ExportError: every failure; nothing is left under ``out``. ``export.restricted_content``
            (refused) lists each restricted record and why in ``details``.
    """
    _check_target(out)
    if fmt is not ExportFormat.TT05_DIP and request is not None:
        raise ExportError(
            "access-request options only apply to --format tt05-dip",
            code="export.request_not_dip",
            kind=ErrorKind.USAGE,
        )
    transfer: _Transfer | None = None
    if fmt is ExportFormat.TT05_DIP:
        if recipient is not None or decision is not None:
            raise ExportError(
                "--recipient and --decision apply to tt05-aip and bagit; a DIP goes to the requester",
                code="export.transfer_not_dip",
                kind=ErrorKind.USAGE,
            )
    else:
        transfer = _transfer(sessions, aip_id, recipient, decision)
    selection: Selection | None = None
    request_description: Description | None = None
    if fmt is ExportFormat.TT05_DIP:
        if request is None:
            raise ExportError(
                "a DIP needs the access request (--request-id, --request-date, --purpose)",
                code="export.request_missing",
                kind=ErrorKind.USAGE,
            )
        tables = tables or shipped_tables()
        request_description = request_to_description(request, tables)
        with sessions() as session:
            selection = select_documents(session, aip_id, approved=bool(request.approved_conditional.strip()))
        if not selection.released:
            raise ExportError(
                f"nothing in AIP {aip_id} may be released to this requester",
                code="export.nothing_to_release",
                kind=ErrorKind.REFUSED,
                params={"aip_id": aip_id, "withheld": len(selection.withheld)},
                details=[w.as_dict() for w in selection.withheld],
            )
    now = datetime.now(UTC)
    zone = ZoneInfo(settings.package.timezone)
    spec = JobSpec(
        kind=Workflow.EXPORT,
        source=aip_id,
        source_name=out.name,
        options={"format": fmt.value, "out": str(out), "version": version, "location": location},
    )
    with run_job(settings, sessions, spec) as job:
        staging = job.work_dir  # removed by the envelope whatever happens
        staging.mkdir(parents=True)
        fetched = _fetch(settings, sessions, aip_id, staging / "aip", version, location)
        dip_id = ""
        if fmt is ExportFormat.TT05_AIP:
            source = fetched.folder
            expected = {p: f.sha256 for p, f in fetched.files.items()}
            strict = True
            assert transfer is not None
            event = _export_event(fmt, aip_id, fetched, out, now, transfer)
        elif fmt is ExportFormat.BAGIT:
            source = _make_bag(settings, fetched, staging / "bag", now, zone)
            expected = {f"data/{fetched.folder.name}/{p}": f.sha256 for p, f in fetched.files.items()}
            strict = False  # the tag files are ours, written just now
            assert transfer is not None
            event = _export_event(fmt, aip_id, fetched, out, now, transfer)
        else:
            assert selection is not None and request is not None and request_description is not None
            assert tables is not None
            dip_id = f"uuid-{str(uuid.uuid4()).upper()}"  # TT 05 Phụ lục V: DIP OBJID uuid-…
            event = dip_event(request, selection, aip_id, dip_id, now, full=True)
            source, expected = DipWriter(settings, tables, dip_id, staging / "dip", now, zone).write(
                fetched.folder,
                fetched.version,
                fetched.files,
                selection,
                request_description,
                dip_event(request, selection, aip_id, dip_id, now),
            )
            strict = True
        if by.strip():
            event = _taken_by(event, unicodedata.normalize("NFC", by.strip()))
        files, size = _zip_and_publish(source, expected, strict, out, sessions, aip_id, event, now, zone)
    return ExportResult(
        format=fmt,
        aip_id=aip_id,
        version=fetched.version,
        path=out,
        package=source.name,
        location=fetched.location,
        files=files,
        bytes=size,
        event_id=event.identifier,
        dip_id=dip_id,
        released=tuple(document_code(d) for _, d in selection.released) if selection else (),
        withheld=selection.withheld if selection else (),
        approved_conditional=request.approved_conditional.strip() if request else "",
        recipient=transfer.recipient if transfer else "",
        decision=transfer.decision if transfer else "",
        restricted=transfer.restricted if transfer else (),
    )


def _transfer(
    sessions: sessionmaker[Session], aip_id: str, recipient: str | None, decision: str | None
) -> _Transfer:
    """The recipient of a transfer package, and the decision when the AIP holds restricted records.

    Raises:
        ExportError: ``export.recipient_missing`` (usage), ``export.restricted_content`` (refused:
            Mật or listed records and no ``decision``).
    """
    name = unicodedata.normalize("NFC", (recipient or "").strip())
    number = unicodedata.normalize("NFC", (decision or "").strip())
    if not name:
        raise ExportError(
            "a transfer package (tt05-aip, bagit) needs --recipient: who receives it",
            code="export.recipient_missing",
            kind=ErrorKind.USAGE,
        )
    with sessions() as session:
        restricted = restricted_content(session, aip_id)
    if restricted and not number:
        codes = ", ".join(r.code for r in restricted)
        raise ExportError(
            f"AIP {aip_id} holds {len(restricted)} Mật (03) or restricted record(s): {codes}; "
            "a full transfer needs --decision, the number of the decision authorising it",
            code="export.restricted_content",
            kind=ErrorKind.REFUSED,
            params={"aip_id": aip_id, "count": len(restricted), "codes": codes},
            details=[r.as_dict() for r in restricted],
        )
    return _Transfer(name, number, restricted)


def _check_target(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise ExportError(
            f"{out} already exists; an export never overwrites a file",
            code="export.out_exists",
            kind=ErrorKind.USAGE,
            path=str(out),
            params={"path": str(out)},
        )
    out.parent.mkdir(parents=True, exist_ok=True)


# --------------------------------------------------------------------------------------- fetching


def _fetch(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip_id: str,
    into: Path,
    version: int | None,
    location: str | None,
) -> _Fetched:
    """The version, verified by :func:`copy_aip`, and the catalog's record of every file in it."""
    try:
        fetched = copy_aip(settings, sessions, aip_id, into, version=version, location=location)
    except RetrieveError as exc:
        kind = ErrorKind.NOT_FOUND if exc.code == "catalog.not_found" else ErrorKind.FAILED
        if exc.code == "fetch.no_such_version":
            kind = ErrorKind.USAGE
        raise ExportError(str(exc), code=exc.code, kind=kind, path=exc.path, params=exc.params) from exc
    number = int(fetched["version"])
    with sessions() as session:
        aip = session.get(Aip, aip_id)
        assert aip is not None  # copy_aip found it
        rows = session.scalars(select(File).where(File.aip_id == aip_id, File.version == number)).all()
        files = {r.aip_path: StoredFile(r.aip_path, r.sha256, r.uuid, r.representation, r.mime) for r in rows}
        objid, package_kind = aip.objid, aip.package_kind
    folder = Path(str(fetched["path"]))
    staged = set(_tree(folder))
    if staged != set(files):
        extra, missing = sorted(staged - set(files)), sorted(set(files) - staged)
        raise ExportError(
            f"AIP {aip_id} version {number}: the stored version and the catalog list different files "
            f"(not in the catalog: {extra[:5]}, not stored: {missing[:5]})",
            code="export.catalog_mismatch",
            params={"aip_id": aip_id, "version": number, "extra": extra, "missing": missing},
        )
    return _Fetched(aip_id, folder, number, str(fetched["location"]), objid, package_kind, files)


def _tree(root: Path) -> list[str]:
    """Every file under ``root`` as a relative POSIX path, names exactly as on disk."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


# ------------------------------------------------------------------------------------------- ZIP


def _zip_and_publish(
    source: Path,
    expected: Mapping[str, str],
    strict: bool,
    out: Path,
    sessions: sessionmaker[Session],
    aip_id: str,
    event: Event,
    now: datetime,
    zone: tzinfo,
) -> tuple[int, int]:
    """ZIP ``source`` (as the top folder) under a temporary name beside ``out``, then record the
    event and rename in one step: the ZIP gets its final name only with its event committed."""
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.part")
    published = False
    try:
        with temp.open("xb") as fh:
            files, size = _write_zip(fh, source, expected, strict, now.astimezone(zone))
            fh.flush()
            os.fsync(fh.fileno())
        with sessions.begin() as session:
            store.add_events(session, [event], aip_id=aip_id)
            _check_target(out)
            os.replace(temp, out)
            published = True
        _fsync_dir(out.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        if published:  # the commit failed after the rename: no export without its event
            out.unlink(missing_ok=True)
        raise
    return files, size


def _write_zip(
    fh: Any, source: Path, expected: Mapping[str, str], strict: bool, stamp: datetime
) -> tuple[int, int]:
    """Stream every file into the ZIP block by block, hashing on the way (never a whole file in
    memory); a file whose SHA-256 differs from ``expected`` stops the export."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    seen: set[str] = set()
    size = 0
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for rel in _tree(source):
            path = source / rel
            if path.is_symlink() or not path.is_file():
                raise ExportError(
                    f"{rel} is not a regular file", code="export.not_regular", path=rel, params={"path": rel}
                )
            entry = f"{source.name}/{rel}"
            problem = portable_path_problem(entry)
            if problem is not None:  # never a zip-slip or an unrestorable name for the recipient
                raise ExportError(
                    f"{rel} cannot be a ZIP entry for another system: {problem}",
                    code="export.unsafe_name",
                    path=rel,
                    params={"path": rel, "problem": problem},
                )
            info = zipfile.ZipInfo(entry, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            hasher = MultiHasher(("sha256",))
            with (
                path.open("rb") as src,
                zf.open(info, "w", force_zip64=path.stat().st_size >= _ZIP64_FROM) as dst,
            ):
                for block in iter_blocks(src):
                    dst.write(block)
                    hasher.update(block)
            found = hasher.result()
            wanted = expected.get(rel)
            if wanted is None and strict:
                raise ExportError(
                    f"{rel} is not part of what is exported",
                    code="export.unexpected_file",
                    path=rel,
                    params={"path": rel},
                )
            if wanted is not None and found.sha256 != wanted.lower():
                raise ExportError(
                    f"{rel}: SHA-256 {found.sha256} while writing the ZIP, the catalog says {wanted.lower()}",
                    code="export.digest_mismatch",
                    path=rel,
                    params={"path": rel, "expected": wanted.lower(), "found": found.sha256},
                )
            seen.add(rel)
            size += found.size
    missing = sorted(set(expected) - seen)
    if missing:
        raise ExportError(
            f"{missing[0]} is missing from the export",
            code="export.file_missing",
            path=missing[0],
            params={"path": missing[0], "count": len(missing)},
        )
    return len(seen), size


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------ BagIt


def _make_bag(settings: Settings, fetched: _Fetched, bag_dir: Path, now: datetime, zone: tzinfo) -> Path:
    """RFC 8493 bag of the package folder (``data/<package folder>/…``) with SHA-256 and SHA-512
    manifests written by bagit-python; its SHA-256 manifest must agree with the catalog.

    bagit-python changes the working directory while it bags: fine for the CLI, not for threads.
    """
    bag_dir.mkdir()
    fetched.folder.rename(bag_dir / fetched.folder.name)
    info = {
        "Source-Organization": settings.archive.name,
        "External-Identifier": fetched.aip_id,
        "External-Description": f"AIP {fetched.objid}, version {fetched.version}",
        "Bagging-Date": now.astimezone(zone).date().isoformat(),
        # Never the AIP's label (a dossier title, maybe of a Mật record): identifiers only.
        "Internal-Sender-Description": f"AIP {fetched.aip_id}, {fetched.package_kind} package",
    }
    bag = bagit.make_bag(
        str(bag_dir), bag_info={k: v for k, v in info.items() if v}, checksums=["sha256", "sha512"]
    )
    entries: Mapping[str, Mapping[str, str]] = bag.entries
    for path, stored in fetched.files.items():
        key = f"data/{fetched.folder.name}/{path}"
        found = entries.get(key, {}).get("sha256")
        if found != stored.sha256:
            raise ExportError(
                f"{key}: the bag manifest says {found}, the catalog {stored.sha256}",
                code="export.digest_mismatch",
                path=key,
                params={"path": key, "expected": stored.sha256, "found": found},
            )
    named = bag_dir.with_name(fetched.folder.name)
    bag_dir.rename(named)
    return named


# ----------------------------------------------------------------------------------------- events


def _taken_by(event: Event, by: str) -> Event:
    return dataclasses.replace(
        event,
        outcome_detail=f"{event.outcome_detail}\nexported by: {by}",
        agents=(*event.agents, Agent(name=by, version="", type=AgentType.PERSON)),
    )


def _export_event(
    fmt: ExportFormat, aip_id: str, fetched: _Fetched, out: Path, now: datetime, transfer: _Transfer
) -> Event:
    """The dissemination event of a transfer package: what was written, for whom, under which
    decision, and which restricted records left with it."""
    what = "TT 05/2025 AIP package" if fmt is ExportFormat.TT05_AIP else "BagIt bag (RFC 8493)"
    lines = [
        f"version {fetched.version}, {len(fetched.files)} files read from '{fetched.location}', each "
        f"verified against the OCFL inventory (SHA-512) and the catalog (SHA-256); written to {out}",
        f"recipient: {transfer.recipient}",
    ]
    if transfer.decision:
        lines.append(f"decision: {transfer.decision}")
    if transfer.restricted:
        lines.append(
            "restricted records transferred under that decision: "
            + "; ".join(f"{r.code} ({r.reason})" for r in transfer.restricted)
        )
    return Event(
        type=EventType.DISSEMINATION,
        outcome=Outcome.SUCCESS,
        detail=f"AIP version exported as a ZIP of the {what} ({fmt.value})",
        detail_code="export.zip",
        detail_params={"format": fmt.value},
        outcome_detail="\n".join(lines),
        agents=(software_agent(),),
        objects=(aip_id,),
        datetime=now,
    )
