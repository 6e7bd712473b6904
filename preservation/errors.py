"""Exceptions of the preservation library.

Every exception carries a stable ``code`` (the key of its text in the message catalogs under
``config/messages/``) and the ``params`` that text needs, so the CLI and web layers can say what
went wrong in Vietnamese or English without parsing English strings. ``str(exc)`` is an English
sentence for logs and developers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PreservationError(Exception):
    """Base of all errors raised by ``preservation``.

    Args:
        code: stable identifier, e.g. ``"unpack.path_traversal"``.
        message: English text for logs; the user-facing text comes from the catalogs.
        path: the file (relative to the package, as submitted) the problem is about, if any.
        params: values the catalog text interpolates.
    """

    code = "preservation.error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        path: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.path = path
        self.params: dict[str, Any] = dict(params or {})
        if path is not None:
            self.params.setdefault("path", path)

    def __str__(self) -> str:
        if self.path is not None and self.path not in self.message:
            return f"{self.message} ({self.path})"
        return self.message


class UnsafePackageError(PreservationError):
    """The submission tries something no honest package needs: path traversal, absolute paths,
    links leaving the package, device files, archive bombs, control characters in names."""

    code = "package.unsafe"


class InvalidPackageError(PreservationError):
    """The submission is not what it claims to be (a broken bag, a bad METS, a checksum mismatch)."""

    code = "package.invalid"


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
