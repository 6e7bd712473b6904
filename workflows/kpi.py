"""The QĐ 458/QĐ-TTg dashboard: K1-K6 per source agency and overall (vn-standards.md §4).

QĐ 458/QĐ-TTg (2020-2025 programme, "Lưu trữ tài liệu điện tử của các cơ quan nhà nước") sets
the targets; the definitions below are those of the table in vn-standards.md §4, which the
sources do not fix in every detail [NV], so every figure says what it stands on:

* ``basis = "declared"``: the denominator (and, where declared, the numerator) is a figure the
  agency declared (:data:`repository.catalog.records_store.DECLARED_METRICS`), because the
  repository cannot see paper records or records still at the agency;
* ``basis = "measured"``: counted in the catalog, which holds the whole population (K4, K5);
* ``basis = "proxy"``: the declared figure is missing (or counted in the other unit, see
  ``records.declared_unit``), and a repository-only ratio stands in, labelled by ``note``.

Units: K1, K3, K4 and K6 are given on hồ sơ (``dossiers``) and on tài liệu (``documents``); a
document's retention and confidence level default to its dossier's. K2 counts agencies, K5 is a
yes/no with its evidence. Only what the catalog held at the end of ``on`` (archive time zone)
counts: rows received by then, acceptances and publications by then, the restriction list as it
stood that day.

Targets (percent) and definitions:

* **K1** tạo lập dạng điện tử (80): items created in Y born digital (``confidenceLevel`` 01;
  declared ``records_created_electronic`` if given) / declared ``records_created``; proxy:
  received items created in Y. Classified items (mode 03) are left out ("trừ trường hợp pháp
  luật quy định khác"); mixed items (03) are not counted pro rata (no per-file origin is kept).
* **K2** khai thác trên môi trường mạng (90): agencies in scope that declared
  ``online_access = 1`` for Y / agencies in scope (Danh mục nguồn nộp lưu, ``in_scope``).
* **K3** chuyển giao trong 3 năm (80): permanent e-items created in Y accepted within
  ``records.programme_deadline_years`` of creation / declared ``permanent_e_records_created``;
  proxy: those *received* within the years / received permanent e-items created in Y.
* **K4** dữ liệu đặc tả công bố (80): held (accepted) public items (mode 01, not on the tiếp cận
  có điều kiện list that day, and for a document its dossier public too) whose metadata was
  published by ``on`` / held public items.
* **K5** giải pháp bảo quản (100): 1 when at least two storage locations are required and a
  completed fixity audit started within ``audit.cycle_days``, else 0; the evidence is attached.
* **K6** số hóa tài liệu sử dụng nhiều (30): digitized high-use items held (declared
  ``high_use_paper_digitized`` if given) / declared ``high_use_paper_items``; no proxy, as paper
  is invisible to the repository.

"Electronic" (K3) means not digitized: ``confidenceLevel`` ≠ ``02``; the element is optional, and
a package from an agency's records system is born digital unless it says otherwise. "Created"
is ``Dossier.end_on`` / ``Document.issued_on``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalog.models import AuditRun
from repository.catalog.records import DeclaredTotal, Document, Dossier, SourceAgency
from repository.catalog.records_store import PUBLIC_MODE, active_restrictions
from repository.settings import Settings
from workflows.deadlines import PERMANENT, add_years, archive_day, end_of_day

TARGETS: Mapping[str, int] = {"K1": 80, "K2": 90, "K3": 80, "K4": 80, "K5": 100, "K6": 30}
"""QĐ 458/QĐ-TTg targets, in percent (vn-standards.md §4) [V: S28, S29, S31]."""

UNITS = ("dossiers", "documents")
BORN_DIGITAL = "01"  # TT 05 confidenceLevel: 01 gốc điện tử, 02 số hóa, 03 hỗn hợp
DIGITIZED = "02"
CLASSIFIED = "03"  # TT 05 mode: 03 Mật


class Basis(StrEnum):
    MEASURED = "measured"
    DECLARED = "declared"
    PROXY = "proxy"


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
    organ_id: str  # "" for records whose agency is not in the Danh mục nguồn nộp lưu
    name: str
    in_scope: bool
    figures: tuple[Figure, ...]

    def figure(self, kpi: str, unit: str | None = None) -> Figure | None:
        return next((f for f in self.figures if f.kpi == kpi and (unit is None or f.unit == unit)), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "organ_id": self.organ_id,
            "name": self.name,
            "in_scope": self.in_scope,
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


@dataclass(frozen=True)
class _Item:
    """A dossier or a document, reduced to what the KPIs read."""

    agency: int | None
    unit: str
    created: date | None
    maintenance: str
    confidence: str
    mode: str
    received: date
    accepted: date | None
    published: bool
    public: bool
    digitized_high_use: bool


def percent(numerator: int | None, denominator: int | None) -> float | None:
    """Rounded to one decimal; None when either figure is unknown or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return round(100.0 * numerator / denominator, 1)


