"""Copy a stored AIP out of archival storage, verified file by file.

The destination gets ``<out>/<AIP folder>/`` with the package exactly as stored (the OCFL
version's logical state); every file's SHA-512 is checked against the OCFL inventory while it is
written and its SHA-256 against the catalog too; a copy that fails either is skipped for the next
location's (:meth:`repository.storage.copyset.CopySet.read_verified`).

A fetch hands over every record in the AIP, whatever its mức độ tiếp cận, so it is access like an
export (issue 11 item 23): an AIP holding a record that is not public (mode other than 01 Công khai,
or on the list of tài liệu tiếp cận có điều kiện) is fetched only by a named person for a stated
reason, and every fetch is recorded as a PREMIS ``dissemination`` event naming who took what,
where to, and which non-public records left with it.
"""

from __future__ import annotations

import getpass
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.aip import folder_name
from preservation.errors import ErrorKind, KholuuError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from repository.actor import Actor
from repository.catalog import store
from repository.catalog.auditlog import record_action
from repository.catalog.models import Aip, CopyStatus
from repository.catalog.records import AccessRestriction, Dossier
from repository.catalog.records_store import PUBLIC_MODE
from repository.settings import Settings
from repository.storage.copyset import CopySet, NoGoodCopy
from workflows.jobs.envelope import Workflow, workflow_agent


class RetrieveError(KholuuError):
    """No verified copy of the AIP could be copied out (``code`` says why); nothing was left at the
    target."""

    code = "fetch.failed"


def not_public(session: Session, aip_id: str) -> list[str]:
    """The codes of the AIP's records a reader could not see: hồ sơ or tài liệu whose mức độ tiếp
    cận is not 01 (Công khai; a missing code counts as not public), or on the list of tài liệu tiếp
    cận có điều kiện now. A hồ sơ is named once (its documents go with it)."""
    dossiers = list(
        session.scalars(
            select(Dossier)
            .where(Dossier.aip_id == aip_id)
            .options(selectinload(Dossier.documents))
            .order_by(Dossier.id)
        )
    )
    listed = session.execute(
        select(AccessRestriction.dossier_id, AccessRestriction.document_id).where(
            AccessRestriction.lifted_on.is_(None)
        )
    ).all()
    listed_dossiers = {d for d, _ in listed if d is not None}
    listed_documents = {d for _, d in listed if d is not None}
    codes: list[str] = []
    for dossier in dossiers:
        if dossier.mode != PUBLIC_MODE or dossier.id in listed_dossiers:
            codes.append(dossier.code)
            continue
        codes.extend(
            doc.doc_code or f"{dossier.code} #{doc.ordinal}"
            for doc in dossier.documents
            if doc.mode != PUBLIC_MODE or doc.id in listed_documents
        )
    return codes


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "unknown"


