"""How one attempt at a queued job ended, and whether another attempt may succeed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import ErrorKind, KholuuError
from repository.catalog.models import JobStatus
from repository.settings import Settings
from workflows.jobs.runner import Progress, StepFailed


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended: its row's status, whether another attempt may succeed, a summary."""

    status: JobStatus
    retryable: bool = False
    result: dict[str, Any] = field(default_factory=dict)


Runner = Callable[[Settings, sessionmaker[Session], str, Mapping[str, Any], Progress], Outcome]


@dataclass(frozen=True)
class Kind:
    """A job kind's runner. ``own_row``: the runner's workflow runs its envelope under the job's id
    (an ingest, a DIP build); otherwise the queue frames the job row itself around a workflow
    that records jobs of its own (an audit run, a migration of several AIPs)."""

    run: Runner
    own_row: bool = True


class JobTakenOver(KholuuError):
    """An attempt reached its end while its row no longer said ``running``: the job queue took its
    worker for lost and rolled the attempt back (another attempt does the work)."""

    code = "job.taken_over"
    kind = ErrorKind.FAILED


def retryable(exc: BaseException | None) -> bool:
    """Whether another attempt may succeed: the job was interrupted, or something it needs (a
    storage location, the catalog) could not be reached. A refused SIP or a failing tool is not."""
    cause = exc.cause if isinstance(exc, StepFailed) else exc
    if isinstance(cause, KeyboardInterrupt | SystemExit):
        return True
    return isinstance(cause, KholuuError) and cause.kind is ErrorKind.UNAVAILABLE


__all__ = ["JobTakenOver", "Kind", "Outcome", "Runner", "retryable"]