def _figure(
    kpi: str,
    unit: str,
    num: int | None,
    den: int | None,
    basis: Basis,
    note: str = "",
    evidence: Mapping[str, Any] | None = None,
) -> Figure:
    return Figure(kpi, unit, num, den, percent(num, den), TARGETS[kpi], basis, note, evidence or {})


def compute_kpis(session: Session, settings: Settings, year: int, *, on: date | None = None) -> KpiReport:
    """K1-K6 for cohort / reporting year ``year`` as of day ``on`` (default: today at the archive).

    Args:
        year: the year of creation (K1, K3 cohorts) and of the declarations (K1, K2, K3, K6).
        on: the snapshot day (K4, K5, and what had been received, accepted, published by then).
    """
    tz = ZoneInfo(settings.package.timezone)
    on = on or archive_day(datetime.now(UTC), tz)
    cutoff = end_of_day(on, tz)
    records = settings.records

    agencies = list(session.scalars(select(SourceAgency).order_by(SourceAgency.organ_id)))
    by_organ = {a.organ_id: a.id for a in agencies}
    declared: dict[int, dict[str, int]] = defaultdict(dict)
    for total in session.scalars(select(DeclaredTotal).where(DeclaredTotal.year == year)):
        declared[total.agency_id][total.metric] = total.value

    items = _load_items(session, on, cutoff, tz, by_organ)
    by_agency: dict[int | None, list[_Item]] = defaultdict(list)
    for item in items:
        by_agency[item.agency].append(item)

    def figures_for(key: int | None, in_scope: bool) -> tuple[Figure, ...]:
        mine = by_agency.get(key, [])
        decl = declared.get(key, {}) if key is not None else {}
        out: list[Figure] = []
        for unit in UNITS:
            of_unit = [i for i in mine if i.unit == unit]
            use_declared = unit == records.declared_unit
            out.append(_k1(of_unit, unit, year, decl if use_declared else {}))
            out.append(
                _k3(of_unit, unit, year, decl if use_declared else {}, records.programme_deadline_years)
            )
            out.append(_k4(of_unit, unit))
            out.append(_k6(of_unit, unit, decl if use_declared else {}))
        out.insert(0, _k2_agency(in_scope, decl))
        return tuple(sorted(out, key=lambda f: (f.kpi, UNITS.index(f.unit) if f.unit in UNITS else -1)))

    rows = [AgencyKpis(a.organ_id, a.name, a.in_scope, figures_for(a.id, a.in_scope)) for a in agencies]
    if by_agency.get(None):
        rows.append(AgencyKpis("", "", False, figures_for(None, False)))

    overall: list[Figure] = [_k2_overall(agencies, declared), _k5(session, settings, cutoff)]
    for kpi in ("K1", "K3", "K4", "K6"):
        for unit in UNITS:
            scope = [r for r in rows if r.in_scope] if kpi in ("K1", "K3") else rows
            parts = [f for r in scope if (f := r.figure(kpi, unit)) is not None]
            overall.append(_sum(kpi, unit, parts))
    overall.sort(key=lambda f: (f.kpi, UNITS.index(f.unit) if f.unit in UNITS else -1))
    return KpiReport(year, on, records.declared_unit, tuple(rows), tuple(overall))


