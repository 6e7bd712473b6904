"""Coded findings returned by validators.

Validators collect every finding and report once (style guide item 13): a package with ten
problems gets ten findings, not the first exception. Codes are stable and have texts in the
message catalogs; ``where`` names the file or XML element.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters. ``ERROR`` breaks a MUST; ``WARNING`` a SHOULD; ``INFO`` is advice."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One problem (or remark) found by a validator.

    Attributes:
        code: stable identifier, e.g. ``"CSIP71"`` or ``"pdf.syntax"``.
        severity: see :class:`Severity`.
        where: the file, element or XPath the finding is about.
        message: English text for logs and developers.
        params: values for the message catalogs.
    """

    code: str
    severity: Severity
    where: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "where": self.where,
            "message": self.message,
            "params": dict(self.params),
        }


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that break a MUST."""
    return [f for f in findings if f.severity is Severity.ERROR]
