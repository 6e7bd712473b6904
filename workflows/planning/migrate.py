"""Migration: the holdings brought in line with the format policy in force (``kholuu migrate``).

When the policy changes (a format marked at risk, an action replaced), files already stored need
copies they do not have, or copies made by an action the policy no longer names. The plan
(:mod:`workflows.planning.migrate_plan`) finds them from the catalog; each AIP with work then gets
its copies made, verified and stored as its next version, in a job of its own
(:mod:`workflows.planning.migrate_aip`). The earlier versions stay byte-identical in storage
(OCFL), so a replaced copy can still be fetched from the version that had it, and ``kholuu aip
history`` says what each version changed and why.

One AIP's failure (a storage error, a copy that cannot be read) does not stop the others; a
conversion that fails does not stop the other files. The report says what was made and what
failed; the CLI exits non-zero when anything failed. A run stopped at any point leaves every AIP at
a version the catalog knows: recovery (run first) withdraws what a dead migration left in storage,
and this run plans that work again.

The same run is an APScheduler job when ``[planning] migrate_schedule`` is set
(:func:`scheduled_migration`, :mod:`workflows.jobs.scheduler`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import KholuuError
from repository.settings import Settings
from workflows.jobs.recovery import recover_interrupted
from workflows.jobs.runner import Progress, StepFailed
from workflows.planning.migrate_aip import AipMigration, migrate_aip
from workflows.planning.migrate_plan import MigrationPlan, Wanted, Why, plan
from workflows.planning.policy import load_policy

__all__ = ["MigrationPlan", "MigrationReport", "Wanted", "Why", "migrate", "plan", "scheduled_migration"]

log = logging.getLogger("kholuu.planning.migrate")


@dataclass
class MigrationReport:
    """The plan, and unless it was a dry run, what each AIP's migration did."""

    plan: MigrationPlan
    dry_run: bool = False
    aips: list[AipMigration] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.aips)

    @property
    def made(self) -> int:
        return sum(len(a.made) for a in self.aips)

    @property
    def failed(self) -> int:
        return sum(len(a.failed) for a in self.aips)

    @property
    def versions(self) -> int:
        return sum(1 for a in self.aips if a.version is not None)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dry_run": self.dry_run, "plan": self.plan.as_dict()}
        if not self.dry_run:
            out |= {
                "ok": self.ok,
                "made": self.made,
                "failed": self.failed,
                "versions": self.versions,
                "aips_failed": sum(1 for a in self.aips if a.error is not None),
                "results": [a.as_dict() for a in self.aips],
            }
        return out


def migrate(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    puid: str | None = None,
    aip_id: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> MigrationReport:
    """Plan the migration under the policy in force (only format ``puid``, only AIP ``aip_id``
    when given) and, unless ``dry_run``, carry it out AIP by AIP.

    A dry run changes nothing, not even recovery's clean-up of a dead job: the plan is read from
    the catalog, which a dead job never changed.

    Raises:
        PolicyError: the policy (its override) cannot be read.
    """
    if not dry_run:
        recover_interrupted(settings, sessions)
    policy = load_policy(settings)
    with sessions() as session:
        planned = plan(session, policy, settings.planning.regulation, puid=puid, aip_id=aip_id)
    report = MigrationReport(planned, dry_run=dry_run)
    if dry_run:
        return report
    for held, items in planned.by_aip().items():
        job_id = str(uuid.uuid4())
        try:
            result = migrate_aip(settings, sessions, items, job_id=job_id, progress=progress)
        except KholuuError as exc:  # this AIP stays as it was; the others go on
            result = AipMigration(held, job_id, items[0].version, status="failed", error=_error(exc))
            log.info("migration of %s failed: %s", held, exc)
        report.aips.append(result)
    return report


def _error(exc: KholuuError) -> dict[str, Any]:
    cause = exc.cause if isinstance(exc, StepFailed) else exc
    return {
        "code": exc.code,
        "message": str(cause),
        "params": dict(exc.params),
        "step": exc.step if isinstance(exc, StepFailed) else None,
    }


def scheduled_migration(home: str) -> dict[str, Any]:
    """The job APScheduler runs (a module-level function: the job store keeps a reference to it):
    the whole migration the policy asks for, as ``kholuu migrate`` would run it."""
    from repository.catalog.db import make_engine, session_factory
    from repository.settings import load_settings

    settings = load_settings(home)
    engine = make_engine(settings.database_url)
    try:
        report = migrate(settings, session_factory(engine))
        summary = {k: v for k, v in report.as_dict().items() if k not in ("plan", "results")}
        log.info("scheduled migration: %s", summary)
        return summary
    finally:
        engine.dispose()
