"""Exceptions of Kho Lưu, and the one root every package's base error derives from.

Every exception carries a stable ``code`` (the key of its text in the message catalogs under
``config/messages/``), the ``params`` that text needs and a :class:`ErrorKind` saying what the caller
should tell the user, so the CLI and web layers can say what went wrong in Vietnamese or English,
with the right exit code or HTTP status, without parsing English strings. ``str(exc)`` is an English
sentence for logs and developers.

This module is the bottom layer: ``preservation``, ``repository`` and ``workflows`` all import it,
and it imports nothing of ours. The table from kind to exit code and HTTP status is not here
(domain errors know nothing about HTTP): it is ``entrypoints/errors.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """What went wrong, as the user must be told it: the five answers an entry point can give.

    * ``usage``: the request or the configuration is wrong; the user can fix it and ask again.
    * ``refused``: the request is understood and the archive's rules decline it (a bad
      submission, a decision already made).
    * ``not_found``: what was named does not exist.
    * ``failed``: a tool, the system or a verification failed; the data may need attention.
    * ``unavailable``: something needed cannot be reached now (catalog locked, storage or a tool
      missing); nothing is wrong with the data and the same request may succeed later.
    """

    USAGE = "usage"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"


class KholuuError(Exception):
    """Root of every error Kho Lưu raises on purpose.

    A subclass states its ``code`` and ``kind`` as class attributes; a raise site may give a more
    precise ``code`` (and, rarely, ``kind``) without a new class. ``params`` hold every value the
    catalog text of ``code`` interpolates (tests render every code in both languages and fail on
    an unfilled placeholder).

    Args:
        message: English text for logs; the user-facing text comes from the catalogs.
        code: stable identifier, e.g. ``"unpack.path_traversal"``.
        kind: what to tell the user (exit code, HTTP status); the class's when not given.
        path: the file (relative to the package, as submitted) the problem is about, if any.
        params: values the catalog text interpolates.
    """

    code: str = "internal.error"
    kind: ErrorKind = ErrorKind.FAILED

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        kind: ErrorKind | None = None,
        path: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind
        self.message = message
        self.path = path
        self.params: dict[str, Any] = dict(params or {})
        if path is not None:
            self.params.setdefault("path", path)
        if self.code == "internal.error":  # an error nobody coded: its text shows the English one
            self.params.setdefault("message", message)

    def __str__(self) -> str:
        if self.path is not None and self.path not in self.message:
            return f"{self.message} ({self.path})"
        return self.message


class PreservationError(KholuuError):
    """Base of all errors raised by ``preservation``: a failure unless a subclass says otherwise."""

    code = "preservation.error"


class UnsafePackageError(PreservationError):
    """The submission tries something no honest package needs: path traversal, absolute paths,
    links leaving the package, device files, archive bombs, control characters in names."""

    code = "package.unsafe"
    kind = ErrorKind.REFUSED


class InvalidPackageError(PreservationError):
    """The submission is not what it claims to be (a broken bag, a bad METS, a checksum mismatch)."""

    code = "package.invalid"
    kind = ErrorKind.REFUSED


class ChecksumMismatchError(InvalidPackageError):
    """A digest supplied with the package (or recorded earlier) does not match the bytes."""

    code = "fixity.mismatch"

    def __init__(self, path: str, algorithm: str, expected: str, found: str, *, source: str = "") -> None:
        where = f" (from {source})" if source else ""
        super().__init__(
            f"{algorithm} mismatch for {path}{where}: expected {expected}, found {found}",
            path=path,
            params={"algorithm": algorithm, "expected": expected, "found": found, "source": source},
        )
        self.algorithm = algorithm
        self.expected = expected
        self.found = found


class ToolError(PreservationError):
    """An external tool could not do its job (missing, crashed, timed out)."""

    code = "tool.failed"

    def __init__(
        self,
        message: str,
        *,
        tool: str,
        exit_code: int | None = None,
        stderr: str = "",
        path: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code,
            path=path,
            params={"tool": tool, "exit_code": exit_code, "stderr": stderr},
        )
        self.tool = tool
        self.exit_code = exit_code
        self.stderr = stderr


class SchemaValidationError(PreservationError):
    """Our own generated XML does not validate against its schema: a bug, never the user's fault."""

    code = "aip.schema_invalid"
