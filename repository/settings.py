"""Settings: shipped defaults → the data folder's ``kholuu.toml`` → ``KHOLUU_*`` environment.

Loaded once at the entry point into a frozen object and passed down (style guide item 16). Every
key is declared in ``config/defaults.toml`` with its unit and reason; a key that is not declared
there, or a value of the wrong type, stops the program at start and names the key, because a
misspelt setting that is silently ignored is how archives lose the guarantee they think they have.
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from preservation.errors import ErrorKind, KholuuError
from preservation.planning.policy_file import REGULATIONS
from preservation.safepath import UnpackLimits
from preservation.shipped import shipped_dir
from preservation.validation_config import OfficeLoad
from repository.crontab import CronError, apscheduler_fields
from repository.settings_sections import (
    DEADLINE_BASES,
    DECLARED_UNITS,
    JOB_DISPATCH,
    LOCATION_ROLES,
    AccessSettings,
    AlertSettings,
    ArchiveSettings,
    AuditSchedule,
    AuditSettings,
    CatalogSettings,
    CharacterizationSettings,
    IdentificationSettings,
    IngestSettings,
    JobsSettings,
    PackageSettings,
    PlanningSettings,
    RecordsSettings,
    StorageLocation,
    StorageSettings,
    UiSettings,
    VirusCheckSettings,
    WebSettings,
)

CONFIG_DIR = shipped_dir("config")
DEFAULTS_FILE = CONFIG_DIR / "defaults.toml"
HOME_CONFIG_NAME = "kholuu.toml"
__all__ = [
    "CONFIG_DIR",
    "DEADLINE_BASES",
    "DECLARED_UNITS",
    "DEFAULTS_FILE",
    "ENV_PREFIX",
    "HOME_CONFIG_NAME",
    "LOCATION_ROLES",
    "AccessSettings",
    "AlertSettings",
    "ArchiveSettings",
    "AuditSchedule",
    "AuditSettings",
    "CatalogSettings",
    "CharacterizationSettings",
    "IdentificationSettings",
    "IngestSettings",
    "JobsSettings",
    "PackageSettings",
    "PlanningSettings",
    "RecordsSettings",
    "Settings",
    "SettingsError",
    "StorageLocation",
    "StorageSettings",
    "UiSettings",
    "VirusCheckSettings",
    "WebSettings",
    "load_settings",
    "resolve_home",
]
ENV_PREFIX = "KHOLUU_"


class SettingsError(KholuuError):
    """A setting is unknown or has a bad value. ``key`` is its dotted name, ``source`` where it came from."""

    code = "settings.invalid"
    kind = ErrorKind.USAGE

    def __init__(
        self,
        key: str,
        problem: str,
        source: str,
        *,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            f"setting {key!r} from {source}: {problem}",
            code=code,
            params={"key": key, "problem": problem, "source": source, **(params or {})},
        )
        self.key = key
        self.problem = problem
        self.source = source


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved. ``home`` is absolute; relative paths inside are resolved
    against it by :meth:`path`."""

    home: Path
    ui: UiSettings = field(default_factory=UiSettings)
    catalog: CatalogSettings = field(default_factory=CatalogSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    unpack: UnpackLimits = field(default_factory=UnpackLimits)
    virus_check: VirusCheckSettings = field(default_factory=VirusCheckSettings)
    identification: IdentificationSettings = field(default_factory=IdentificationSettings)
    characterization: CharacterizationSettings = field(default_factory=CharacterizationSettings)
    package: PackageSettings = field(default_factory=PackageSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    records: RecordsSettings = field(default_factory=RecordsSettings)
    planning: PlanningSettings = field(default_factory=PlanningSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    web: WebSettings = field(default_factory=WebSettings)
    jobs: JobsSettings = field(default_factory=JobsSettings)

    def path(self, value: str | Path) -> Path:
        """Resolve a configured path: absolute stays, relative is under the data folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.home / p

    @property
    def database_url(self) -> str:
        return self.catalog.url or f"sqlite:///{self.home / 'catalog.sqlite3'}"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def conversion_dir(self) -> Path:
        """Where legacy exports become TT 05 SIPs before ingest (outside ``work_dir``, which each
        ingest sweeps of folders that are not its own)."""
        return self.home / "conversion"

    @property
    def config_file(self) -> Path:
        return self.home / HOME_CONFIG_NAME


_SECTIONS: dict[str, type[Any]] = {
    f.name: typing.get_type_hints(Settings)[f.name] for f in fields(Settings) if f.name != "home"
}


def resolve_home(explicit: str | Path | None, environ: Mapping[str, str]) -> Path:
    """``--home DIR``, else ``$KHOLUU_HOME``, else ``./kholuu-data``."""
    raw = explicit or environ.get("KHOLUU_HOME") or "kholuu-data"
    return Path(raw).expanduser().resolve()


def load_settings(
    home: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build the settings object for this run.

    Args:
        home: the data folder (``--home``); see :func:`resolve_home`.
        environ: the environment to read ``KHOLUU_*`` from (defaults to ``os.environ``).
        overrides: section → key → value applied last (tests, CLI options).

    Raises:
        SettingsError: naming the unknown key or the bad value and where it came from.
    """
    env = os.environ if environ is None else environ
    home_path = resolve_home(home, env)
    merged: dict[str, dict[str, Any]] = {}
    _merge(merged, _read_toml(DEFAULTS_FILE), str(DEFAULTS_FILE))
    config_file = home_path / HOME_CONFIG_NAME
    if config_file.is_file():
        _merge(merged, _read_toml(config_file), str(config_file))
    _merge(merged, _from_environment(env), "environment")
    if overrides:
        _merge(merged, {k: dict(v) for k, v in overrides.items()}, "overrides")
    sections = {name: _build(cls, merged.get(name, {}), name) for name, cls in _SECTIONS.items()}
    settings = Settings(home=home_path, **sections)
    _check(settings)
    _check_planning(settings.planning)
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(path.name, f"not valid TOML: {exc}", str(path)) from exc


def _merge(into: dict[str, dict[str, Any]], data: Mapping[str, Any], source: str) -> None:
    for section, values in data.items():
        if section not in _SECTIONS:
            raise SettingsError(section, "unknown section", source)
        if not isinstance(values, Mapping):
            raise SettingsError(section, "must be a table", source)
        target = into.setdefault(section, {})
        allowed = {f.name for f in fields(_SECTIONS[section])}
        for key, value in values.items():
            if key not in allowed:
                raise SettingsError(f"{section}.{key}", "unknown key", source)
            target[key] = (value, source)


def _from_environment(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    shortcuts = {"KHOLUU_DATABASE_URL": ("catalog", "url"), "KHOLUU_LANG": ("ui", "language")}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == "KHOLUU_HOME":
            continue
        if name in shortcuts:
            section, key = shortcuts[name]
        elif "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        else:
            continue  # other KHOLUU_* variables belong to scripts, not to settings
        out.setdefault(section, {})[key] = _EnvValue(value)
    return out


@dataclass(frozen=True)
class _EnvValue:
    """A string from the environment, parsed against the field's type when the section is built."""

    text: str


def _build(cls: type[Any], values: Mapping[str, Any], section: str) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in values:
            continue
        raw, source = values[f.name]
        kwargs[f.name] = _coerce(raw, hints[f.name], f"{section}.{f.name}", source)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise SettingsError(section, str(exc), "configuration") from exc


def _coerce(value: Any, hint: Any, key: str, source: str) -> Any:
    if isinstance(value, _EnvValue):
        value = _parse_env(value.text, hint, key, source)
    origin = typing.get_origin(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is date:
        # a TOML date (2025-09-02) or the same written as a string
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
    elif origin is tuple and isinstance(value, list):
        (item_hint, _) = typing.get_args(hint)
        return tuple(_coerce(item, item_hint, f"{key}[{i}]", source) for i, item in enumerate(value))
    elif isinstance(hint, type) and is_dataclass(hint) and isinstance(value, Mapping):
        item_fields = {f.name for f in fields(hint)}
        unknown = sorted(set(value) - item_fields)
        if unknown:
            raise SettingsError(f"{key}.{unknown[0]}", "unknown key", source)
        return _build(hint, {k: (v, source) for k, v in value.items()}, key)
    name = getattr(hint, "__name__", str(hint))
    raise SettingsError(key, f"expected {name}, got {type(value).__name__} {value!r}", source)


def _parse_env(text: str, hint: Any, key: str, source: str) -> Any:
    if hint is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(key, f"expected true/false, got {text!r}", source)
    if hint is int:
        try:
            return int(text)
        except ValueError as exc:
            raise SettingsError(key, f"expected a whole number, got {text!r}", source) from exc
    if hint is float:
        try:
            return float(text)
        except ValueError as exc:
            raise SettingsError(key, f"expected a number, got {text!r}", source) from exc
    if hint is str:
        return text
    raise SettingsError(key, "cannot be set from the environment; use the config file", source)


def _check_access(access: AccessSettings) -> None:
    for name in ("login_window_seconds", "login_max_failures", "login_max_failures_per_address",
                 "password_min_length", "argon2_time_cost", "argon2_memory_kib", "argon2_parallelism",
                 "session_hours", "dip_link_hours"):  # fmt: skip
        if getattr(access, name) < 1:
            raise SettingsError(f"access.{name}", "must be at least 1", "settings")
    if access.argon2_memory_kib < 8 * access.argon2_parallelism:
        raise SettingsError("access.argon2_memory_kib", "argon2 needs at least 8 KiB per lane", "settings")
    if access.trusted_proxies < 0:
        raise SettingsError("access.trusted_proxies", "must be 0 or more", "settings")


def _check_jobs(settings: Settings) -> None:
    jobs = settings.jobs
    if jobs.dispatch not in JOB_DISPATCH:
        raise SettingsError("jobs.dispatch", f"must be one of {', '.join(JOB_DISPATCH)}", "settings")
    if jobs.dispatch == "queue" and not settings.database_url.startswith("postgresql"):
        raise SettingsError("jobs.dispatch", "the queue needs a PostgreSQL catalog", "settings")
    if jobs.max_attempts < 1:
        raise SettingsError("jobs.max_attempts", "must be at least 1", "settings")
    for name in ("heartbeat_seconds", "stalled_seconds", "large_ingest_gb"):
        if getattr(jobs, name) <= 0:
            raise SettingsError(f"jobs.{name}", "must be more than 0", "settings")
    if jobs.stalled_seconds < 2 * jobs.heartbeat_seconds:
        raise SettingsError("jobs.stalled_seconds", "must be at least twice heartbeat_seconds", "settings")


def _check(settings: Settings) -> None:
    _check_access(settings.access)
    web = settings.web
    for name in ("upload_max_gb", "upload_chunk_mib", "upload_expiry_hours"):
        if getattr(web, name) <= 0:
            raise SettingsError(f"web.{name}", "must be more than 0", "settings")
    _check_jobs(settings)
    if settings.ui.language not in {"vi", "en"}:
        raise SettingsError("ui.language", f"must be 'vi' or 'en', not {settings.ui.language!r}", "settings")
    if not settings.storage.locations:
        raise SettingsError("storage.locations", "at least one storage location is needed", "settings")
    names = [loc.name for loc in settings.storage.locations]
    if len(set(names)) != len(names):
        raise SettingsError("storage.locations", f"duplicate location names in {names}", "settings")
    for loc in settings.storage.locations:
        if loc.role not in LOCATION_ROLES:
            raise SettingsError(
                f"storage.locations.{loc.name}.role",
                f"must be one of {', '.join(LOCATION_ROLES)}",
                "settings",
            )
    for key in ("report_max_days", "report_max_rows"):
        if getattr(settings.audit, key) < 1:
            raise SettingsError(f"audit.{key}", "must be at least 1", "settings")
    for schedule in settings.audit.schedules:
        if schedule.location not in names:
            raise SettingsError(
                "audit.schedules.location", f"no storage location {schedule.location!r}", "settings"
            )
        if bool(schedule.cron) == bool(schedule.interval_seconds):
            raise SettingsError(
                f"audit.schedules.{schedule.location}", "give either cron or interval_seconds", "settings"
            )
        _check_cron(f"audit.schedules.{schedule.location}.cron", schedule.cron)
    records = settings.records
    if records.deadline_basis not in DEADLINE_BASES:
        raise SettingsError(
            "records.deadline_basis", f"must be one of {', '.join(DEADLINE_BASES)}", "settings"
        )
    if records.declared_unit not in DECLARED_UNITS:
        raise SettingsError(
            "records.declared_unit", f"must be one of {', '.join(DECLARED_UNITS)}", "settings"
        )
    if len(records.archive_id) > 13:
        raise SettingsError("records.archive_id", "at most 13 characters (QĐ 20/2020/QĐ-TTg)", "settings")
    for key in ("confirm_receipt_days", "decision_days", "plan_reply_working_days", "plan_lead_months",
                "transfer_deadline_years", "programme_deadline_years"):  # fmt: skip
        if getattr(records, key) < 0:
            raise SettingsError(f"records.{key}", "must not be negative", "settings")
    if settings.planning.regulation not in REGULATIONS:
        raise SettingsError("planning.regulation", f"must be one of {', '.join(REGULATIONS)}", "settings")
    if settings.characterization.office_load not in set(OfficeLoad):
        raise SettingsError(
            "characterization.office_load", f"must be one of {', '.join(OfficeLoad)}", "settings"
        )
    for validator in settings.characterization.external:
        for key, problem in validator.problems():
            raise SettingsError(f"characterization.external.{validator.name}.{key}", problem, "settings")
    if not any(loc.required for loc in settings.storage.locations):
        raise SettingsError("storage.locations", "at least one location must be required", "settings")
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(settings.package.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(
            "package.timezone", f"unknown time zone {settings.package.timezone!r}", "settings"
        ) from exc


_OCR_LANGUAGES = re.compile(r"[a-z_]+(\+[a-z_]+)*")


def _check_planning(planning: PlanningSettings) -> None:
    """Planning values that would fail later, at a file, are refused at start."""
    if not _OCR_LANGUAGES.fullmatch(planning.ocr_languages):
        raise SettingsError(
            "planning.ocr_languages",
            "Tesseract language codes joined by '+', e.g. 'vie' or 'vie+eng'",
            "settings",
        )
    for key, least in (("max_text_bytes", 1024), ("ocr_max_pages", 1), ("ocr_image_dpi", 50)):
        if getattr(planning, key) < least:
            raise SettingsError(f"planning.{key}", f"must be at least {least}", "settings")
    for key in ("text_timeout_seconds", "ocr_timeout_seconds"):
        if getattr(planning, key) <= 0:
            raise SettingsError(f"planning.{key}", "must be more than 0 seconds", "settings")
    _check_cron("planning.migrate_schedule", planning.migrate_schedule)


def _check_cron(key: str, expression: str) -> None:
    """A cron expression as crontab(5) reads it (weekday 0 or 7 = Sunday; repository.crontab)."""
    if not expression:
        return
    try:
        apscheduler_fields(expression)
    except CronError as exc:
        raise SettingsError(key, f"{exc} (e.g. '0 2 * * 6' or '0 2 * * sat')", "settings") from exc
