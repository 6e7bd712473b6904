"""Build the fixity audit report from the catalog (``kholuu report fixity``).

Every figure is a query over what the audits recorded (``audit_run``, ``audit_finding``,
``incident``, ``copy.last_checked_at`` and PREMIS ``fixity check`` events); nothing is read from
storage, so a report can be built while an audit runs and shows what the catalog says. On
PostgreSQL the queries share one REPEATABLE READ snapshot, so the figures agree with each other.

Definitions (the period is half-open, ``since <= t < until``):

* runs, copies / files / bytes checked, could not check: the audit runs that *started* in the
  period, summed.
* objects checked: distinct AIPs with a ``fixity check`` event in the period outside an ingest
  (an audit or ``kholuu aip verify``) that read the object (not a ``warning`` event nor one whose
  outcome detail starts "could not check", as the audit and verify record an unreachable copy),
  or with a copy whose last check falls in the period with an outcome other than "could not check".
  The events give the history (a copy keeps only its latest check); the copies cover checks whose
  event is missing.
* holdings: AIPs ``stored`` or ``degraded``; their copies are the ``stored`` copies of their
  current version. A copy is checked *within the cycle* when its last check is in
  ``[until - cycle_days, until)`` and was not "could not check" (an unreachable copy was not
  read: style guide item 15). An object is within the cycle when it has such copies and all are.
* failures: the audit findings detected in the period; open incidents: all, whatever the period.
* series: per day of the period in ``tz``, the copies checked by runs started that day and the
  findings detected that day. Days are cut in Python from the selected rows, because SQLite has
  no time zones and a day must be the archive's day, not UTC's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select, union
from sqlalchemy.orm import Session, sessionmaker

from preservation.events import EventType, Outcome
from repository.catalog.copy_state import copy_state
from repository.catalog.models import (
    Aip,
    AipStatus,
    AuditFinding,
    AuditRun,
    Copy,
    CopyStatus,
    Event,
    Incident,
)
from repository.settings import Settings
from workflows.custody.fixity_data import (
    CopyRow,
    DayRow,
    FailureRow,
    FixityReport,
    IncidentRow,
    ObjectRow,
    ReportPeriodError,
    RunRow,
    Summary,
    report_digest,
)

HOLDING_STATUSES = (AipStatus.STORED, AipStatus.DEGRADED)
COULD_NOT_CHECK = "could not check"
INCIDENT_OPEN = "open"


def build_fixity_report(
    sessions: sessionmaker[Session],
    *,
    since: datetime,
    until: datetime,
    cycle_days: int,
    generated_at: datetime,
    archive_name: str,
    tz: tzinfo = UTC,
    max_days: int | None = None,
    max_rows: int | None = None,
) -> FixityReport:
    """Build the report for ``[since, until)``; its digest is set. Every time in it is given in
    ``tz`` (the archive's local time), to the second in the files.

    Args:
        sessions: the catalog.
        since, until: the period (timezone-aware).
        cycle_days: the fixity cycle (``settings.audit.cycle_days``).
        generated_at: when the report is made (part of the digested data).
        archive_name: the institution, printed on the report.
        tz: the time zone whose days the series counts and whose times the report shows
            (``settings.audit.timezone``).
        max_days: the longest period allowed (``[audit] report_max_days``); None: no limit. The
            bound is what keeps a report's memory bounded: its per-day series and the rows of its
            period grow with the period.
        max_rows: the most rows each table lists (``[audit] report_max_rows``); None: all. The
            summary's counts stay exact (aggregates in the database).

    Raises:
        ValueError: a naive datetime, an empty period or a cycle under one day.
        ReportPeriodError: ``report.period_too_long``.
    """
    for name, value in (("since", since), ("until", until), ("generated_at", generated_at)):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
    if until <= since:
        raise ValueError(f"empty period: since {since.isoformat()} is not before until {until.isoformat()}")
    if cycle_days < 1:
        raise ValueError(f"cycle_days must be at least 1, not {cycle_days}")
    check_period_length(since, until, max_days)
    since, until, generated_at = (v.astimezone(UTC) for v in (since, until, generated_at))
    limit = max_rows or None
    cutoff = until - timedelta(days=cycle_days)
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(
                execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            )
        runs = _runs(session, since, until, tz, limit)
        failures = _failures(session, since, until, tz, limit)
        incidents = _open_incidents(session, tz, limit)
        objects = _objects(session, cutoff, until, tz, limit)
        summary = _summary(session, since, until, cutoff)
        series = _series(session, since, until, tz)
    report = FixityReport(
        archive_name=archive_name,
        generated_at=generated_at.astimezone(tz),
        since=since.astimezone(tz),
        until=until.astimezone(tz),
        cycle_days=cycle_days,
        timezone=str(tz),
        summary=summary,
        runs=runs,
        objects=objects,
        failures=failures,
        open_incidents=incidents,
        series=series,
        row_limit=limit or 0,
    )
    return replace(report, digest=report_digest(report))


def report_now() -> datetime:
    """ "Now" for a report, to the second as reports show it, rounded UP: an audit that started in
    the current second is inside a period that ends "now" (rounding down left it out)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=0) + timedelta(seconds=1) if now.microsecond else now


