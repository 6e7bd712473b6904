"""Catalog tables for ingest: jobs, AIPs, their files and copies, PREMIS events and agents.

Names follow docs/glossary.md and docs/architecture.md. The catalog is Data Management in OAIS
terms: it can be rebuilt from storage (OCFL inventories and the PREMIS files inside each AIP), so
nothing here is the only record of a preservation fact except the events that happen after an AIP
is stored (storage, accession, audits), which later AIP versions carry into storage.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repository.catalog.base import Base, BigInt, Sha256, Sha512, Timestamp, enum_column


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker (workflows/jobs/queue.py)
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # a tool or the system failed; the SIP may be fine
    REFUSED = "refused"  # the SIP is not acceptable (infected, hostile, invalid, duplicate)
    INTERRUPTED = "interrupted"  # the process died (e.g. SIGKILL); cleaned up by the next run
    DEAD = "dead"  # failed on every attempt the queue allows (the dead letter); staff must act


class StepStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AipStatus(StrEnum):
    STORING = "storing"  # being written; never shown as an AIP that exists
    STORED = "stored"  # every required copy written and verified
    DEGRADED = "degraded"  # stored, but a required copy is missing or pending
    FAILED = "failed"


class CopyStatus(StrEnum):
    STORED = "stored"
    PENDING = "pending"
    FAILED = "failed"


class FileRole(StrEnum):
    ORIGINAL = "original"  # payload, as submitted
    METADATA = "metadata"  # submitted metadata kept in the AIP
    PACKAGE = "package"  # METS, PREMIS, schemas written by us
    DERIVATIVE = "derivative"  # a preservation or access copy made by a policy action


class Agent(Base):
    """A PREMIS agent. One row per distinct (name, version, type, note)."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[Sha256] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def identifier(self) -> str:
        return f"{self.name}/{self.version}" if self.version else self.name


class Job(Base):
    """One run of a long action (kind: ingest, update, audit, replication, export):
    workflows/jobs/envelope.py."""

    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), index=True)
    source: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(Text)
    aip_id: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[Timestamp]
    ended_at: Mapped[Timestamp | None]
    pid: Mapped[int | None]
    hostname: Mapped[str | None] = mapped_column(String(255))
    quarantine_path: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_params: Mapped[dict[str, Any] | None]
    options: Mapped[dict[str, Any]]
    file_count: Mapped[int | None]
    total_bytes: Mapped[BigInt | None]
    attempt: Mapped[int | None]
    """Which attempt of a queued job this row is (1 first); None for a job run outside the queue."""
    retry_of: Mapped[str | None] = mapped_column(String(36), index=True)
    """The first attempt's id (the id the submitter was given) when this row is a later attempt."""
    progress: Mapped[dict[str, Any] | None]
    """What the running step is doing (step, done, total, item), written at most once a second so
    that any process (the web page, ``kholuu ingest`` waiting) can show it."""

    steps: Mapped[list[JobStep]] = relationship(
        back_populates="job", order_by="JobStep.ordinal", cascade="all, delete-orphan"
    )
    errors: Mapped[list[JobError]] = relationship(
        back_populates="job", order_by="JobError.id", cascade="all, delete-orphan"
    )


class JobStep(Base):
    __tablename__ = "job_step"
    __table_args__ = (UniqueConstraint("job_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    ordinal: Mapped[int]
    status: Mapped[StepStatus] = mapped_column(enum_column(StepStatus))
    started_at: Mapped[Timestamp]
    ended_at: Mapped[Timestamp | None]
    message: Mapped[str | None] = mapped_column(Text)

    job: Mapped[Job] = relationship(back_populates="steps")


class JobError(Base):
    """One error record of a failed or refused job: which file, which tool, what it said."""

    __tablename__ = "job_error"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    tool: Mapped[str | None] = mapped_column(String(200))
    exit_code: Mapped[int | None]
    stderr: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]]

    job: Mapped[Job] = relationship(back_populates="errors")


class Aip(Base):
    """An archival information package. ``id`` is ``uuid-<uuid>``, the OCFL object id."""

    __tablename__ = "aip"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    objid: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    status: Mapped[AipStatus] = mapped_column(enum_column(AipStatus), index=True)
    package_kind: Mapped[str] = mapped_column(String(20))
    container: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(Text)
    payload_digest: Mapped[Sha256] = mapped_column(index=True)
    file_count: Mapped[int]
    payload_bytes: Mapped[BigInt]
    created_at: Mapped[Timestamp]
    stored_at: Mapped[Timestamp | None]
    current_version: Mapped[int]
    job_id: Mapped[str] = mapped_column(String(36), index=True)

    versions: Mapped[list[AipVersion]] = relationship(
        back_populates="aip", order_by="AipVersion.number", cascade="all, delete-orphan"
    )
    files: Mapped[list[File]] = relationship(
        back_populates="aip", order_by="File.id", cascade="all, delete-orphan"
    )
    copies: Mapped[list[Copy]] = relationship(
        back_populates="aip", order_by="Copy.location", cascade="all, delete-orphan"
    )


