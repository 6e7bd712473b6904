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
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import ErrorKind
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.tt05.model import Description
from preservation.tt05.tables import Tables, shipped_tables
from repository.actor import Actor
from repository.catalog.auditlog import record_action
from repository.settings import Settings
from workflows.access.access_rules import Selection, Withheld, document_code, narrow, select_documents
from workflows.access.dip import AccessRequest, dip_event, request_to_description, software_agent
from workflows.access.dip_writer import DipWriter
from workflows.access.errors import ExportError
from workflows.access.export_transfer import Fetched, Transfer, check_transfer, fetch, make_bag
from workflows.access.export_zip import check_target, zip_and_publish
from workflows.jobs.envelope import JobSpec, Workflow, run_job
from workflows.jobs.runner import kill_point

__all__ = [
    "AccessRequest",
    "ErrorKind",
    "ExportError",
    "ExportFormat",
    "ExportResult",
    "Withheld",
    "export_aip",
]


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
    whole_aip: bool = False  # a DIP of an AIP without TT 05 descriptions, released whole
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
            "whole_aip": self.whole_aip,
            "released": list(self.released),
            "withheld": [w.as_dict() for w in self.withheld],
            "approved_conditional": self.approved_conditional or None,
            "recipient": self.recipient or None,
            "decision": self.decision or None,
            "restricted": [r.as_dict() for r in self.restricted],
        }


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
    actor: Actor | None = None,
    job_id: str | None = None,
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
        actor: who is behind the command (the CLI's OS user acting for ``by``, the web user):
            its signature is the event's ``by``, and the export is a row of the staff audit log
            (``export.aip``, ``export.dip``, ``export.bagit``) written with the event.
        job_id: the job's id, when the caller records it before the job starts (a dissemination
            request names the job that builds its DIP).

    Raises:
        ExportError: every failure; nothing is left under ``out``. ``export.restricted_content``
            (refused) lists each restricted record and why in ``details``.
    """
    check_target(out)
    _check_form(fmt, request, recipient, decision)
    transfer = None if fmt is ExportFormat.TT05_DIP else check_transfer(sessions, aip_id, recipient, decision)
    dip = _dip_request(sessions, aip_id, request, tables) if fmt is ExportFormat.TT05_DIP else None
    now = datetime.now(UTC)
    zone = ZoneInfo(settings.package.timezone)
    spec = JobSpec(
        kind=Workflow.EXPORT,
        source=aip_id,
        source_name=out.name,
        options={"format": fmt.value, "out": str(out), "version": version, "location": location},
    )
    with run_job(settings, sessions, spec, job_id=job_id) as job:
        staging = job.work_dir  # removed by the envelope whatever happens
        staging.mkdir(parents=True)
        fetched = fetch(settings, sessions, aip_id, staging / "aip", version, location)
        kill_point("export: fetched")  # crash tests (KHOLUU_KILL_AT): the AIP read, nothing written
        if dip is not None:
            source, expected, event, dip_id = _dip_package(settings, dip, aip_id, fetched, staging, now, zone)
            strict = True
        else:
            assert transfer is not None
            dip_id = ""
            source, expected, strict = _transfer_package(settings, fmt, fetched, staging, now, zone)
            event = _export_event(fmt, aip_id, fetched, out, now, transfer)
        who = actor.signature() if actor is not None else by.strip()
        if who:
            event = _taken_by(event, unicodedata.normalize("NFC", who))
        audit = None
        if actor is not None:
            params = {
                "format": fmt.value,
                "version": fetched.version,
                "out": str(out),
                "event_id": event.identifier,
                "dip_id": dip_id or None,
                "recipient": transfer.recipient if transfer else None,
                "decision": transfer.decision if transfer else None,
                "request_id": request.request_id if request else None,
            }
            audit = _audit_row(actor, _ACTIONS[fmt], aip_id, params)
        files, size = zip_and_publish(
            source, expected, strict, out, sessions, aip_id, event, now, zone, audit
        )
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
        whole_aip=bool(dip and dip.selection.whole_aip),
        released=tuple(document_code(d) for _, d in dip.selection.released) if dip else (),
        withheld=dip.selection.withheld if dip else (),
        approved_conditional=request.approved_conditional.strip() if request else "",
        recipient=transfer.recipient if transfer else "",
        decision=transfer.decision if transfer else "",
        restricted=transfer.restricted if transfer else (),
    )


_ACTIONS = {
    ExportFormat.TT05_AIP: "export.aip",
    ExportFormat.TT05_DIP: "export.dip",
    ExportFormat.BAGIT: "export.bagit",
}


def _audit_row(actor: Actor, action: str, aip_id: str, params: dict[str, Any]) -> Callable[[Session], object]:
    """The export's row of the staff audit log, written in the transaction of its event."""
    return lambda session: record_action(session, actor, action, aip_id, params)