def fetch_aip(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip_id: str,
    out: Path,
    *,
    version: int | None = None,
    location: str | None = None,
    by: str = "",
    reason: str = "",
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Copy the AIP version out to ``out``, verified, and record who took it.

    Args:
        by: who takes the copy (default: the login name); required, with ``reason``, when the AIP
            holds a record that is not public.
        reason: why (kept in the event).
        actor: who is behind the command (the CLI's OS user acting for ``by``, the web user): the
            event names its signature, and the fetch is a row of the staff audit log written with
            the event, in one transaction.

    Raises:
        RetrieveError: ``fetch.restricted_content`` (refused: non-public records and no ``by`` or
            no ``reason``; nothing is written), ``catalog.not_found``, ``fetch.no_such_version``,
            ``fetch.no_location``, ``fetch.destination_exists``,
            ``fetch.all_copies_failed``.
    """
    named = unicodedata.normalize("NFC", by.strip())
    why = unicodedata.normalize("NFC", reason.strip())
    with sessions() as session:
        restricted = not_public(session, aip_id)
    if restricted and not (named and why):
        raise RetrieveError(
            f"AIP {aip_id} holds {len(restricted)} record(s) that are not public "
            f"({', '.join(restricted)}); a fetch of it needs --by NAME and --reason TEXT",
            code="fetch.restricted_content",
            kind=ErrorKind.REFUSED,
            params={"aip_id": aip_id, "count": len(restricted), "codes": ", ".join(restricted)},
        )
    copied = copy_aip(settings, sessions, aip_id, out, version=version, location=location)
    who = actor.signature() if actor is not None else named or login_name()
    result = copied | {"by": who, "reason": why, "restricted": restricted}
    event = _fetch_event(result)
    with sessions.begin() as session:
        store.add_events(session, [event], aip_id=aip_id)
        if actor is not None:
            keys = ("version", "location", "path", "files", "reason", "restricted")
            params = {k: result[k] for k in keys} | {"event_id": event.identifier}
            record_action(session, actor, "aip.fetch", aip_id, params)
    return result | {"event_id": event.identifier}


def copy_aip(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip_id: str,
    out: Path,
    *,
    version: int | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    """The verified copy itself, for callers that decide access and record the event themselves
    (:func:`fetch_aip`; :mod:`workflows.access.export`, which withholds or refuses per record)."""
    with sessions() as session:
        aip = session.get(Aip, aip_id, options=[selectinload(Aip.files), selectinload(Aip.copies)])
        if aip is None:
            raise RetrieveError(
                f"no AIP {aip_id}", code="catalog.not_found", params={"kind": "AIP", "id": aip_id}
            )
        wanted = version or aip.current_version
        if wanted < 1 or wanted > aip.current_version:
            raise RetrieveError(
                f"AIP {aip_id} has versions 1 to {aip.current_version}, not {wanted}",
                code="fetch.no_such_version",
                params={"aip_id": aip_id, "version": wanted, "latest": aip.current_version},
            )
        holding = [c.location for c in aip.copies if c.status is CopyStatus.STORED and c.version >= wanted]
        expected = {f.aip_path: f.sha256 for f in aip.files if f.version == wanted}
        objid = aip.objid
    copies = CopySet.of(settings, aip_id)
    configured = [loc.name for loc in copies.locations]
    names = [location] if location else [n for n in configured if n in holding]  # in configured order
    candidates = [n for n in names if n in configured]
    if not candidates:
        raise RetrieveError(
            f"no reachable location holds AIP {aip_id}" + (f" (asked for {location!r})" if location else ""),
            code="fetch.no_location",
            params={"aip_id": aip_id, "location": location},
        )
    destination = out / folder_name(objid)
    if destination.exists() and any(destination.iterdir()):
        raise RetrieveError(
            f"{destination} already exists and is not empty",
            code="fetch.destination_exists",
            path=str(destination),
            params={"path": str(destination)},
        )
    try:
        read_from, digests = copies.read_verified(
            destination, version=wanted, expected=expected, holders=candidates
        )
    except NoGoodCopy as exc:
        raise RetrieveError(
            str(exc),
            code="fetch.all_copies_failed",
            params={"aip_id": aip_id, "problems": exc.params["problems"]},
        ) from exc
    return {
        "aip_id": aip_id,
        "version": wanted,
        "location": read_from,
        "path": str(destination),
        "files": len(digests),
        "bytes": sum(d.size for d in digests.values()),
    }


def _fetch_event(result: dict[str, Any]) -> Event:
    """The dissemination event of a fetch: who took which version where, why, and which records
    that are not public left with it (by code: a title may itself say what a Mật record is about)."""
    lines = [
        f"by: {result['by']}",
        f"reason: {result['reason'] or '(none given)'}",
        f"version {result['version']}, {result['files']} files read from '{result['location']}', each "
        f"verified; written to {result['path']}",
    ]
    if result["restricted"]:
        lines.append("records that are not public: " + "; ".join(result["restricted"]))
    return Event(
        type=EventType.DISSEMINATION,
        outcome=Outcome.SUCCESS,
        detail="AIP version copied out of archival storage as stored (kholuu aip fetch)",
        detail_code="fetch.copied_out",
        detail_params={"version": result["version"], "location": result["location"], "by": result["by"]},
        outcome_detail="\n".join(lines),
        agents=(
            workflow_agent(Workflow.FETCH),
            Agent(name=result["by"], version="", type=AgentType.PERSON),
        ),
        objects=(result["aip_id"],),
        datetime=datetime.now(UTC),
    )
