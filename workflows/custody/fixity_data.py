"""The fixity audit report's data and its digest, apart from any rendering.

The builder (:func:`workflows.custody.fixity_report.build_fixity_report`) fills these rows from the
catalog; the renderings (:mod:`entrypoints.reports.fixity`, :mod:`entrypoints.reports.fixity_html`)
read them. The digest (SHA-256 of the canonical JSON of the data) lives here with the data so that
every rendering, and anyone holding the JSON export, computes it the same way. The tables' columns
and the cell text (:func:`raw`) are here too: the CSV and the HTML must show the same values. The
data lives in ``workflows/`` and the renderings in ``entrypoints/``, so that building a report never
loads a renderer, and the web app and the command line render the same data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from typing import Any

from preservation.errors import ErrorKind, KholuuError


class ReportPeriodError(KholuuError):
    """The period asked for cannot be reported on: longer than ``[audit] report_max_days``
    (``report.period_too_long``), or a day outside what a date and time can hold
    (``report.bad_period``). The reader's mistake: exit 2 on the command line, 400 on the web."""

    kind = ErrorKind.USAGE

    def __init__(self, message: str, *, code: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, params=params)
        self.code = code


@dataclass(frozen=True)
class Summary:
    """The report's figures. Runs, copies, files and bytes are sums over the audit runs that
    started in the period; failures are the findings detected in it; holdings and the cycle
    figures describe the catalog at ``until``; open incidents are all open ones, whatever the
    period (an incident stays on every report until a person acknowledges it)."""

    runs: int
    copies_checked: int
    objects_checked: int
    files_checked: int
    bytes_checked: int
    could_not_check: int
    holdings_objects: int
    holdings_bytes: int
    holdings_copies: int
    copies_within_cycle: int
    holdings_pct_within_cycle: float | None
    objects_within_cycle: int
    objects_pct_within_cycle: float | None
    failures: int
    failures_repaired: int
    failures_moved_aside: int
    failures_no_good_copy: int
    failures_repair_off: int
    failures_no_repair: int
    open_incidents: int


@dataclass(frozen=True)
class RunRow:
    id: str
    started_at: datetime
    ended_at: datetime | None
    status: str
    trigger: str
    mode: str
    location: str | None
    copies_checked: int
    files_checked: int
    bytes_checked: int
    failures: int
    repaired: int
    incidents: int
    could_not_check: int


@dataclass(frozen=True)
class CopyRow:
    """One copy of the current version of a held AIP, as of its last audit. ``status`` is the
    copy's true state (``stored``, ``damaged``, ``pending``, ``failed``): a copy whose last check
    found damage that is still there is ``damaged`` although its catalog row says stored."""

    location: str
    status: str
    last_checked_at: datetime | None
    check_outcome: str | None
    within_cycle: bool


@dataclass(frozen=True)
class ObjectRow:
    aip_id: str
    label: str
    status: str
    version: int
    payload_bytes: int
    copies: tuple[CopyRow, ...]


@dataclass(frozen=True)
class FailureRow:
    id: int
    run_id: str
    detected_at: datetime
    aip_id: str
    version: int
    location: str
    path: str
    kind: str
    code: str
    message: str
    repair: str
    repaired_from: str | None
    event_id: str | None


@dataclass(frozen=True)
class IncidentRow:
    id: int
    aip_id: str
    location: str
    path: str
    kind: str
    code: str
    message: str
    opened_at: datetime
    run_id: str


@dataclass(frozen=True)
class DayRow:
    """Copies checked by the runs that started that day, failures detected that day (in the
    report's time zone)."""

    day: date
    copies_checked: int
    failures: int


@dataclass(frozen=True)
class FixityReport:
    """Everything the report says. ``digest`` is :func:`report_digest` of the rest."""

    archive_name: str
    generated_at: datetime
    since: datetime
    until: datetime
    cycle_days: int
    timezone: str
    summary: Summary
    runs: tuple[RunRow, ...]
    objects: tuple[ObjectRow, ...]
    failures: tuple[FailureRow, ...]
    open_incidents: tuple[IncidentRow, ...]
    series: tuple[DayRow, ...]
    row_limit: int = 0
    """The most rows any table lists (``[audit] report_max_rows``); 0: no limit. The summary's
    counts are always complete: a table with fewer rows than its count was cut here."""
    digest: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types: datetimes as ISO 8601 with offset, dates as ISO dates, tuples as lists."""
        data = _plain(self)
        assert isinstance(data, dict)
        return data

    def figures(self) -> dict[str, Any]:
        """The headline figures, in the order the HTML and CSV list them."""
        head = {
            "archive_name": self.archive_name,
            "generated_at": self.generated_at,
            "since": self.since,
            "until": self.until,
            "cycle_days": self.cycle_days,
            "timezone": self.timezone,
            "digest": self.digest,
        }
        return head | {f.name: getattr(self.summary, f.name) for f in fields(self.summary)}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):  # datetime too
        return _iso(value)
    return value


def _iso(value: date) -> str:
    """ISO 8601; a time to the second, with the offset it carries (the builder gives every time
    in the report's time zone, so the files read as the archive's local time)."""
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value.isoformat()


def document_digest(data: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of a report document (sorted keys, no whitespace,
    UTF-8), leaving out its ``digest`` key: anyone holding the JSON export can recompute it."""
    payload = {k: v for k, v in data.items() if k != "digest"}
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def report_digest(report: FixityReport) -> str:
    """The digest the report carries: :func:`document_digest` of :meth:`FixityReport.as_dict`."""
    return document_digest(report.as_dict())


def raw(value: Any) -> str:
    """A value as the CSV cell and the HTML ``data-value`` show it (the JSON value as text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return _iso(value)
    return str(value)


FAILURE_COLUMNS = tuple(f.name for f in fields(FailureRow))
INCIDENT_COLUMNS = tuple(f.name for f in fields(IncidentRow))
RUN_COLUMNS = tuple(f.name for f in fields(RunRow))
COPY_COLUMNS: tuple[str, ...] = ("aip_id", "label", "aip_status", "version", "location", "copy_status")
COPY_COLUMNS += ("last_checked_at", "check_outcome", "within_cycle")
SERIES_COLUMNS = ("day", "copies_checked", "failures")


def copy_rows(report: FixityReport) -> list[tuple[Any, ...]]:
    """Copies per object, one row per copy (objects with no copy get one row with no location)."""
    rows: list[tuple[Any, ...]] = []
    for o in report.objects:
        for c in o.copies or (None,):
            head = (o.aip_id, o.label, o.status, o.version)
            if c is None:
                rows.append((*head, None, None, None, None, False))
            else:
                rows.append((*head, c.location, c.status, c.last_checked_at, c.check_outcome, c.within_cycle))
    return rows


def row_values(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, f.name) for f in fields(obj))


__all__ = [
    "COPY_COLUMNS",
    "FAILURE_COLUMNS",
    "INCIDENT_COLUMNS",
    "RUN_COLUMNS",
    "SERIES_COLUMNS",
    "CopyRow",
    "DayRow",
    "FailureRow",
    "FixityReport",
    "IncidentRow",
    "ObjectRow",
    "ReportPeriodError",
    "RunRow",
    "Summary",
    "copy_rows",
    "document_digest",
    "raw",
    "report_digest",
    "row_values",
]
