"""``[planning] migrate_schedule``: ``kholuu scheduler`` runs the migration on a cron expression."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from repository.settings import SettingsError, load_settings
from tests.cli.test_cli_migrate_failures import current_version, ingest_images
from tests.conftest import write_home_config
from workflows.jobs.scheduler import MIGRATION_JOB, build_scheduler, install_jobs


def test_the_scheduled_job_runs_the_migration(
    home: Path, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_home_config(home, planning='migrate_schedule = "0 2 * * sat"\n')
    env, aip_id = ingest_images(home, database_url, tmp_path)
    monkeypatch.setenv("KHOLUU_DATABASE_URL", database_url)  # as the scheduler process has it
    settings = load_settings(home)
    scheduler = build_scheduler(settings, background=True)  # not started: its jobs stay pending
    assert MIGRATION_JOB in install_jobs(scheduler, settings)
    job = scheduler.get_job(MIGRATION_JOB)
    assert job is not None
    fires = job.trigger.get_next_fire_time(
        None, datetime(2026, 1, 1, tzinfo=ZoneInfo(settings.audit.timezone))
    )
    assert (fires.weekday(), fires.hour) == (5, 2)  # Saturday 02:00
    summary = job.func(**job.kwargs)  # what the scheduler runs then
    assert (summary["made"], summary["versions"], summary["ok"]) == (2, 1, True)
    assert current_version(database_url, aip_id) == 2
    assert env


def test_without_a_schedule_no_migration_job_and_a_bad_one_is_refused(home: Path, database_url: str) -> None:
    settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
    assert settings.planning.migrate_schedule == ""  # off by default
    scheduler = build_scheduler(settings, background=True)
    assert MIGRATION_JOB not in install_jobs(scheduler, settings)
    assert scheduler.get_job(MIGRATION_JOB) is None
    with pytest.raises(SettingsError, match=r"planning\.migrate_schedule"):
        load_settings(home, environ={}, overrides={"planning": {"migrate_schedule": "every saturday"}})
    with pytest.raises(SettingsError, match=r"planning\.migrate_schedule.*0-7"):
        load_settings(home, environ={}, overrides={"planning": {"migrate_schedule": "0 2 * * 8"}})
