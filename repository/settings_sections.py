"""The sections of the settings (one frozen dataclass per ``[section]`` of ``config/defaults.toml``).

Separate from :mod:`repository.settings`, which reads, merges and checks them, so that each module
stays one job; :mod:`repository.settings` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from preservation.validation_config import ExternalValidator


@dataclass(frozen=True)
class UiSettings:
    language: str = "vi"


@dataclass(frozen=True)
class AccessSettings:
    """Accounts, login and sessions of the web app (``[access]``, docs/web.md)."""

    login_window_seconds: int = 900
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    password_min_length: int = 12
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    session_hours: int = 8
    cookie_secure: bool = False
    trusted_proxies: int = 0
    dip_link_hours: int = 72


@dataclass(frozen=True)
class WebSettings:
    """The staff workspace's ingest (``[web]``, docs/web.md): where browser uploads may come from."""

    transfer_folder: str = ""
    upload_max_gb: float = 50.0
    upload_chunk_mib: int = 8
    upload_expiry_hours: int = 72


JOB_DISPATCH = ("auto", "queue", "inline")


@dataclass(frozen=True)
class JobsSettings:
    """How long actions are dispatched (``[jobs]``, docs/deploy.md "Workers"): on the queue that
    ``kholuu worker`` processes share (PostgreSQL only), or in the process that asks."""

    dispatch: str = "auto"
    max_attempts: int = 3
    heartbeat_seconds: float = 10.0
    stalled_seconds: float = 60.0
    large_ingest_gb: float = 1.0


@dataclass(frozen=True)
class CatalogSettings:
    url: str = ""


@dataclass(frozen=True)
class ArchiveSettings:
    name: str = ""
    address: str = ""


@dataclass(frozen=True)
class IngestSettings:
    refuse_duplicates: bool = True
    keep_quarantine_on_success: bool = False
    workers: int = 2
    """Files characterized and text-extracted at once (threads; ``workflows.ingest.parallel``)."""


@dataclass(frozen=True)
class VirusCheckSettings:
    clamscan: str = "clamscan"
    clamd: str = ""
    """The ClamAV daemon's socket (``unix:/run/clamav/clamd.ctl``, a path, or ``tcp:HOST:PORT``);
    empty: run ``clamscan``, which loads every signature on each ingest."""
    clamd_connections: int = 4
    """Files given to clamd at once (its own threads scan them, as ``clamdscan --multiscan``)."""
    database: str = ""
    timeout_seconds: float = 3600.0
    max_filesize_mb: int = 4000
    max_scansize_mb: int = 4000
    refuse_unscanned: bool = True


@dataclass(frozen=True)
class IdentificationSettings:
    engine: str = "siegfried"
    cross_check: str = ""
    workers: int = 4


@dataclass(frozen=True)
class CharacterizationSettings:
    enabled: bool = True
    ffprobe: str = "ffprobe"
    ffprobe_timeout_seconds: float = 120.0
    timeout_seconds: float = 300.0
    office_load: str = "parser"
    soffice: str = "soffice"
    soffice_timeout_seconds: float = 120.0
    external: tuple[ExternalValidator, ...] = ()


@dataclass(frozen=True)
class PackageSettings:
    objid_template: str = "{aip_id}"
    mets_profile: str = ""
    content_category: str = "Mixed"
    timezone: str = "Asia/Ho_Chi_Minh"


LOCATION_ROLES = ("primary", "replica", "offline")


@dataclass(frozen=True)
class StorageLocation:
    """One ``[[storage.locations]]`` entry. ``path`` is for ``local``; the rest for ``s3``
    (see repository/storage/s3_options.py ``S3Options`` for what each means). Empty text means unset."""

    name: str
    backend: str
    role: str = "primary"
    path: str = ""
    required: bool = True
    endpoint: str = ""
    region: str = "us-east-1"
    bucket: str = ""
    prefix: str = ""
    profile: str = ""
    credentials_file: str = ""
    addressing_style: str = "path"
    verify_tls: bool = True
    ca_bundle: str = ""
    part_size_mb: int = 16
    readback: bool = True
    object_lock_mode: str = ""
    object_lock_days: int = 0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    create_bucket: bool = False
    checksum_sha256: bool = False
    repair: bool = True
    credentials_source: str = ""
    """s3: where the credentials were found when ``kholuu storage add`` tested the location
    (botocore's name: ``env``, ``shared-credentials-file``...). A record for the operator, read by
    ``storage check``; ``env`` means a cron or systemd process will not have them."""


@dataclass(frozen=True)
class AuditSchedule:
    """When the scheduler audits a location: a cron expression (5 fields, the scheduler's time zone)
    or, for tests and small sites, a fixed interval; each run limited by copies and/or bytes."""

    location: str
    cron: str = ""
    interval_seconds: int = 0
    limit: int = 0
    budget_gb: float = 0.0


@dataclass(frozen=True)
class AuditSettings:
    cycle_days: int = 90
    lease_seconds: int = 3600
    timezone: str = "Asia/Ho_Chi_Minh"
    schedules: tuple[AuditSchedule, ...] = ()
    report_max_days: int = 366
    report_max_rows: int = 10000


@dataclass(frozen=True)
class AlertSettings:
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password_env: str = ""
    mail_from: str = ""
    mail_to: tuple[str, ...] = ()
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class StorageSettings:
    locations: tuple[StorageLocation, ...] = ()


DEADLINE_BASES = ("programme", "law")
DECLARED_UNITS = ("dossiers", "documents")


@dataclass(frozen=True)
class RecordsSettings:
    """Thu nộp deadlines and intake rules (vn-standards.md §3.2; each key's source is in
    config/defaults.toml ``[records]``). ``holidays`` are the days besides Saturday and Sunday that
    are not working days."""

    archive_id: str = ""
    intake_only_permanent: bool = True
    confirm_receipt_days: int = 60
    decision_days: int = 60
    plan_reply_working_days: int = 7
    plan_lead_months: int = 12
    transfer_deadline_years: int = 5
    programme_deadline_years: int = 3
    deadline_basis: str = "programme"
    holidays: tuple[date, ...] = ()
    declared_unit: str = "dossiers"


@dataclass(frozen=True)
class PlanningSettings:
    """Preservation planning (config/defaults.toml ``[planning]``): where the local format policy
    override is, relative to the data folder unless absolute.
    Text and OCR: ``text_extraction`` keeps each payload file's text for search; ``ocr`` OCRs scans
    and images of text (``ocrmypdf -l <ocr_languages>``) into PDF/A with a text layer."""

    policy_override: str = "planning/formats.toml"
    normalize: bool = True
    regulation: str = "tt05"
    text_extraction: bool = True
    max_text_bytes: int = 2 * 1024 * 1024
    text_timeout_seconds: float = 300.0
    ocr: bool = True
    ocr_languages: str = "vie"
    ocr_timeout_seconds: float = 900.0
    ocr_max_pages: int = 50
    ocr_image_dpi: int = 300
    ocr_min_confidence: float = 40.0
    migrate_schedule: str = ""
    """Cron expression (minute hour day month weekday, ``[audit] timezone``) on which ``kholuu
    scheduler`` runs ``kholuu migrate``; empty: never (an operator runs it after a policy change)."""
