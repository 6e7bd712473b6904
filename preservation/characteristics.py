"""Validation and characterization results, kept as PREMIS ``objectCharacteristics``.

A check has three outcomes (style guide item 15): the file passed, the file failed, or we could
not check it (no validator for the format, a schema that is not available offline, a tool that is
missing). "Could not check" is never reported as valid or invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from preservation.events import Agent
from preservation.findings import Finding

PropertyValue = str | int | float | bool


class Validity(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    NOT_CHECKED = "not checked"  # no validator applies to this format
    COULD_NOT_CHECK = "could not check"  # a validator applies but could not run to a verdict


@dataclass(frozen=True)
class Characterization:
    """What one validator/characterizer found about one file.

    Attributes:
        validator: short stable name, e.g. ``pdf``, ``image``, ``xml``, ``av``.
        agent: the library or tool and its version, e.g. ``pikepdf 10.18.0 (qpdf 12.2.0)``.
        validity: see :class:`Validity`.
        findings: problems found, with stable codes (``pdf.damaged``, ``xml.not_well_formed``...).
        properties: technical properties worth keeping, flat and typed, e.g. ``{"pages": 3,
            "pdf_version": "1.7", "pdfa_claim": "2B"}`` or ``{"width": 800, "height": 600}``.
    """

    validator: str
    agent: Agent
    validity: Validity
    findings: tuple[Finding, ...] = ()
    properties: dict[str, PropertyValue] = field(default_factory=dict)
