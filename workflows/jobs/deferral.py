"""A submission's procrastinate job, inserted on the catalog session's own connection, and the
queue's connection string (:mod:`workflows.jobs.queue`, :mod:`workflows.jobs.worker`)."""

from __future__ import annotations

from procrastinate import SyncPsycopgConnector
from sqlalchemy import make_url
from sqlalchemy.orm import Session

QUEUE_TASK = "kholuu.run_job"
"""The one procrastinate task: its only argument is the catalog job's id; what to do is in the row."""


def conninfo(database_url: str) -> str:
    """libpq's connection string of the catalog's SQLAlchemy URL (its ``options``, such as a
    ``search_path``, kept): the queue's tables are beside the catalog's."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def defer(session: Session, job_id: str, *, priority: int, queue: str) -> int:
    """Queue the catalog job ``job_id`` on the session's own connection (its transaction)."""
    from procrastinate import jobs
    from procrastinate.manager import JobManager

    dbapi = session.connection().connection.driver_connection
    job = jobs.Job(
        id=None,
        queue=queue,
        lock=None,
        queueing_lock=None,
        task_name=QUEUE_TASK,
        priority=priority,
        task_kwargs={"job_id": job_id},
    )
    # never opened: the insert runs on ``dbapi``, inside the catalog's transaction
    deferred = JobManager(SyncPsycopgConnector(conninfo="")).defer_job(job, connection=dbapi)
    assert deferred.id is not None
    return deferred.id


__all__ = ["QUEUE_TASK", "conninfo", "defer"]