def report_period(since: date, until: date | None, *, tz: tzinfo, now: datetime) -> tuple[datetime, datetime]:
    """The period that the days ``since`` and ``until`` name, as ``kholuu report fixity`` and the
    web page both read them: from 00:00 of ``since`` in the audit time zone to 00:00 of ``until``
    (the day after the last day), or to ``now`` when no ``until`` is given. One definition, so a
    page and a file made for the same days cover the same instants and carry the same digest.

    Raises:
        ReportPeriodError: ``report.bad_period``: a day whose instant cannot be held in UTC
            (``0001-01-01`` in UTC+7 is in year 0).
    """
    start = datetime.combine(since, time(), tzinfo=tz)
    end = datetime.combine(until, time(), tzinfo=tz) if until is not None else now
    for day, value in ((since, start), (until, end)):
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ReportPeriodError(
                f"the day {day} is outside the days a report can cover",
                code="report.bad_period",
                params={"value": str(day)},
            ) from None
    return start, end


def check_period_length(since: datetime, until: datetime, max_days: int | None) -> None:
    """Refuse a period longer than ``max_days`` (``[audit] report_max_days``) before any row is read.

    Raises:
        ReportPeriodError: ``report.period_too_long``.
    """
    if max_days is None:
        return
    length = until - since
    if length > timedelta(days=max_days):
        days = length.days + (1 if length % timedelta(days=1) else 0)
        raise ReportPeriodError(
            f"the period is {days} days long, more than the {max_days} days allowed "
            "([audit] report_max_days)",
            code="report.period_too_long",
            params={"days": days, "max_days": max_days},
        )


def fixity_report_for(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    since: datetime,
    until: datetime,
    generated_at: datetime,
) -> FixityReport:
    """:func:`build_fixity_report` with the archive's settings (cycle, time zone, name): what the
    command line and the web app both call, so that their reports agree byte for byte.

    Raises:
        ValueError, ReportPeriodError: see :func:`build_fixity_report`.
    """
    return build_fixity_report(
        sessions,
        since=since,
        until=until,
        cycle_days=settings.audit.cycle_days,
        generated_at=generated_at,
        archive_name=settings.archive.name,
        tz=ZoneInfo(settings.audit.timezone),
        max_days=settings.audit.report_max_days,
        max_rows=settings.audit.report_max_rows,
    )


def _in_period(column: Any, since: datetime, until: datetime) -> Any:
    return and_(column >= since, column < until)


def _within_cycle(cutoff: datetime, until: datetime) -> Any:
    """1 for a stored copy checked (readably) in ``[cutoff, until)``, else 0: the one definition
    both the percentages and the per-copy flags use."""
    return case(
        (
            and_(
                Copy.status == CopyStatus.STORED,
                _in_period(Copy.last_checked_at, cutoff, until),
                or_(Copy.check_outcome.is_(None), Copy.check_outcome != COULD_NOT_CHECK),
            ),
            1,
        ),
        else_=0,
    )


def _held_copies(*columns: Any) -> Select[Any]:
    """Copies of the current version of held AIPs."""
    return (
        select(*columns)
        .select_from(Copy)
        .join(Aip, and_(Aip.id == Copy.aip_id, Aip.current_version == Copy.version))
        .where(Aip.status.in_(HOLDING_STATUSES))
    )


