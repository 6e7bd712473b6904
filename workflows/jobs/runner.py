"""The step runner: one place that persists step state, PREMIS events and error records.

Steps are plain typed functions ``step(ctx, input) -> output`` that do their job and record PREMIS
events on the context; they never open transactions or decide retry policy (style guide items 4,
6, 20). The runner frames each step: it writes the ``job_step`` row, flushes the step's events to
the catalog when the step ends (so a failed ingest still has its events), and turns an exception
into a job status plus one error record per file, so that "failed, but why?" is answered by
``kholuu job show``.
"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import (
    ErrorKind,
    InvalidPackageError,
    KholuuError,
    PreservationError,
    ToolError,
    UnsafePackageError,
)
from preservation.events import Agent, Event
from repository.catalog import store
from repository.catalog.db import catalog_problem, catalog_where
from repository.catalog.models import Job, JobError, JobStatus, JobStep, StepStatus
from repository.settings import Settings

T = TypeVar("T")


class Progress(Protocol):
    """Per-file progress of a step. The CLI draws a bar on a terminal; elsewhere nothing."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, item: str) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, item: str) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True)
class ErrorRecord:
    """What the operator needs about one failure: which file, which tool, what it said."""

    code: str
    message: str
    path: str | None = None
    tool: str | None = None
    exit_code: int | None = None
    stderr: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class StepFailed(KholuuError):
    """Raised by the runner after a step failed and the failure was recorded.

    Its ``code``, ``params`` and ``path`` are the cause's, or its first error record's for an
    exception that carries no code (``system.no_space`` for a full disk; ``internal.error`` with
    the cause's text as ``message`` for anything unknown); its ``kind`` is refused or failed by
    ``status``.

    Attributes:
        step: the step's name.
        status: ``REFUSED`` when the submission is at fault, ``FAILED`` when a tool or the system is.
        cause: the original exception.
        records: the per-file error records written to the catalog.
    """

    def __init__(
        self, step: str, status: JobStatus, cause: BaseException, records: list[ErrorRecord]
    ) -> None:
        if isinstance(cause, KholuuError):
            code, params, path = cause.code, cause.params, cause.path
        elif records:  # named by its cause where the records know it (a full disk: system.no_space)
            code, params, path = records[0].code, records[0].params, records[0].path
        else:
            code, params, path = "internal.error", {"message": f"{type(cause).__name__}: {cause}"}, None
        super().__init__(
            f"step {step!r} {status.value}: {cause}",
            code=code,
            kind=ErrorKind.REFUSED if status is JobStatus.REFUSED else ErrorKind.FAILED,
            params=params,
        )
        self.path = path
        self.step = step
        self.status = status
        self.cause = cause
        self.records = records


class Refusal(PreservationError):
    """A submission we decline although it is well-formed: infected, or already stored."""

    code = "ingest.refused"
    kind = ErrorKind.REFUSED


REFUSING_ERRORS: tuple[type[BaseException], ...] = (UnsafePackageError, InvalidPackageError, Refusal)


@dataclass
class StepContext:
    """What every step may use. Dependencies are passed in, never looked up (style guide item 9)."""

    settings: Settings
    sessions: sessionmaker[Session]
    job_id: str
    software: Agent
    progress: Progress = field(default_factory=NullProgress)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    events: list[Event] = field(default_factory=list)
    _unflushed: list[Event] = field(default_factory=list)

    def record(self, event: Event) -> Event:
        self.events.append(event)
        self._unflushed.append(event)
        return event

    def record_all(self, events: Sequence[Event]) -> None:
        for event in events:
            self.record(event)

    def take_unflushed(self) -> list[Event]:
        out, self._unflushed = self._unflushed, []
        return out

    @property
    def work_dir(self) -> Path:
        """The job's private working folder (staging, tool temporary folders): removed when the
        job ends, and by recovery when its process died."""
        return self.settings.work_dir / self.job_id


