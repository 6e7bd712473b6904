"""An approved request's DIP: built as a job, offered through a one-time, time-limited link.

:func:`build` runs :func:`workflows.access.export.export_aip` (``tt05-dip``: the access rules, the
reader's copies and the Vietnamese index ``documentation/muc-luc.html``) as a job whose id the
request keeps, and writes the ZIP to ``<home>/dips/<request id>.zip`` (the export writes under a
temporary name and renames only with its event committed). It then issues the download link:
a random token, kept only as its SHA-256, valid ``[access] dip_link_hours`` after the build.

:func:`issue_link` gives a fresh token for a ready request (the reader lost the link; the old one
stops working; the expiry does not move). :func:`open_download` checks a token;
:func:`complete_download` counts the first complete download, after which the link is refused.
:func:`expire` ends the links past their time and deletes the ZIPs no longer needed (the CLI's
``kholuu request expire``, or the scheduler).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import ErrorKind, KholuuError
from preservation.fixity import MultiHasher, iter_blocks
from repository.actor import Actor
from repository.catalog.models import Job, JobStatus
from repository.catalog.requests import DisseminationRequest, RequestStatus
from repository.settings import Settings
from workflows.access.errors import RequestError
from workflows.access.export import AccessRequest, ExportFormat, export_aip
from workflows.access.requests import (
    check_decider,
    check_state,
    get_request,
    new_secret,
    record_event,
    secret_hash,
)
from workflows.jobs.recovery import recover_interrupted
from workflows.jobs.runner import kill_point

DIP_FOLDER = "dips"
CLAIM_GRACE = timedelta(minutes=5)
"""How long a request marked ``building`` waits for its job to start before another build may
take it over."""


@dataclass(frozen=True)
class Built:
    """A built DIP and its download link's token (shown once)."""

    request_id: str
    job_id: str
    path: Path
    bytes: int
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Download:
    """What a valid link serves."""

    request_id: str
    path: Path
    size: int
    sha256: str
    built_at: datetime


def dip_path(settings: Settings, request_id: str) -> Path:
    return settings.home / DIP_FOLDER / f"{request_id}.zip"


def build(
    settings: Settings,
    sessions: sessionmaker[Session],
    request_id: str,
    actor: Actor,
    *,
    now: datetime | None = None,
    job_id: str | None = None,
) -> Built:
    """Build the DIP of an approved (or failed) request and issue its link.

    Raises:
        RequestError: ``request.not_allowed``, ``request.wrong_state`` (``building`` is refused
            while its job runs; a request whose build job died may be built again).
        KholuuError: the export's own error (``export.*``, ``fetch.*``); the request is then
            ``failed`` with that code, and may be built again.
    """
    check_decider(actor, "build")
    started = now or datetime.now(UTC)
    expire(sessions, now=started)  # every build also clears the links and ZIPs past their time
    recover_interrupted(settings, sessions)  # a build killed half-way is rolled back first
    job_id = job_id or str(uuid.uuid4())  # a queued build's job was written when it was queued
    request_id, aip_id, access = _claim(sessions, request_id, job_id, started)
    out = dip_path(settings, request_id)
    out.unlink(missing_ok=True)  # a ZIP of an earlier, failed attempt never stands for this one
    try:
        result = export_aip(
            settings,
            sessions,
            aip_id,
            out,
            fmt=ExportFormat.TT05_DIP,
            request=access,
            actor=actor,  # its signature on the event, and an export.dip row of the staff audit log
            job_id=job_id,
        )
    except KholuuError as exc:
        _failed(sessions, request_id, exc.code, now or datetime.now(UTC))
        raise
    except BaseException:
        _failed(sessions, request_id, "internal.error", now or datetime.now(UTC))
        raise
    kill_point("dip: exported")  # crash tests (KHOLUU_KILL_AT): the ZIP published, the request not ready
    digest = _sha256(out)
    done = now or datetime.now(UTC)
    token = new_secret()
    expires = done + timedelta(hours=settings.access.dip_link_hours)
    with sessions.begin() as session:
        row = get_request(session, request_id)
        row.status, row.dip_id, row.dip_path = RequestStatus.READY, result.dip_id, str(out)
        row.dip_bytes, row.dip_sha256, row.built_at = out.stat().st_size, digest, done
        row.token_hash, row.expires_at, row.updated_at = secret_hash(token), expires, done
    return Built(request_id, job_id, out, out.stat().st_size, token, expires)