def _load_items(
    session: Session, on: date, cutoff: datetime, tz: ZoneInfo, by_organ: Mapping[str, int]
) -> list[_Item]:
    restricted = active_restrictions(session, on=on, tz=tz)
    restricted_dossiers = {r.dossier_id for r in restricted if r.dossier_id is not None}
    restricted_documents = {r.document_id for r in restricted if r.document_id is not None}

    def day(moment: datetime | None) -> date | None:
        return archive_day(moment, tz) if moment is not None and moment < cutoff else None

    items: list[_Item] = []
    dossiers: dict[int, tuple[_Item, Dossier]] = {}
    for d in session.scalars(select(Dossier).where(Dossier.received_at < cutoff)):
        agency = d.agency_id if d.agency_id is not None else by_organ.get(d.organ_id)
        public = d.mode == PUBLIC_MODE and d.id not in restricted_dossiers
        item = _Item(
            agency=agency,
            unit="dossiers",
            created=d.end_on,
            maintenance=d.maintenance,
            confidence=d.confidence_level,
            mode=d.mode,
            received=archive_day(d.received_at, tz),
            accepted=day(d.accepted_at),
            published=day(d.metadata_published_at) is not None,
            public=public,
            digitized_high_use=d.digitized and d.high_use,
        )
        items.append(item)
        dossiers[d.id] = (item, d)
    rows = session.execute(
        select(
            Document.id,
            Document.dossier_id,
            Document.issued_on,
            Document.maintenance,
            Document.confidence_level,
            Document.mode,
            Document.metadata_published_at,
        )
    )
    for doc_id, dossier_id, issued_on, maintenance, confidence, mode, published_at in rows:
        if dossier_id not in dossiers:
            continue  # received after ``on``
        parent, _ = dossiers[dossier_id]
        items.append(
            _Item(
                agency=parent.agency,
                unit="documents",
                created=issued_on,
                maintenance=maintenance or parent.maintenance,
                confidence=confidence or parent.confidence,
                mode=mode or parent.mode,
                received=parent.received,
                accepted=parent.accepted,
                published=day(published_at) is not None,
                # as the public search has it: the document and its dossier are both public
                public=mode == PUBLIC_MODE and doc_id not in restricted_documents and parent.public,
                digitized_high_use=parent.digitized_high_use,
            )
        )
    return items


def _k1(items: Sequence[_Item], unit: str, year: int, declared: Mapping[str, int]) -> Figure:
    cohort = [i for i in items if i.created and i.created.year == year and i.mode != CLASSIFIED]
    born_digital = sum(1 for i in cohort if i.confidence == BORN_DIGITAL)
    if "records_created" in declared:
        if "records_created_electronic" in declared:
            return _figure(
                "K1",
                unit,
                declared["records_created_electronic"],
                declared["records_created"],
                Basis.DECLARED,
            )
        return _figure(
            "K1",
            unit,
            born_digital,
            declared["records_created"],
            Basis.DECLARED,
            "kpi.note.numerator_received",
        )
    return _figure("K1", unit, born_digital, len(cohort), Basis.PROXY, "kpi.note.k1_proxy")


def _k3(items: Sequence[_Item], unit: str, year: int, declared: Mapping[str, int], years: int) -> Figure:
    cohort = [
        (i, add_years(i.created, years))
        for i in items
        if i.created and i.created.year == year and i.maintenance == PERMANENT and i.confidence != DIGITIZED
    ]
    if "permanent_e_records_created" in declared:
        in_time = sum(1 for i, limit in cohort if i.accepted is not None and i.accepted <= limit)
        return _figure("K3", unit, in_time, declared["permanent_e_records_created"], Basis.DECLARED)
    arrived = sum(1 for i, limit in cohort if i.received <= limit)
    return _figure("K3", unit, arrived, len(cohort), Basis.PROXY, "kpi.note.k3_proxy")


def _k4(items: Sequence[_Item], unit: str) -> Figure:
    public = [i for i in items if i.accepted is not None and i.public]
    return _figure("K4", unit, sum(1 for i in public if i.published), len(public), Basis.MEASURED)


def _k6(items: Sequence[_Item], unit: str, declared: Mapping[str, int]) -> Figure:
    digitized = sum(1 for i in items if i.digitized_high_use)
    if "high_use_paper_items" in declared:
        if "high_use_paper_digitized" in declared:
            return _figure(
                "K6",
                unit,
                declared["high_use_paper_digitized"],
                declared["high_use_paper_items"],
                Basis.DECLARED,
            )
        return _figure(
            "K6",
            unit,
            digitized,
            declared["high_use_paper_items"],
            Basis.DECLARED,
            "kpi.note.numerator_received",
        )
    return _figure("K6", unit, digitized, None, Basis.MEASURED, "kpi.note.k6_no_denominator")


