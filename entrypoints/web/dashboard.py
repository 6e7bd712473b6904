"""``/``: what the archive holds, and the QĐ 458/QĐ-TTg indicators K1-K6 (vn-standards.md §4).

The figures are :func:`workflows.records.kpi.compute_kpis`, the same as ``kholuu kpi``; this page only
lays them out, per agency and overall, each with numerator, denominator, percent against its
target and what it stands on. A proxy (the agency's declared figure is missing, a ratio over what
the archive received stands in) and a declared figure are marked as such, with the note that
says why, because a manager must not read an estimate as a measurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from entrypoints.web.access import STAFF_PAGES, allow
from entrypoints.web.context import context, translator
from entrypoints.web.params import check_language, day, year
from repository.catalog.models import Aip, AipStatus, Incident
from repository.catalog.records import Document, Dossier
from workflows.records.kpi import compute_kpis
from workflows.records.kpi_figures import Figure, KpiReport

bp = Blueprint("dashboard", __name__)
bp.before_request(check_language)


@dataclass(frozen=True)
class FigureView:
    """One row of a KPI table, with its texts in the reader's language."""

    figure: Figure
    name: str
    unit: str
    basis: str
    note: str
    evidence: str

    @property
    def bar(self) -> float:
        """Width of the percent bar, 0-100."""
        return max(0.0, min(100.0, self.figure.percent or 0.0))


@dataclass(frozen=True)
class ScopeView:
    """The overall figures, or one agency's."""

    key: str  # "overall" or the agency's mã định danh ("" for records of no listed agency)
    title: str
    in_scope: bool
    figures: tuple[FigureView, ...]


@dataclass(frozen=True)
class Holdings:
    aips: int
    aips_degraded: int
    dossiers: int
    documents: int
    open_incidents: int


@bp.get("/")
@allow(*STAFF_PAGES)
def index() -> str:
    ctx = context()
    settings = ctx.settings
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.package.timezone)).date()
    on = day("on") or today
    cohort = year("year") or on.year  # as ``kholuu kpi``: the year of ``on``, so far
    with ctx.sessions() as session:
        report = compute_kpis(session, settings, cohort, on=on)
        holdings = _holdings(session)
    return render_template("dashboard.html", report=report, scopes=_scopes(report), holdings=holdings)


def _holdings(session: Session) -> Holdings:
    by_status: Mapping[AipStatus, int] = {
        status: count
        for status, count in session.execute(select(Aip.status, func.count()).group_by(Aip.status))
    }
    return Holdings(
        aips=by_status.get(AipStatus.STORED, 0) + by_status.get(AipStatus.DEGRADED, 0),
        aips_degraded=by_status.get(AipStatus.DEGRADED, 0),
        # a hồ sơ re-submitted under --supersedes is one record, held as its latest AIP
        dossiers=session.scalar(select(func.count(Dossier.id)).where(Dossier.superseded_by_id.is_(None)))
        or 0,
        documents=session.scalar(
            select(func.count(Document.id)).join(Document.dossier).where(Dossier.superseded_by_id.is_(None))
        )
        or 0,
        open_incidents=session.scalar(select(func.count(Incident.id)).where(Incident.status == "open")) or 0,
    )


def _scopes(report: KpiReport) -> list[ScopeView]:
    t = translator()
    scopes = [ScopeView("overall", t.text("web.kpi.overall"), True, _views(report.overall))]
    for agency in report.agencies:
        title = f"{agency.organ_id} — {agency.name}" if agency.organ_id else t.text("web.kpi.unknown_agency")
        scopes.append(ScopeView(agency.organ_id, title, agency.in_scope, _views(agency.figures)))
    return scopes


def _views(figures: Iterable[Figure]) -> tuple[FigureView, ...]:
    t = translator()
    years = context().settings.records.programme_deadline_years
    out: list[FigureView] = []
    for f in figures:
        params: dict[str, Any] = dict(f.evidence) | {"years": years}
        evidence = ""
        if f.kpi == "K5" and f.evidence:
            evidence = t.text(
                "cli.kpi.k5_evidence",
                params | {"required_locations": f.evidence.get("required_locations") or "—"},
            )
        out.append(
            FigureView(
                figure=f,
                name=t.text(f"kpi.name.{f.kpi}"),
                unit=t.text(f"kpi.unit.{f.unit}"),
                basis=t.text(f"kpi.basis.{f.basis.value}"),
                note=t.text(f.note, params) if f.note else "",
                evidence=evidence,
            )
        )
    return tuple(out)


__all__ = ["FigureView", "Holdings", "ScopeView", "bp"]
