"""Scheduled fixity audits and migration (``kholuu scheduler``): APScheduler, job store in the catalog.

Each ``[[audit.schedules]]`` entry becomes one job (``audit:<location>``) with a cron or interval
trigger; ``[planning] migrate_schedule``, when set, one more (``planning:migrate``: the whole
``kholuu migrate``, :func:`workflows.planning.migrate.scheduled_migration`). The jobs, and when each
runs next, live in the catalog database (APScheduler's SQLAlchemy job store, table
``apscheduler_jobs``), so the schedule survives restarts and a run missed while the process was down
is made up once (coalesced) when it comes back. Several scheduler processes may share one catalog: a
job takes the location's lease before it reads anything (see :mod:`workflows.custody.audit`), and a
location another process audited within the same slot is left alone, so the same audit never runs
twice.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from repository.crontab import apscheduler_fields
from repository.settings import AuditSchedule, Settings
from workflows.jobs.envelope import Workflow
from workflows.jobs.queue import Submission, enqueue, uses_queue

log = logging.getLogger("kholuu.scheduler")
JOB_PREFIX = "audit:"
MIGRATION_JOB = "planning:migrate"
START_ATTEMPTS = 3


def build_scheduler(settings: Settings, *, background: bool = False) -> BaseScheduler:
    """A scheduler whose jobs are the configured audit schedules (stale jobs removed)."""
    zone = ZoneInfo(settings.audit.timezone)
    store = SQLAlchemyJobStore(url=settings.database_url, tablename="apscheduler_jobs")
    kind = BackgroundScheduler if background else BlockingScheduler
    scheduler: BaseScheduler = kind(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone=zone,
    )
    return scheduler


def install_jobs(scheduler: BaseScheduler, settings: Settings) -> list[str]:
    """Add or update one job per schedule (and the migration's); remove the jobs no longer
    configured. Returns job ids."""
    zone = ZoneInfo(settings.audit.timezone)
    wanted: list[str] = []
    for schedule in settings.audit.schedules:
        job_id = JOB_PREFIX + schedule.location
        wanted.append(job_id)
        scheduler.add_job(
            scheduled_audit,
            _trigger(schedule, zone),
            id=job_id,
            name=f"fixity audit of {schedule.location}",
            replace_existing=True,
            kwargs={
                "home": str(settings.home),
                "location": schedule.location,
                "limit": schedule.limit,
                "budget_gb": schedule.budget_gb,
                "gap_seconds": _gap(schedule),
            },
        )
    if settings.planning.migrate_schedule:
        wanted.append(MIGRATION_JOB)
        scheduler.add_job(
            scheduled_migration,
            CronTrigger.from_crontab(apscheduler_fields(settings.planning.migrate_schedule), timezone=zone),
            id=MIGRATION_JOB,
            name="migration by the format policy",
            replace_existing=True,
            kwargs={"home": str(settings.home)},
        )
    for job in scheduler.get_jobs():
        if (job.id.startswith(JOB_PREFIX) or job.id == MIGRATION_JOB) and job.id not in wanted:
            job.remove()
    return wanted


def start_in_background(settings: Settings) -> tuple[BaseScheduler, list[str]]:
    """Start the audit schedules on a background thread (``kholuu scheduler``, ``kholuu serve
    --scheduler``): started paused so that the jobs are installed before any runs, then resumed.
    The caller stops it with ``shutdown(wait=True)``, which lets a running audit finish."""
    for attempt in range(1, START_ATTEMPTS + 1):
        scheduler = build_scheduler(settings, background=True)
        try:
            scheduler.start(paused=True)
            jobs = install_jobs(scheduler, settings)
            scheduler.resume()
            return scheduler, jobs
        except SQLAlchemyError as exc:
            # Two schedulers starting at the same moment race to create the job table and to
            # insert the same job rows; the loser sees "already exists" / a duplicate key. The
            # winner's rows are what we wanted, so start again (the table now exists).
            if scheduler.running:
                scheduler.shutdown(wait=False)
            if attempt == START_ATTEMPTS:
                raise
            log.info("scheduler start raced another process (%s); retrying", type(exc).__name__)
            time.sleep(0.2 * attempt)
        except BaseException:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            raise
    raise AssertionError("unreachable")


def scheduled_audit(
    home: str, location: str, limit: int, budget_gb: float, gap_seconds: float
) -> dict[str, Any]:
    """The job APScheduler runs (a module-level function: the job store keeps a reference to it)."""
    from repository.catalog.db import make_engine, session_factory
    from repository.settings import load_settings
    from workflows.custody.alerts import send_alerts
    from workflows.custody.audit import AuditOptions, run_audit

    settings = load_settings(home)
    engine = make_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        if uses_queue(settings):  # a worker runs the batch; the scheduler only says when
            args = {
                "mode": "due",
                "location": location,
                "limit": limit or None,
                "budget_bytes": int(budget_gb * 1e9) if budget_gb else None,
                "trigger": "scheduler",
                "gap_seconds": gap_seconds,
            }
            return {"queued": _submit(sessions, settings, Workflow.AUDIT, args, f"schedule:{location}")}
        report = run_audit(
            settings,
            sessions,
            AuditOptions(
                mode="due",
                location=location,
                limit=limit or None,
                budget_bytes=int(budget_gb * 1e9) if budget_gb else None,
                trigger="scheduler",
                skip_if_run_within=timedelta(seconds=gap_seconds),
            ),
        )
        if report.copies:
            send_alerts(settings, sessions, report)
        log.info("scheduled audit of %s: %s", location, report.as_dict() | {"copies": len(report.copies)})
        return report.as_dict()
    finally:
        engine.dispose()


def scheduled_migration(home: str) -> dict[str, Any]:
    """The migration job (module-level, like :func:`scheduled_audit`, for the job store); on the
    job queue it is submitted for a worker."""
    from repository.catalog.db import make_engine, session_factory
    from repository.settings import load_settings
    from workflows.planning.migrate import scheduled_migration as run

    settings = load_settings(home)
    if not uses_queue(settings):
        return run(home)
    engine = make_engine(settings.database_url)
    try:
        return {
            "queued": _submit(session_factory(engine), settings, Workflow.MIGRATION, {}, "schedule:migrate")
        }
    finally:
        engine.dispose()


AUDIT_PRIORITY = 20
"""Queued audit batches and migrations: above a large ingest, below a small one."""


def _submit(
    sessions: sessionmaker[Session], settings: Settings, kind: Workflow, args: dict[str, Any], source: str
) -> str:
    with sessions.begin() as session:
        return enqueue(
            session,
            settings,
            Submission(kind, args, source=source, source_name=source, priority=AUDIT_PRIORITY),
        )


def _trigger(schedule: AuditSchedule, zone: ZoneInfo) -> CronTrigger | IntervalTrigger:
    if schedule.cron:
        return CronTrigger.from_crontab(apscheduler_fields(schedule.cron), timezone=zone)
    return IntervalTrigger(seconds=schedule.interval_seconds, timezone=zone)


def _gap(schedule: AuditSchedule) -> float:
    """How recent another process's run of the same slot must be to skip this one."""
    if schedule.interval_seconds:
        return max(0.5, schedule.interval_seconds / 2)
    return 30.0
