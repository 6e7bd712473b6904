"""The CSIP 2.0.4 requirement table and the report that ties every finding to one requirement.

A module of its own so that the package checks (``csip.py``) and the METS checks (``csip_mets.py``)
both build on it without importing each other. The table is data:
``preservation/schemas/csip/requirements.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from preservation.findings import Finding, Severity

__all__ = ["LEVELS", "REQUIREMENTS_FILE", "Report", "Requirement", "requirements", "vocabulary"]

REQUIREMENTS_FILE = Path(__file__).parent / "schemas" / "csip" / "requirements.json"
LEVELS = {"MUST": Severity.ERROR, "SHOULD": Severity.WARNING, "MAY": Severity.INFO}


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    title: str
    text: str
    xpath: str
    applies_to_aip: bool
    why_not: str = ""

    @property
    def severity(self) -> Severity:
        return LEVELS[self.level]


@cache
def _table() -> dict[str, Any]:
    with REQUIREMENTS_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@cache
def requirements() -> dict[str, Requirement]:
    return {
        r["id"]: Requirement(
            r["id"], r["level"], r["title"], r["text"], r["xpath"], r["applies_to_aip"], r.get("why_not", "")
        )
        for r in _table()["requirements"]
    }


def vocabulary(name: str) -> frozenset[str]:
    return frozenset(_table()["vocabularies"][name])


class Report:
    """Collects findings; every finding is tied to a requirement of the table."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, rid: str, where: str, problem: str, **params: Any) -> None:
        req = requirements()[rid]
        self.findings.append(
            Finding(
                code=rid,
                severity=req.severity,
                where=where,
                message=f"{req.title}: {problem}",
                params={"level": req.level, **params},
            )
        )