def _summary(session: Session, since: datetime, until: datetime, cutoff: datetime) -> Summary:
    run = session.execute(
        select(
            func.count(AuditRun.id),
            func.coalesce(func.sum(AuditRun.copies_checked), 0),
            func.coalesce(func.sum(AuditRun.files_checked), 0),
            func.coalesce(func.sum(AuditRun.bytes_checked), 0),
            func.coalesce(func.sum(AuditRun.could_not_check), 0),
        ).where(_in_period(AuditRun.started_at, since, until))
    ).one()

    checked_by_event = select(Event.aip_id).where(
        Event.type == EventType.FIXITY_CHECK.value,
        Event.job_id.is_(None),
        Event.aip_id.is_not(None),
        _in_period(Event.datetime, since, until),
        Event.outcome != Outcome.WARNING.value,
        Event.outcome_detail.not_like(f"{COULD_NOT_CHECK}%"),
    )
    checked_by_copy = select(Copy.aip_id).where(
        _in_period(Copy.last_checked_at, since, until),
        or_(Copy.check_outcome.is_(None), Copy.check_outcome != COULD_NOT_CHECK),
    )
    objects_checked = session.scalar(
        select(func.count()).select_from(union(checked_by_event, checked_by_copy).subquery())
    )

    held = session.execute(
        select(func.count(Aip.id), func.coalesce(func.sum(Aip.payload_bytes), 0)).where(
            Aip.status.in_(HOLDING_STATUSES)
        )
    ).one()
    per_object = (
        _held_copies(Copy.aip_id, func.count().label("n"), func.sum(_within_cycle(cutoff, until)).label("ok"))
        .where(Copy.status == CopyStatus.STORED)
        .group_by(Copy.aip_id)
        .subquery()
    )
    cycle = session.execute(
        select(
            func.coalesce(func.sum(per_object.c.n), 0),
            func.coalesce(func.sum(per_object.c.ok), 0),
            func.coalesce(func.sum(case((per_object.c.ok == per_object.c.n, 1), else_=0)), 0),
        )
    ).one()

    by_repair: dict[str, int] = {
        repair: count
        for repair, count in session.execute(
            select(AuditFinding.repair, func.count())
            .where(_in_period(AuditFinding.detected_at, since, until))
            .group_by(AuditFinding.repair)
        )
    }
    open_incidents = session.scalar(select(func.count(Incident.id)).where(Incident.status == INCIDENT_OPEN))
    copies, within, objects_within = (int(v) for v in cycle)
    return Summary(
        runs=int(run[0]),
        copies_checked=int(run[1]),
        objects_checked=int(objects_checked or 0),
        files_checked=int(run[2]),
        bytes_checked=int(run[3]),
        could_not_check=int(run[4]),
        holdings_objects=int(held[0]),
        holdings_bytes=int(held[1]),
        holdings_copies=copies,
        copies_within_cycle=within,
        holdings_pct_within_cycle=_pct(within, copies),
        objects_within_cycle=objects_within,
        objects_pct_within_cycle=_pct(objects_within, int(held[0])),
        failures=sum(by_repair.values()),
        failures_repaired=by_repair.get("repaired", 0),
        failures_moved_aside=by_repair.get("moved aside", 0),
        failures_no_good_copy=by_repair.get("no good copy", 0),
        failures_repair_off=by_repair.get("repair off", 0),
        failures_no_repair=by_repair.get("none", 0),
        open_incidents=int(open_incidents or 0),
    )


def _pct(part: int, whole: int) -> float | None:
    """A percentage to two decimals; None when there is nothing to take it of."""
    return round(100 * part / whole, 2) if whole else None


def _local(value: datetime | None, tz: tzinfo) -> Any:
    """A catalog time in the report's time zone (None stays None)."""
    return value.astimezone(tz) if value is not None else None


def _runs(
    session: Session, since: datetime, until: datetime, tz: tzinfo, limit: int | None
) -> tuple[RunRow, ...]:
    rows = session.scalars(
        select(AuditRun)
        .where(_in_period(AuditRun.started_at, since, until))
        .order_by(AuditRun.started_at, AuditRun.id)
        .limit(limit)
    )
    return tuple(
        RunRow(
            id=r.id,
            started_at=_local(r.started_at, tz),
            ended_at=_local(r.ended_at, tz),
            status=r.status,
            trigger=r.trigger,
            mode=r.mode,
            location=r.location,
            copies_checked=r.copies_checked,
            files_checked=r.files_checked,
            bytes_checked=r.bytes_checked,
            failures=r.failures,
            repaired=r.repaired,
            incidents=r.incidents,
            could_not_check=r.could_not_check,
        )
        for r in rows
    )