KILL_AT_ENV = "KHOLUU_KILL_AT"
"""Deterministic kill points for crash tests: the process SIGKILLs itself, as a power cut would, at
the named point: ``before STEP`` (no row for the step yet), ``in STEP`` (its row says running,
nothing done), ``in STEP@N`` (at the N-th file the step reports), ``after STEP`` (done, the next
not begun), or a point a workflow names itself. Polling the catalog and signalling from outside
needs large submissions and still misses short steps. Unset in production."""


STOP_AT_ENV = "KHOLUU_STOP_AT"
"""The same points as :data:`KILL_AT_ENV`, where the process stops itself (SIGSTOP) instead: the
fault tests take a server away (S3, the catalog's connection) while the process is held there,
then let it go on (SIGCONT), so that an outage falls exactly mid-write. Unset in production."""

_SIGNALS = ((KILL_AT_ENV, signal.SIGKILL), (STOP_AT_ENV, signal.SIGSTOP))


def kill_point(name: str) -> None:
    """Die here, as a power cut would, when ``KHOLUU_KILL_AT`` names this point; stop here until
    continued when ``KHOLUU_STOP_AT`` does (tests only)."""
    for env, sig in _SIGNALS:
        if os.environ.get(env) == name:
            os.kill(os.getpid(), sig)


def _kill_at_file(step: str) -> tuple[int, signal.Signals] | None:
    """(N, signal) when ``KHOLUU_KILL_AT`` (or ``KHOLUU_STOP_AT``) is ``in STEP@N``: the process
    is to die (or stop) at the step's N-th file."""
    prefix = f"in {step}@"
    for env, sig in _SIGNALS:
        target = os.environ.get(env, "")
        if target.startswith(prefix):
            return int(target[len(prefix) :]), sig
    return None


class _KillAtFile:
    """The step's progress, passed through, that kills (or stops) the process at the N-th file."""

    def __init__(self, inner: Progress, nth: int, sig: signal.Signals = signal.SIGKILL) -> None:
        self.inner = inner
        self.left = nth
        self.sig = sig

    def start(self, label: str, total: int) -> None:
        self.inner.start(label, total)

    def advance(self, item: str) -> None:
        self.inner.advance(item)
        self.left -= 1
        if self.left == 0:
            os.kill(os.getpid(), self.sig)

    def finish(self) -> None:
        self.inner.finish()


NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def _coded(exc: BaseException, settings: Settings | None = None) -> BaseException:
    """A database error as the coded catalog error it means (``catalog.unavailable`` for a
    connection the server dropped, ``catalog.locked``...), as the command line reports it."""
    if isinstance(exc, SQLAlchemyError):
        where = catalog_where(settings.database_url) if settings is not None else "—"
        return catalog_problem(exc, where=where)
    return exc


def error_records(exc: BaseException) -> list[ErrorRecord]:
    """One record per bad file where the exception lists several (bag problems, mismatches,
    infected files); otherwise one record."""
    exc = _coded(exc)
    if isinstance(exc, PreservationError):
        base_params = {k: v for k, v in exc.params.items() if k not in {"problems", "mismatches", "infected"}}
        tool = exc.tool if isinstance(exc, ToolError) else base_params.get("tool")
        exit_code = exc.exit_code if isinstance(exc, ToolError) else base_params.get("exit_code")
        stderr = exc.stderr if isinstance(exc, ToolError) else base_params.get("stderr")
        many = exc.params.get("problems") or exc.params.get("mismatches") or exc.params.get("infected")
        if isinstance(many, list) and many:
            return [
                ErrorRecord(
                    code=str(item.get("code", exc.code)),
                    message=str(item.get("message", exc.message)),
                    path=item.get("path"),
                    tool=tool,
                    exit_code=exit_code,
                    stderr=stderr,
                    params={**base_params, **item},
                )
                for item in many
                if isinstance(item, dict)
            ]
        return [
            ErrorRecord(
                code=exc.code,
                message=exc.message,
                path=exc.path,
                tool=str(tool) if tool else None,
                exit_code=exit_code if isinstance(exit_code, int) else None,
                stderr=str(stderr) if stderr else None,
                params=base_params,
            )
        ]
    code = getattr(exc, "code", None)
    if code is None and isinstance(exc, OSError):
        return [_os_error_record(exc)]
    if code is None and isinstance(exc, KeyboardInterrupt | SystemExit):
        return [
            ErrorRecord(
                code="job.interrupted",
                message=f"{type(exc).__name__}: {exc}",
                params={"reason": str(exc) or type(exc).__name__},
            )
        ]
    return [
        ErrorRecord(
            code=str(code) if code else "internal.error",
            message=f"{type(exc).__name__}: {exc}",
            # "message" fills the catalogs' internal.error text ("Lỗi nội bộ: {message}")
            params={"message": f"{type(exc).__name__}: {exc}", **dict(getattr(exc, "params", {}) or {})},
        )
    ]