def _claim(
    sessions: sessionmaker[Session], request_id: str, job_id: str, now: datetime
) -> tuple[str, str, AccessRequest]:
    """Mark the request ``building`` under ``job_id``, compare-and-set: of two builds started at
    once (a double click) exactly one wins, the other gets ``request.wrong_state``."""
    with sessions.begin() as session:
        row = get_request(session, request_id)
        if row.status is not RequestStatus.BUILDING or _build_running(session, row, now):
            check_state(row, "built", RequestStatus.APPROVED, RequestStatus.FAILED)
        claimed = session.execute(
            update(DisseminationRequest)
            .where(
                DisseminationRequest.id == row.id,
                DisseminationRequest.status == row.status,
                DisseminationRequest.job_id == row.job_id
                if row.job_id is not None
                else DisseminationRequest.job_id.is_(None),
            )
            .values(status=RequestStatus.BUILDING, job_id=job_id, failure="", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise RequestError(
                f"request {row.id} is being built by another job",
                code="request.wrong_state",
                params={"request": row.id, "status": RequestStatus.BUILDING.value, "action": "built"},
            )
        access = AccessRequest(
            request_id=row.id,
            request_date=row.submitted_at.date().isoformat(),
            purpose=row.purpose,
            purpose_content=row.purpose_content,
            fee_object=row.fee_object,
            topic=row.topic,
            note=row.note,
            approved_conditional=row.decision_number,
            documents=tuple(str(c) for c in row.record_codes),
        )
        return row.id, row.aip_id, access


def _build_running(session: Session, row: DisseminationRequest, now: datetime) -> bool:
    """Whether the job building a request's DIP still runs. After recovery a killed job is
    ``interrupted``; a claim whose job row never appeared (the process died in between, or the job
    is just starting) counts as running for :data:`CLAIM_GRACE`."""
    job = session.get(Job, row.job_id) if row.job_id else None
    if job is None:
        return now - row.updated_at < CLAIM_GRACE
    return job.status is JobStatus.RUNNING


def _failed(sessions: sessionmaker[Session], request_id: str, code: str, now: datetime) -> None:
    with sessions.begin() as session:
        row = get_request(session, request_id)
        row.status, row.failure, row.updated_at = RequestStatus.FAILED, code, now


def _sha256(path: Path) -> str:
    hasher = MultiHasher(("sha256",))
    with path.open("rb") as fh:
        for block in iter_blocks(fh):
            hasher.update(block)
    return hasher.result().sha256


def issue_link(session: Session, request_id: str, *, now: datetime) -> tuple[str, datetime]:
    """A fresh download token for a ready request; the previous one stops working.

    Raises:
        RequestError: ``request.wrong_state`` (not ready), ``request.link_expired``.
    """
    row = get_request(session, request_id)
    check_state(row, "downloaded", RequestStatus.READY)
    assert row.expires_at is not None
    if row.expires_at <= now:
        raise _expired(row.id)
    token = new_secret()
    row.token_hash, row.updated_at = secret_hash(token), now
    return token, row.expires_at


def _expired(request_id: str) -> RequestError:
    return RequestError(
        f"the download link of request {request_id} has expired",
        code="request.link_expired",
        params={"request": request_id},
    )


def open_download(session: Session, token: str, *, now: datetime) -> Download:
    """The DIP a link serves, if it still may.

    Raises:
        RequestError: ``request.link_unknown`` (not found), ``request.link_used`` (downloaded
            completely already), ``request.link_expired``.
    """
    row = session.scalar(
        select(DisseminationRequest).where(DisseminationRequest.token_hash == secret_hash(token))
    )
    if row is None:
        raise RequestError(
            "no download link with this token", code="request.link_unknown", kind=ErrorKind.NOT_FOUND
        )
    if row.status is RequestStatus.DOWNLOADED:
        raise RequestError(
            f"the DIP of request {row.id} was downloaded already",
            code="request.link_used",
            params={"request": row.id},
        )
    path = Path(row.dip_path)
    if (
        row.status is not RequestStatus.READY
        or row.expires_at is None
        or row.expires_at <= now
        or not path.is_file()
    ):
        raise _expired(row.id)
    assert row.built_at is not None and row.dip_bytes is not None
    return Download(row.id, path, row.dip_bytes, row.dip_sha256, row.built_at)


def complete_download(sessions: sessionmaker[Session], request_id: str, *, now: datetime) -> bool:
    """Count the first complete download (the last byte handed to the reader's connection) and
    record its event; False when another download counted first."""
    with sessions.begin() as session:
        done = session.execute(
            update(DisseminationRequest)
            .where(DisseminationRequest.id == request_id, DisseminationRequest.status == RequestStatus.READY)
            .values(
                status=RequestStatus.DOWNLOADED,
                download_count=DisseminationRequest.download_count + 1,
                downloaded_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return False
        row = get_request(session, request_id)
        record_event(
            session,
            row.aip_id,
            row.id,
            None,
            now,
            detail="DIP downloaded by the requester through the one-time link",
            detail_code="request.downloaded",
            note=f"DIP {row.dip_id} of access request {row.id} downloaded completely ({row.dip_bytes} bytes)",
        )
    return True


@dataclass(frozen=True)
class Expired:
    expired: tuple[str, ...]  # requests whose link ran out now
    deleted: tuple[str, ...]  # ZIPs deleted (expired or downloaded)


def expire(sessions: sessionmaker[Session], *, now: datetime) -> Expired:
    """End the links past their time (status ``expired``, an event each) and delete the ZIPs of
    requests that are expired or downloaded: a DIP is a copy for one reader, kept no longer."""
    expired: list[str] = []
    deleted: list[str] = []
    with sessions.begin() as session:
        due = session.scalars(
            select(DisseminationRequest).where(
                DisseminationRequest.status == RequestStatus.READY, DisseminationRequest.expires_at <= now
            )
        ).all()
        for row in due:
            row.status, row.updated_at = RequestStatus.EXPIRED, now
            expired.append(row.id)
            record_event(
                session,
                row.aip_id,
                row.id,
                None,
                now,
                detail="DIP download link expired unused; the DIP is deleted",
                detail_code="request.expired",
                note=f"download link of access request {row.id} expired at {row.expires_at}",
            )
        ended = session.scalars(
            select(DisseminationRequest).where(
                DisseminationRequest.status.in_([RequestStatus.EXPIRED, RequestStatus.DOWNLOADED]),
                DisseminationRequest.dip_path != "",
            )
        ).all()
        paths = [(row.id, Path(row.dip_path)) for row in ended]
    for request_id, path in paths:
        if path.is_file():
            path.unlink()
            deleted.append(request_id)
    return Expired(tuple(expired), tuple(deleted))


__all__ = [
    "CLAIM_GRACE",
    "DIP_FOLDER",
    "Built",
    "Download",
    "Expired",
    "build",
    "complete_download",
    "dip_path",
    "expire",
    "issue_link",
    "open_download",
]
