"""The QĐ 458/QĐ-TTg dashboard's figures: what one KPI value is, and the targets it is measured by.

The value types of :mod:`workflows.records.kpi` (which computes K1-K4 and K6) and
:mod:`workflows.records.kpi_preservation` (K5), apart so that both build figures the same way
without importing each other; the dashboard and the CLI read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

TARGETS: Mapping[str, int] = {"K1": 80, "K2": 90, "K3": 80, "K4": 80, "K5": 100, "K6": 30}
"""QĐ 458/QĐ-TTg targets, in percent (vn-standards.md §4) [V: S28, S29, S31]."""


class Basis(StrEnum):
    MEASURED = "measured"
    DECLARED = "declared"
    PROXY = "proxy"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Figure:
    """One KPI value. ``percent`` is None when the denominator is 0 or unknown; ``note`` is a
    message code (``kpi.note.*``) saying what the figure stands on when that needs saying."""

    kpi: str
    unit: str
    numerator: int | None
    denominator: int | None
    percent: float | None
    target: int
    basis: Basis
    note: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        return None if self.percent is None else self.percent >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "unit": self.unit,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "percent": self.percent,
            "target": self.target,
            "met": self.met,
            "basis": self.basis.value,
            "note": self.note or None,
            "evidence": dict(self.evidence) or None,
        }


@dataclass(frozen=True)
class AgencyKpis:
    """One agency's figures. ``in_scope``: in scope for the report year (listed in the Danh mục
    nguồn nộp lưu and active in the year); ``active``: active in the year at all."""

    organ_id: str  # "" for records whose agency is not in the Danh mục nguồn nộp lưu
    name: str
    in_scope: bool
    figures: tuple[Figure, ...]
    active: bool = True

    def figure(self, kpi: str, unit: str | None = None) -> Figure | None:
        return next((f for f in self.figures if f.kpi == kpi and (unit is None or f.unit == unit)), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "organ_id": self.organ_id,
            "name": self.name,
            "in_scope": self.in_scope,
            "active": self.active,
            "figures": [f.as_dict() for f in self.figures],
        }


@dataclass(frozen=True)
class KpiReport:
    year: int
    on: date
    declared_unit: str
    agencies: tuple[AgencyKpis, ...]
    overall: tuple[Figure, ...]

    def figure(self, kpi: str, unit: str | None = None) -> Figure | None:
        return next((f for f in self.overall if f.kpi == kpi and (unit is None or f.unit == unit)), None)

    def agency(self, organ_id: str) -> AgencyKpis:
        return next(a for a in self.agencies if a.organ_id == organ_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "on": self.on.isoformat(),
            "declared_unit": self.declared_unit,
            "targets": dict(TARGETS),
            "overall": [f.as_dict() for f in self.overall],
            "agencies": [a.as_dict() for a in self.agencies],
        }


def percent(numerator: int | None, denominator: int | None) -> float | None:
    """Rounded to one decimal; None when either figure is unknown or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return round(100.0 * numerator / denominator, 1)


def make_figure(
    kpi: str,
    unit: str,
    num: int | None,
    den: int | None,
    basis: Basis,
    note: str = "",
    evidence: Mapping[str, Any] | None = None,
) -> Figure:
    """A figure for ``kpi`` with its target and its percent (see :func:`percent`)."""
    return Figure(kpi, unit, num, den, percent(num, den), TARGETS[kpi], basis, note, evidence or {})


__all__ = ["TARGETS", "AgencyKpis", "Basis", "Figure", "KpiReport", "make_figure", "percent"]
