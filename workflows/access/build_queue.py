"""An approved request's DIP build submitted as a job (:mod:`workflows.jobs.queue`): on the job
queue a worker builds it (:func:`workflows.access.request_build.build` under the job's id), and
staff issue the reader's link once the request is ``ready``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from repository.actor import Actor
from repository.settings import Settings
from workflows.access.requests import check_decider, get_request
from workflows.jobs.envelope import Workflow
from workflows.jobs.queue import Submission, enqueue

DIP_PRIORITY = 60
"""Above every ingest (a reader is waiting; a DIP is one AIP's export)."""


def submit_build(session: Session, settings: Settings, request_id: str, actor: Actor) -> str:
    """Queue the build of an approved request's DIP in the session's transaction; returns the job id.

    Raises:
        RequestError: ``request.not_allowed`` (the actor may not build), ``request.not_found``.
    """
    check_decider(actor, "build")
    row = get_request(session, request_id)
    args = {
        "request_id": row.id,
        "actor": actor.name,
        "role": actor.role.value,
        "channel": actor.channel.value,
    }
    submission = Submission(Workflow.EXPORT, args, source=row.id, source_name=row.id, priority=DIP_PRIORITY)
    return enqueue(session, settings, submission)


__all__ = ["DIP_PRIORITY", "submit_build"]
