"""Read-side queries of the catalog, returning plain dicts ready for JSON or tables.

The JSON shapes here are the CLI's (and later the API's) public contract: keys are English,
stable, and documented in docs/cli.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from preservation.errors import ErrorKind, KholuuError
from repository.catalog import store
from repository.catalog.models import Aip, AipStatus, Copy, Event, File, FileRole, Job, JobStatus


class NotFoundError(KholuuError, LookupError):
    """No AIP, job or incident with this identifier (or a prefix matching several): ``params``
    name what was looked for (``kind`` in them is "AIP", "job"...; the error's own ``kind`` is
    :attr:`ErrorKind.NOT_FOUND`)."""

    code = "catalog.not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, what: str, ident: str, *, candidates: list[str] | None = None) -> None:
        self.what = what
        self.ident = ident
        self.candidates = candidates or []
        more = f" (matches: {', '.join(self.candidates)})" if self.candidates else ""
        super().__init__(
            f"no {what} {ident!r}{more}", params={"kind": what, "id": ident, "candidates": self.candidates}
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def resolve_aip_id(session: Session, ident: str) -> str:
    """Accept ``uuid-…``, a bare UUID, or an unambiguous prefix of at least 8 characters."""
    text = ident.strip().lower()
    if not text.startswith("uuid-"):
        try:
            text = f"uuid-{uuid.UUID(text)}"
        except ValueError:
            text = f"uuid-{text}"
    if session.get(Aip, text) is not None:
        return text
    if len(text) >= len("uuid-") + 8:
        matches = list(
            session.scalars(select(Aip.id).where(Aip.id.startswith(text, autoescape=True)).limit(5))
        )
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFoundError("AIP", ident, candidates=matches)
    raise NotFoundError("AIP", ident)


def resolve_job_id(session: Session, ident: str) -> str:
    text = ident.strip().lower()
    if session.get(Job, text) is not None:
        return text
    if len(text) >= 8:
        matches = list(
            session.scalars(select(Job.id).where(Job.id.startswith(text, autoescape=True)).limit(5))
        )
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFoundError("job", ident, candidates=matches)
    raise NotFoundError("job", ident)


def aip_row(a: Aip) -> dict[str, Any]:
    """One AIP as ``kholuu aip list --json`` prints it."""
    return {
        "aip_id": a.id,
        "label": a.label,
        "status": a.status.value,
        "package_kind": a.package_kind,
        "source_name": a.source_name,
        "files": a.file_count,
        "bytes": a.payload_bytes,
        "version": a.current_version,
        "created_at": _iso(a.created_at),
        "stored_at": _iso(a.stored_at),
        "locations": [c.location for c in a.copies if c.version == a.current_version],
    }


def _listed(status: AipStatus | None) -> Any:
    return Aip.status == status if status is not None else Aip.status != AipStatus.STORING


def aip_list(session: Session, *, status: AipStatus | None = None) -> list[dict[str, Any]]:
    q = select(Aip).options(selectinload(Aip.copies)).order_by(Aip.created_at).where(_listed(status))
    return [aip_row(a) for a in session.scalars(q)]


def aip_page(
    session: Session, *, offset: int, limit: int, status: AipStatus | None = None
) -> tuple[list[dict[str, Any]], int]:
    """One page of :func:`aip_list`, newest first, and how many AIPs there are in all."""
    total = session.scalar(select(func.count(Aip.id)).where(_listed(status))) or 0
    q = (
        select(Aip)
        .options(selectinload(Aip.copies))
        .where(_listed(status))
        .order_by(Aip.created_at.desc(), Aip.id)
        .offset(offset)
        .limit(limit)
    )
    return [aip_row(a) for a in session.scalars(q)], total


def event_dict(row: Event) -> dict[str, Any]:
    return {
        "identifier": row.identifier,
        "type": row.type,
        "datetime": _iso(row.datetime),
        "outcome": row.outcome,
        "detail": row.detail,
        "detail_code": row.detail_code or "",
        "detail_params": dict(row.detail_params or {}),
        "outcome_detail": row.outcome_detail,
        "agents": [
            {
                "name": link.agent.name,
                "version": link.agent.version,
                "type": link.agent.type,
                "note": link.agent.note,
            }
            for link in row.agents
        ],
        "objects": [o.identifier for o in row.objects],
        "in_package": row.in_package,
    }


def file_dict(f: File) -> dict[str, Any]:
    return {
        "path": f.path if f.path is not None else f.aip_path,
        "path_nfc": f.path_nfc,
        "path_bytes_hex": f.path_raw.hex() if f.path_raw is not None else None,
        "aip_path": f.aip_path,
        "role": f.role.value,
        "representation": f.representation,
        "uuid": f.uuid,
        "size": f.size,
        "sha256": f.sha256,
        "sha512": f.sha512,
        "puid": f.puid,
        "format_name": f.format_name,
        "format_version": f.format_version,
        "mime": f.mime,
        "identification_basis": f.identification_basis,
        "identification_warning": f.identification_warning,
        "validity": f.validity,
        "characteristics": f.characteristics or [],
    }


def aip_detail(session: Session, aip_id: str, *, include_package_files: bool = True) -> dict[str, Any]:
    aip = session.get(
        Aip, aip_id, options=[selectinload(Aip.files), selectinload(Aip.copies), selectinload(Aip.versions)]
    )
    if aip is None:
        raise NotFoundError("AIP", aip_id)
    files = [f for f in aip.files if f.version == aip.current_version]
    if not include_package_files:
        files = [f for f in files if f.role is FileRole.ORIGINAL]
    return {
        "aip_id": aip.id,
        "objid": aip.objid,
        "label": aip.label,
        "status": aip.status.value,
        "package_kind": aip.package_kind,
        "container": aip.container,
        "source_name": aip.source_name,
        "payload_digest": aip.payload_digest,
        "files_count": aip.file_count,
        "bytes": aip.payload_bytes,
        "created_at": _iso(aip.created_at),
        "stored_at": _iso(aip.stored_at),
        "job_id": aip.job_id,
        "version": aip.current_version,
        "versions": [
            {"number": v.number, "created_at": _iso(v.created_at), "message": v.message} for v in aip.versions
        ],
        "copies": [
            {
                "location": c.location,
                "version": c.version,
                "status": c.status.value,
                "object_path": c.object_path,
                "written_at": _iso(c.written_at),
                "verified_at": _iso(c.verified_at),
                "last_checked_at": _iso(c.last_checked_at),
                "check_outcome": c.check_outcome,
            }
            for c in aip.copies
        ],
        "files": [file_dict(f) for f in files],
        "events": [event_dict(e) for e in store.events_for_aip(session, aip.id)],
    }


def job_list(session: Session, *, status: JobStatus | None = None, limit: int = 100) -> list[dict[str, Any]]:
    q = select(Job).order_by(Job.started_at.desc()).limit(limit)
    if status is not None:
        q = q.where(Job.status == status)
    counted = session.execute(select(Job.id, func.count()).join(Job.errors).group_by(Job.id))
    error_counts = {job_id: count for job_id, count in counted}  # dict(result) would treat it as a mapping
    return [
        {
            "job_id": j.id,
            "kind": j.kind,
            "status": j.status.value,
            "source": j.source,
            "aip_id": j.aip_id if j.status is JobStatus.COMPLETED else None,
            "started_at": _iso(j.started_at),
            "ended_at": _iso(j.ended_at),
            "error_code": j.error_code,
            "errors": error_counts.get(j.id, 0),
            "attempt": j.attempt,
            "retry_of": j.retry_of,
            "source_name": j.source_name,
            "error_message": j.error_message,
            "error_params": j.error_params or {},
        }
        for j in session.scalars(q)
    ]


def job_detail(session: Session, job_id: str) -> dict[str, Any]:
    job = session.get(Job, job_id, options=[selectinload(Job.steps), selectinload(Job.errors)])
    if job is None:
        raise NotFoundError("job", job_id)
    later = select(Job.id).where(Job.retry_of == job.id).order_by(Job.attempt)
    return {
        "job_id": job.id,
        "kind": job.kind,
        "status": job.status.value,
        "attempt": job.attempt,
        "retry_of": job.retry_of,
        "later_attempts": list(session.scalars(later)),
        "live": job.progress if job.status is JobStatus.RUNNING else None,
        "source": job.source,
        "source_name": job.source_name,
        "aip_id": job.aip_id if job.status is JobStatus.COMPLETED else None,
        "started_at": _iso(job.started_at),
        "ended_at": _iso(job.ended_at),
        "pid": job.pid,
        "hostname": job.hostname,
        "quarantine": job.quarantine_path,
        "error": (
            {"code": job.error_code, "message": job.error_message, "params": job.error_params or {}}
            if job.error_code
            else None
        ),
        "steps": [
            {
                "name": s.name,
                "status": s.status.value,
                "started_at": _iso(s.started_at),
                "ended_at": _iso(s.ended_at),
                "message": s.message,
            }
            for s in job.steps
        ],
        "errors": [
            {
                "step": e.step,
                "code": e.code,
                "message": e.message,
                "path": e.path,
                "tool": e.tool,
                "exit_code": e.exit_code,
                "stderr": e.stderr,
                "params": e.params,
            }
            for e in job.errors
        ],
        "events": [event_dict(e) for e in store.events_for_job(session, job.id)],
    }


def find_files(session: Session, text: str) -> list[File]:
    """Payload files whose NFC path contains ``text`` (NFC-normalised first)."""
    from preservation.names import nfc

    needle = f"%{nfc(text)}%"
    return list(
        session.scalars(
            select(File).where(
                File.role == FileRole.ORIGINAL, or_(File.path_nfc.like(needle), File.aip_path.like(needle))
            )
        )
    )


def copy_counts(session: Session) -> dict[str, dict[str, int]]:
    """Location -> copy status -> number of AIP copies (current versions only)."""
    rows = session.execute(
        select(Copy.location, Copy.status, func.count())
        .join(Aip, Aip.id == Copy.aip_id)
        .where(Copy.version == Aip.current_version)
        .group_by(Copy.location, Copy.status)
    )
    out: dict[str, dict[str, int]] = {}
    for location, status, count in rows:
        out.setdefault(location, {})[status.value] = count
    return out