def _k2_agency(in_scope: bool, declared: Mapping[str, int]) -> Figure:
    if not in_scope:
        return _figure("K2", "agencies", None, 0, Basis.DECLARED, "kpi.note.not_in_scope")
    if "online_access" not in declared:
        return _figure("K2", "agencies", None, 1, Basis.DECLARED, "kpi.note.not_declared")
    return _figure("K2", "agencies", 1 if declared["online_access"] == 1 else 0, 1, Basis.DECLARED)


def _k2_overall(agencies: Iterable[SourceAgency], declared: Mapping[int, Mapping[str, int]]) -> Figure:
    scope = [a for a in agencies if a.in_scope]
    online = sum(1 for a in scope if declared.get(a.id, {}).get("online_access") == 1)
    undeclared = sum(1 for a in scope if "online_access" not in declared.get(a.id, {}))
    note = "kpi.note.k2_undeclared" if undeclared else ""
    return _figure("K2", "agencies", online, len(scope), Basis.DECLARED, note, {"undeclared": undeclared})


def _k5(session: Session, settings: Settings, cutoff: datetime) -> Figure:
    """ISO 16363 / QĐ 458 "giải pháp bảo quản": at least two independent copies required of every
    AIP (TT 05/2025 Điều 27: two backup sets on independent media) and fixity audits that ran
    within the audit cycle; the evidence is shown, not just the verdict."""
    required = [loc.name for loc in settings.storage.locations if loc.required]
    latest = session.scalars(
        select(AuditRun)
        .where(AuditRun.status == "completed", AuditRun.started_at < cutoff)
        .order_by(AuditRun.started_at.desc())
        .limit(1)
    ).first()
    cycle_start = cutoff - timedelta(days=settings.audit.cycle_days)
    audited = latest is not None and latest.started_at >= cycle_start
    copies_ok = len(required) >= 2
    evidence = {
        "required_locations": required,
        "audit_schedules": [s.location for s in settings.audit.schedules],
        "cycle_days": settings.audit.cycle_days,
        "latest_audit_run": latest.id if latest else None,
        "latest_audit_at": latest.started_at.isoformat() if latest else None,
        "latest_audit_copies_checked": latest.copies_checked if latest else None,
        "two_required_copies": copies_ok,
        "audited_within_cycle": audited,
    }
    ok = copies_ok and audited
    note = "" if ok else ("kpi.note.k5_copies" if not copies_ok else "kpi.note.k5_audit")
    return _figure("K5", "solution", 1 if ok else 0, 1, Basis.MEASURED, note, evidence)


def _sum(kpi: str, unit: str, parts: Sequence[Figure]) -> Figure:
    """The overall figure: sums over the agency figures that have a denominator (an agency whose
    denominator is unknown cannot be weighed), with the weakest basis among them (a sum that
    includes a proxy is a proxy)."""
    counted = [f for f in parts if f.denominator is not None and f.numerator is not None]
    if not counted:
        num = sum(f.numerator for f in parts if f.numerator is not None) if parts else 0
        basis = parts[0].basis if parts else Basis.MEASURED
        return _figure(kpi, unit, num, None, basis, parts[0].note if parts else "")
    weighed = [f for f in counted if f.denominator] or counted
    bases = {f.basis for f in weighed}
    basis = (
        Basis.PROXY if Basis.PROXY in bases else Basis.DECLARED if Basis.DECLARED in bases else Basis.MEASURED
    )
    notes = {f.note for f in weighed}
    if len(bases) > 1:
        note = "kpi.note.overall_mixed"
    elif len(counted) < len(parts):
        note = "kpi.note.overall_partial"
    else:
        note = notes.pop() if len(notes) == 1 else ""
    return _figure(
        kpi,
        unit,
        sum(f.numerator or 0 for f in counted),
        sum(f.denominator or 0 for f in counted),
        basis,
        note,
        {"agencies": len(counted), "left_out": len(parts) - len(counted)}
        if len(counted) < len(parts)
        else None,
    )


__all__ = ["TARGETS", "UNITS", "AgencyKpis", "Basis", "Figure", "KpiReport", "compute_kpis", "percent"]