def _os_error_record(exc: OSError) -> ErrorRecord:
    """An operating-system error named by its cause: a full disk is not an "internal error"."""
    path = os.fsdecode(exc.filename) if exc.filename is not None else ""
    name = errno.errorcode.get(exc.errno or 0, "") if exc.errno else ""
    params: dict[str, Any] = {"errno": name, "reason": exc.strerror or str(exc), "path": path}
    return ErrorRecord(
        code="system.no_space" if exc.errno in NO_SPACE_ERRNOS else "system.os_error",
        message=f"{type(exc).__name__}: {exc}",
        path=path or None,
        params=params,
    )


class StepRunner:
    """Runs named steps of one job in order, persisting their state and events."""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        self._ordinal = 0

    def __call__(self, name: str, step: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._ordinal += 1
        kill_point(f"before {name}")
        started = self.ctx.clock()
        with self.ctx.sessions.begin() as session:
            session.add(
                JobStep(
                    job_id=self.ctx.job_id,
                    name=name,
                    ordinal=self._ordinal,
                    status=StepStatus.RUNNING,
                    started_at=started,
                )
            )
        kill_point(f"in {name}")
        at_file = _kill_at_file(name)
        progress = self.ctx.progress
        if at_file:
            self.ctx.progress = _KillAtFile(progress, *at_file)
        try:
            result = step(self.ctx, *args, **kwargs)
        except BaseException as exc:
            status = JobStatus.REFUSED if isinstance(exc, REFUSING_ERRORS) else JobStatus.FAILED
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                status = JobStatus.INTERRUPTED
            cause = _coded(exc, self.ctx.settings)
            records = error_records(cause)
            self._finish(name, StepStatus.FAILED, message=str(exc), records=records)
            raise StepFailed(name, status, cause, records) from exc
        finally:
            self.ctx.progress = progress
        self._finish(name, StepStatus.DONE)
        kill_point(f"after {name}")
        return result

    def _finish(
        self,
        name: str,
        status: StepStatus,
        *,
        message: str | None = None,
        records: Sequence[ErrorRecord] = (),
    ) -> None:
        events = self.ctx.take_unflushed()
        with self.ctx.sessions.begin() as session:
            step = session.scalars(
                select(JobStep).where(JobStep.job_id == self.ctx.job_id, JobStep.name == name)
            ).one()
            step.status = status
            step.ended_at = self.ctx.clock()
            step.message = message
            store.add_events(session, events, job_id=self.ctx.job_id)
            for record in records:
                session.add(job_error_row(self.ctx.job_id, name, record))


def job_error_row(job_id: str, step: str, record: ErrorRecord) -> JobError:
    """The catalog row of one error record of a job's step."""
    return JobError(
        job_id=job_id,
        step=step,
        code=record.code,
        message=record.message,
        path=record.path,
        tool=record.tool,
        exit_code=record.exit_code,
        stderr=record.stderr,
        params=_jsonable(record.params),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@contextmanager
def job_session(sessions: sessionmaker[Session], job_id: str) -> Iterator[tuple[Session, Job]]:
    with sessions.begin() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise LookupError(job_id)
        yield session, job


__all__ = [
    "ErrorRecord",
    "NullProgress",
    "Progress",
    "Refusal",
    "StepContext",
    "StepFailed",
    "StepRunner",
    "error_records",
    "job_error_row",
    "job_session",
    "kill_point",
]
