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


class CheckOutcome(StrEnum):
    """What a check of one stored copy concluded (style guide item 15).

    ``COULD_NOT_CHECK`` says nothing about the object (a location down, a copy queued) and is
    never reported as damage; ``FAILED`` is damage (a file changed, missing or stray, an
    inventory missing or damaged, the whole object gone).
    """

    PASSED = "passed"
    FAILED = "failed"
    COULD_NOT_CHECK = "could not check"
    REPAIRED = "repaired"


class DamageKind(StrEnum):
    """What a finding about a stored copy is: the audit's repair acts on the kind."""

    CORRUPT = "corrupt"  # bytes differ from the recorded digest (a file, an inventory, a sidecar)
    MISSING = "missing"  # a file, an inventory or the whole object is gone
    UNEXPECTED = "unexpected"  # a file the inventory does not list
    MANIFEST = "manifest"  # two records contradict each other (catalog, inventory, METS, PREMIS)
    UNAVAILABLE = "unavailable"  # the copy could not be read at all: says nothing about it


class RepairOutcome(StrEnum):
    """What was done about one finding."""

    REPAIRED = "repaired"
    MOVED_ASIDE = "moved aside"
    NO_GOOD_COPY = "no good copy"
    REPAIR_OFF = "repair off"
    NONE = "none"  # nothing could be done (a contradiction between records: a person must look)
    NOT_TRIED = "not tried"  # a check without repair (``kholuu aip verify``)


@dataclass(frozen=True)
class Finding:
    """One problem (or remark) found by a validator.

    Attributes:
        code: stable identifier, e.g. ``"CSIP71"`` or ``"pdf.syntax"``.
        severity: see :class:`Severity`.
        where: the file, element or XPath the finding is about.
        message: English text for logs and developers.
        params: values for the message catalogs.
        kind: for a finding about a stored copy, what kind of damage it is (None elsewhere).
    """

    code: str
    severity: Severity
    where: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    kind: DamageKind | None = None

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
