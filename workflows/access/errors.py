"""The error every export raises, and how a checker's findings become its details.

Its own module because the access rules, the DIP writer and the export itself all raise it; it sits
below all three so none has to import another to report a failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from preservation.errors import ErrorKind, KholuuError
from preservation.findings import Finding, Severity


class ExportError(KholuuError):
    """An export that did not happen; no file was left under the target name.

    Args:
        code: message-catalog key (``export.*``, or ``fetch.*`` / ``catalog.*`` from retrieval).
        details: one dict per problem (``code``, ``message``, ``params``) or withheld document.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        kind: ErrorKind = ErrorKind.FAILED,
        path: str | None = None,
        params: Mapping[str, Any] | None = None,
        details: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message, code=code, kind=kind, path=path, params=params)
        self.details = [dict(d) for d in details]


def errors_of(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that make a description or package invalid (warnings do not)."""
    return [f for f in findings if f.severity is Severity.ERROR]


def finding_detail(f: Finding) -> dict[str, Any]:
    """A finding as one entry of :attr:`ExportError.details`."""
    return {"code": f.code, "where": f.where, "message": f.message, "params": dict(f.params)}


class RequestError(KholuuError):
    """A dissemination request step that was refused or failed (``request.*`` codes); nothing
    changed in the catalog."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        kind: ErrorKind = ErrorKind.REFUSED,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, kind=kind, params=params)