def _failures(
    session: Session, since: datetime, until: datetime, tz: tzinfo, limit: int | None
) -> tuple[FailureRow, ...]:
    rows = session.scalars(
        select(AuditFinding)
        .where(_in_period(AuditFinding.detected_at, since, until))
        .order_by(AuditFinding.detected_at, AuditFinding.id)
        .limit(limit)
    )
    return tuple(
        FailureRow(
            id=f.id,
            run_id=f.run_id,
            detected_at=_local(f.detected_at, tz),
            aip_id=f.aip_id,
            version=f.version,
            location=f.location,
            path=f.path,
            kind=f.kind,
            code=f.code,
            message=f.message,
            repair=f.repair,
            repaired_from=f.repaired_from,
            event_id=f.event_id,
        )
        for f in rows
    )


def _open_incidents(session: Session, tz: tzinfo, limit: int | None) -> tuple[IncidentRow, ...]:
    rows = session.scalars(
        select(Incident)
        .where(Incident.status == INCIDENT_OPEN)
        .order_by(Incident.opened_at, Incident.id)
        .limit(limit)
    )
    return tuple(
        IncidentRow(
            id=i.id,
            aip_id=i.aip_id,
            location=i.location,
            path=i.path,
            kind=i.kind,
            code=i.code,
            message=i.message,
            opened_at=_local(i.opened_at, tz),
            run_id=i.run_id,
        )
        for i in rows
    )


def _objects(
    session: Session, cutoff: datetime, until: datetime, tz: tzinfo, limit: int | None
) -> tuple[ObjectRow, ...]:
    """The held AIPs (the first ``limit`` by id) and their copies, each copy in its true state
    (:func:`repository.catalog.copy_state.copy_state`: a stored row whose last check found damage
    still there is ``damaged``, not ``stored``)."""
    listed = select(Aip.id).where(Aip.status.in_(HOLDING_STATUSES)).order_by(Aip.id).limit(limit)
    copies: dict[str, list[CopyRow]] = {}
    within = _within_cycle(cutoff, until).label("within")
    query = _held_copies(Copy, within).order_by(Copy.aip_id, Copy.location)
    if limit is not None:
        query = query.where(Copy.aip_id.in_(listed.scalar_subquery()))
    for copy, flag in session.execute(query):
        copies.setdefault(copy.aip_id, []).append(
            CopyRow(
                location=copy.location,
                status=copy_state(copy.status, copy.check_outcome).value,
                last_checked_at=_local(copy.last_checked_at, tz),
                check_outcome=copy.check_outcome,
                within_cycle=bool(flag),
            )
        )
    aips = session.scalars(select(Aip).where(Aip.status.in_(HOLDING_STATUSES)).order_by(Aip.id).limit(limit))
    return tuple(
        ObjectRow(
            aip_id=a.id,
            label=a.label,
            status=a.status.value,
            version=a.current_version,
            payload_bytes=a.payload_bytes,
            copies=tuple(copies.get(a.id, ())),
        )
        for a in aips
    )


def _series(session: Session, since: datetime, until: datetime, tz: tzinfo) -> tuple[DayRow, ...]:
    checked: Counter[date] = Counter()
    for started_at, count in session.execute(
        select(AuditRun.started_at, AuditRun.copies_checked).where(
            _in_period(AuditRun.started_at, since, until)
        )
    ):
        checked[started_at.astimezone(tz).date()] += count
    failed: Counter[date] = Counter(
        detected_at.astimezone(tz).date()
        for detected_at in session.scalars(
            select(AuditFinding.detected_at).where(_in_period(AuditFinding.detected_at, since, until))
        )
    )
    first = since.astimezone(tz).date()
    last = (until - timedelta(microseconds=1)).astimezone(tz).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return tuple(DayRow(day=d, copies_checked=checked[d], failures=failed[d]) for d in days)


__all__ = ["FixityReport", "build_fixity_report", "fixity_report_for", "report_digest", "report_period"]