class AipVersion(Base):
    __tablename__ = "aip_version"
    __table_args__ = (UniqueConstraint("aip_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("aip.id", ondelete="CASCADE"))
    number: Mapped[int]
    created_at: Mapped[Timestamp]
    message: Mapped[str] = mapped_column(Text)

    aip: Mapped[Aip] = relationship(back_populates="versions")


class File(Base):
    """A file of an AIP version. Payload files keep their submitted name three ways: exact bytes,
    text (as in the AIP), and NFC (what search compares)."""

    __tablename__ = "file"
    __table_args__ = (
        UniqueConstraint("aip_id", "version", "aip_path"),
        Index("ix_file_aip_id_version", "aip_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("aip.id", ondelete="CASCADE"))
    version: Mapped[int]
    uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    role: Mapped[FileRole] = mapped_column(enum_column(FileRole))
    representation: Mapped[str | None] = mapped_column(String(200))
    derived_from: Mapped[str | None] = mapped_column(String(36), index=True)
    """uuid of the source file of a derivative (preservation or access copy); NULL for originals."""
    action: Mapped[str | None] = mapped_column(String(40))
    """fingerprint of the policy action that made a derivative (``kholuu migrate`` compares it)."""
    aip_path: Mapped[str] = mapped_column(Text)
    path_raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    path: Mapped[str | None] = mapped_column(Text)
    path_nfc: Mapped[str | None] = mapped_column(Text)
    size: Mapped[BigInt]
    sha256: Mapped[Sha256] = mapped_column(index=True)
    sha512: Mapped[Sha512]
    puid: Mapped[str | None] = mapped_column(String(40), index=True)
    format_name: Mapped[str | None] = mapped_column(Text)
    format_version: Mapped[str | None] = mapped_column(String(100))
    mime: Mapped[str | None] = mapped_column(String(200))
    identification_basis: Mapped[str | None] = mapped_column(Text)
    identification_warning: Mapped[str | None] = mapped_column(Text)
    validity: Mapped[str | None] = mapped_column(String(20))
    characteristics: Mapped[list[Any] | None]

    aip: Mapped[Aip] = relationship(back_populates="files")


class Copy(Base):
    """One copy of one AIP version in one storage location."""

    __tablename__ = "copy"
    __table_args__ = (
        UniqueConstraint("aip_id", "version", "location"),
        Index("ix_copy_location_last_checked_at", "location", "last_checked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("aip.id", ondelete="CASCADE"))
    version: Mapped[int]
    location: Mapped[str] = mapped_column(String(100))
    status: Mapped[CopyStatus] = mapped_column(enum_column(CopyStatus))
    object_path: Mapped[str] = mapped_column(Text)
    written_at: Mapped[Timestamp | None]
    verified_at: Mapped[Timestamp | None]
    last_checked_at: Mapped[Timestamp | None]
    """When a fixity audit last read this copy (whatever the outcome); the audit picks the oldest."""
    check_outcome: Mapped[str | None] = mapped_column(String(20))
    """Outcome of that audit: passed, repaired, failed, could not check."""

    aip: Mapped[Aip] = relationship(back_populates="copies")


class Event(Base):
    """A PREMIS event. ``in_package`` says whether the AIP's own PREMIS files carry it (events after
    the package was written — storage, accession, later checks — live here until a new version)."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    datetime: Mapped[Timestamp]
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)
    outcome_detail: Mapped[str] = mapped_column(Text, default="")
    job_id: Mapped[str | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"), index=True)
    aip_id: Mapped[str | None] = mapped_column(ForeignKey("aip.id", ondelete="CASCADE"), index=True)
    in_package: Mapped[bool] = mapped_column(default=False)
    detail_code: Mapped[str | None] = mapped_column(String(80))
    """The language-neutral detail (a key of the messages' ``[event]`` section); None for events
    recorded before codes existed, which show ``detail``."""
    detail_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    agents: Mapped[list[EventAgent]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    objects: Mapped[list[EventObject]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class EventAgent(Base):
    __tablename__ = "event_agent"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"), primary_key=True)
    agent: Mapped[Agent] = relationship(lazy="joined")


class EventObject(Base):
    """A ``linkingObjectIdentifier``: a file uuid, or the AIP id for package-level events."""

    __tablename__ = "event_object"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


__all__ = [
    "Agent",
    "Aip",
    "AipStatus",
    "AipVersion",
    "AuditFinding",
    "AuditLease",
    "AuditRun",
    "Copy",
    "CopyStatus",
    "Event",
    "EventAgent",
    "EventObject",
    "File",
    "FileRole",
    "Incident",
    "IngestClaim",
    "Job",
    "JobError",
    "JobStatus",
    "JobStep",
    "StepStatus",
]


class AuditRun(Base):
    """One fixity audit: what was asked, what was read, what was found and repaired."""

    __tablename__ = "audit_run"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[Timestamp] = mapped_column(index=True)
    ended_at: Mapped[Timestamp | None]
    status: Mapped[str] = mapped_column(String(20))  # running | completed | failed
    trigger: Mapped[str] = mapped_column(String(20))  # cli | scheduler
    mode: Mapped[str] = mapped_column(String(20))  # all | due
    location: Mapped[str | None] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(300))
    copies_checked: Mapped[int] = mapped_column(default=0)
    files_checked: Mapped[int] = mapped_column(default=0)
    bytes_checked: Mapped[BigInt] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    repaired: Mapped[int] = mapped_column(default=0)
    incidents: Mapped[int] = mapped_column(default=0)
    could_not_check: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")

    findings: Mapped[list[AuditFinding]] = relationship(
        back_populates="run", order_by="AuditFinding.id", cascade="all, delete-orphan"
    )


class AuditFinding(Base):
    """One problem an audit found in one copy, and what was done about it."""

    __tablename__ = "audit_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("audit_run.id", ondelete="CASCADE"), index=True)
    aip_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    location: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(Text)  # the key inside the OCFL object
    kind: Mapped[str] = mapped_column(String(20))  # corrupt | missing | unexpected | manifest
    code: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[Timestamp]
    repair: Mapped[str] = mapped_column(
        String(30)
    )  # repaired | moved aside | no good copy | repair off | none
    repaired_from: Mapped[str | None] = mapped_column(String(100))
    event_id: Mapped[str | None] = mapped_column(String(36))

    run: Mapped[AuditRun] = relationship(back_populates="findings")


class Incident(Base):
    """Damage with no good copy anywhere: open until a person acknowledges it."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(String(64), index=True)
    location: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[Timestamp]
    run_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | acknowledged
    acknowledged_at: Mapped[Timestamp | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class AuditLease(Base):
    """Who is auditing a location right now: two scheduler processes never audit the same location
    at once (taken with one conditional UPDATE, released at the end, expiring if the holder dies)."""

    __tablename__ = "audit_lease"

    location: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(300))
    run_id: Mapped[str] = mapped_column(String(36))
    expires_at: Mapped[Timestamp]


class IngestClaim(Base):
    """What one ingest has taken for itself: a payload (``payload:<sha256>``) or a record
    (``record:<mã hồ sơ>``). The primary key is the lock: two ingests of the same payload or the
    same hồ sơ started at once cannot both insert it, so the loser is refused as a duplicate before
    anything is stored (issue 11 item 4). A claim of a job that completed stays (its AIP holds the
    payload or record); one of a job that failed, was refused or died may be taken over."""

    __tablename__ = "ingest_claim"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    claimed_at: Mapped[Timestamp]
    # the completed ingest this one took the claim over from (kholuu ingest --supersedes): it gets
    # the claim back if this one fails, since its AIP still holds the payload or record
    previous_job_id: Mapped[str | None] = mapped_column(String(36))


class AuditLogEntry(Base):
    """One staff action in the append-only, hash-chained audit log (issue 13; ISO 16363 3.3.5,
    4.6.1.1: the repository records who did what, when and from where).

    ``hash`` is the SHA-256 of the row's canonical serialization, which includes ``prev_hash`` (the
    hash of row ``seq - 1``; 64 zeros for the first row), so editing, deleting or reordering a row
    breaks the chain (:mod:`repository.catalog.auditlog`). ``seq`` as the key and the unique
    ``prev_hash`` make a fork impossible even if two writers raced past the append lock.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[Timestamp] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)  # login name, OS user, scheduler
    on_behalf: Mapped[str] = mapped_column(String(200))  # the CLI's --by; "" otherwise
    role: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))  # client address (web) or host name (CLI)
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. transfer.receive
    target: Mapped[str] = mapped_column(Text)  # AIP id, record code, transfer id...
    params: Mapped[str] = mapped_column(Text)  # canonical JSON, as hashed
    prev_hash: Mapped[Sha256] = mapped_column(unique=True)
    hash: Mapped[Sha256] = mapped_column(unique=True)
