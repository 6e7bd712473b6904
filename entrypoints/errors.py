"""The one table from an error's kind to what an entry point answers: exit code and HTTP status.

Every error Kho Lưu raises on purpose derives from :class:`preservation.errors.KholuuError` and
states its :class:`~preservation.errors.ErrorKind`; the CLI (``entrypoints/cli/main.py``) and the web app
(``entrypoints/web/__init__.py``) both read this table, so a command and a page can never disagree
on what "not found" or "refused" means. Domain errors themselves know nothing about exit codes or
HTTP (style guide item 14). docs/cli.md states the table for users.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from types import MappingProxyType

from preservation.errors import ErrorKind, KholuuError

EXIT_OK = 0


@dataclass(frozen=True)
class Answer:
    """What an entry point answers for one kind of error."""

    exit_code: int
    http_status: int


#: The table. ``unavailable`` gets exit code 5 (and 503) so that a script or a scheduler can tell
#: "try again later" (catalog locked, storage unreachable, a tool missing) from a failure that
#: needs a person (1).
ANSWERS: MappingProxyType[ErrorKind, Answer] = MappingProxyType(
    {
        ErrorKind.FAILED: Answer(exit_code=1, http_status=500),
        ErrorKind.USAGE: Answer(exit_code=2, http_status=400),
        ErrorKind.REFUSED: Answer(exit_code=3, http_status=409),
        ErrorKind.NOT_FOUND: Answer(exit_code=4, http_status=404),
        ErrorKind.UNAVAILABLE: Answer(exit_code=5, http_status=503),
    }
)

EXIT_FAILED = ANSWERS[ErrorKind.FAILED].exit_code
EXIT_USAGE = ANSWERS[ErrorKind.USAGE].exit_code
EXIT_REFUSED = ANSWERS[ErrorKind.REFUSED].exit_code
EXIT_NOT_FOUND = ANSWERS[ErrorKind.NOT_FOUND].exit_code
EXIT_UNAVAILABLE = ANSWERS[ErrorKind.UNAVAILABLE].exit_code


def exit_code(error: KholuuError | ErrorKind) -> int:
    """The process exit code for an error (or a kind)."""
    kind = error if isinstance(error, ErrorKind) else error.kind
    return ANSWERS[kind].exit_code


def http_status(error: KholuuError | ErrorKind) -> int:
    """The HTTP status for an error (or a kind)."""
    kind = error if isinstance(error, ErrorKind) else error.kind
    return ANSWERS[kind].http_status


class SystemFailure(KholuuError):
    """The operating system refused an operation (a full disk, a permission, an I/O error) where
    no workflow turned it into a coded error: the entry point says which file and why instead of
    a traceback (issue 11 item 9)."""

    code = "system.os_error"

    @classmethod
    def from_os_error(cls, exc: OSError) -> SystemFailure:
        """The coded error for ``exc``; a full disk (``ENOSPC``, ``EDQUOT``) has its own text."""
        path = exc.filename if exc.filename is not None else "—"
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        error = cls(
            f"{path}: {exc.strerror or exc}",
            code="system.no_space" if full else None,
            params={"path": str(path), "reason": exc.strerror or str(exc)},
        )
        error.__cause__ = exc
        return error