def _check_form(
    fmt: ExportFormat, request: AccessRequest | None, recipient: str | None, decision: str | None
) -> None:
    """The options that belong to the other forms are refused (usage), not silently ignored."""
    if fmt is not ExportFormat.TT05_DIP and request is not None:
        raise ExportError(
            "access-request options only apply to --format tt05-dip",
            code="export.request_not_dip",
            kind=ErrorKind.USAGE,
        )
    if fmt is ExportFormat.TT05_DIP and (recipient is not None or decision is not None):
        raise ExportError(
            "--recipient and --decision apply to tt05-aip and bagit; a DIP goes to the requester",
            code="export.transfer_not_dip",
            kind=ErrorKind.USAGE,
        )


@dataclass(frozen=True)
class _DipRequest:
    """A DIP's access request, its EAD description and the documents it releases."""

    request: AccessRequest
    tables: Tables
    description: Description
    selection: Selection


def _dip_request(
    sessions: sessionmaker[Session], aip_id: str, request: AccessRequest | None, tables: Tables | None
) -> _DipRequest:
    """The DIP's request description and the documents it releases, decided before any byte is read.

    Raises:
        ExportError: ``export.request_missing`` (usage), ``export.nothing_to_release`` (refused).
    """
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
    selection = narrow(selection, request.documents)
    if not selection.released and not selection.whole_aip:
        raise ExportError(
            f"nothing in AIP {aip_id} may be released to this requester",
            code="export.nothing_to_release",
            kind=ErrorKind.REFUSED,
            params={"aip_id": aip_id, "withheld": len(selection.withheld)},
            details=[w.as_dict() for w in selection.withheld],
        )
    return _DipRequest(request, tables, request_description, selection)


def _dip_package(
    settings: Settings,
    dip: _DipRequest,
    aip_id: str,
    fetched: Fetched,
    staging: Path,
    now: datetime,
    zone: tzinfo,
) -> tuple[Path, dict[str, str], Event, str]:
    """The DIP folder, the SHA-256 of each of its files, the catalog's event (naming the withheld
    documents) and the DIP's identifier; the DIP itself carries the event without them."""
    dip_id = f"uuid-{str(uuid.uuid4()).upper()}"  # TT 05 Phụ lục V: DIP OBJID uuid-…
    event = dip_event(dip.request, dip.selection, aip_id, dip_id, now, full=True)
    source, expected = DipWriter(settings, dip.tables, dip_id, staging / "dip", now, zone).write(
        fetched.folder,
        fetched.version,
        fetched.files,
        dip.selection,
        dip.description,
        dip_event(dip.request, dip.selection, aip_id, dip_id, now),
    )
    return source, expected, event, dip_id


def _transfer_package(
    settings: Settings, fmt: ExportFormat, fetched: Fetched, staging: Path, now: datetime, zone: tzinfo
) -> tuple[Path, dict[str, str], bool]:
    """The folder a transfer package's ZIP holds, the SHA-256 of each file, and whether every file
    must be one of those (a bag's tag files are ours, written just now)."""
    if fmt is ExportFormat.TT05_AIP:
        return fetched.folder, {p: f.sha256 for p, f in fetched.files.items()}, True
    source = make_bag(settings, fetched, staging / "bag", now, zone)
    return source, {f"data/{fetched.folder.name}/{p}": f.sha256 for p, f in fetched.files.items()}, False


# ----------------------------------------------------------------------------------------- events


def _taken_by(event: Event, by: str) -> Event:
    return dataclasses.replace(
        event,
        outcome_detail=f"{event.outcome_detail}\nexported by: {by}",
        agents=(*event.agents, Agent(name=by, version="", type=AgentType.PERSON)),
    )


def _export_event(
    fmt: ExportFormat, aip_id: str, fetched: Fetched, out: Path, now: datetime, transfer: Transfer
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
