"""The QĐ 458/QĐ-TTg dashboard: K1-K6 per source agency and overall (vn-standards.md §4).

QĐ 458/QĐ-TTg (2020-2025 programme, "Lưu trữ tài liệu điện tử của các cơ quan nhà nước") sets
the targets; the definitions below are those of the table in vn-standards.md §4, which the
sources do not fix in every detail [NV], so every figure says what it stands on:

* ``basis = "declared"``: the denominator (and, where declared, the numerator) is a figure the
  agency declared (:data:`repository.catalog.records_store.DECLARED_METRICS`), because the
  repository cannot see paper records or records still at the agency;
* ``basis = "measured"``: counted in the catalog, which holds the whole population (K4, K5);
* ``basis = "proxy"``: the declared figure is missing (or counted in the other unit, see
  ``records.declared_unit``), and a repository-only ratio stands in, labelled by ``note``;
* ``basis = "no_data"``: the catalog does not record what the figure needs (no publication date
  at all for K4, no record marked high-use for K6: nothing sets them until a public portal
  exists), so no value is given rather than a silent 0 %; the note names the command that
  records it (``kholuu kpi mark-published``, ``kholuu kpi mark-high-use``).

Units: K1, K3, K4 and K6 are given on hồ sơ (``dossiers``) and on tài liệu (``documents``); a
document's retention and confidence level default to its dossier's. K2 counts agencies, K5 is a
yes/no with its evidence. Only what the catalog held at the end of ``on`` (archive time zone)
counts, as :func:`workflows.records.deadlines.held_records` reads it: rows received by then and not
returned (a rejected transfer's records are not counted anywhere), acceptances (an ingest
without a transfer: AIP stored; under a transfer: the acceptance decision) and publications by
then, the restriction list as it stood that day.

**Electronic** (:func:`workflows.records.deadlines.is_electronic`, the one rule for K1 and K3): TT 05
``confidenceLevel`` ``02`` (số hóa, digitized from paper) is not electronic; ``01`` (gốc điện
tử), ``03`` (hỗn hợp) and a missing value are. The element is optional, and the records that omit
it come from an agency's e-records system (legacy NĐ 30/2020 exports carry no confidenceLevel):
they were created there. "Created" is ``Dossier.end_on`` (the last day the end date denotes:
"2021" → 31/12/2021) / ``Document.issued_on``.

**In scope for year Y**: listed in the Danh mục nguồn nộp lưu (``in_scope``) and active at some
time in Y (``active_from`` / ``active_to``; an agency dissolved before Y is not counted for Y).

Targets (percent) and definitions:

* **K1** tạo lập dạng điện tử (80): items created in Y in electronic form (declared
  ``records_created_electronic`` if given, else the electronic items received) / declared
  ``records_created``; proxy: received items created in Y. "Born digital" is "electronic" by the
  rule above; a mixed item (03) counts whole, not pro rata by file as §4 suggests: a stated
  simplification (no per-file origin is kept). Classified items (mode 03) are left out ("trừ
  trường hợp pháp luật quy định khác").
* **K2** khai thác trên môi trường mạng (90): agencies in scope for Y that declared
  ``online_access = 1`` for Y / agencies in scope for Y.
* **K3** chuyển giao trong 3 năm (80): permanent e-items created in Y accepted within
  ``records.programme_deadline_years`` of creation / declared ``permanent_e_records_created``;
  proxy: those *received* within the years / received permanent e-items created in Y. The cohort
  is :func:`workflows.records.deadlines.permanent_e_records`, as in the deadline report.
* **K4** dữ liệu đặc tả công bố (80): held (accepted) public items (mode 01, not on the tiếp cận
  có điều kiện list that day, and for a document its dossier public too) whose metadata was
  published by ``on`` / held public items.
* **K5** giải pháp bảo quản (100): 1 when at least two storage locations hold required copies
  (TT 05/2025 Điều 27: two backup sets), the copies' real state is sound (no open incident, no
  degraded AIP, no damaged, pending or missing required copy) and every configured location was
  covered by a completed fixity audit started within ``audit.cycle_days`` before the end of ``on``
  that actually read every held copy there, else 0; the evidence names what fails.
* **K6** số hóa tài liệu sử dụng nhiều (30): digitized high-use items held (declared
  ``high_use_paper_digitized`` if given) / declared ``high_use_paper_items``; no proxy, as paper
  is invisible to the repository.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from repository.catalog.copy_state import CopyState, copy_state, good_copy_sql
from repository.catalog.models import Aip, AipStatus, AuditRun, Copy, CopyStatus, Incident
from repository.catalog.records import (
    DeclaredTotal,
    Document,
    Dossier,
    SourceAgency,
    Transfer,
    TransferStatus,
)
from repository.catalog.records_store import RecordNotFoundError, RecordsError
from repository.settings import Settings
from workflows.records.deadlines import (
    UNITS,
    HeldRecord,
    active_in,
    add_years,
    archive_day,
    end_of_day,
    held_records,
    is_electronic,
    permanent_e_records,
)

TARGETS: Mapping[str, int] = {"K1": 80, "K2": 90, "K3": 80, "K4": 80, "K5": 100, "K6": 30}
"""QĐ 458/QĐ-TTg targets, in percent (vn-standards.md §4) [V: S28, S29, S31]."""

CLASSIFIED = "03"  # TT 05 mode: 03 Mật


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
    declared: dict[int, dict[str, int]] = defaultdict(dict)
    for total in session.scalars(select(DeclaredTotal).where(DeclaredTotal.year == year)):
        declared[total.agency_id][total.metric] = total.value
    # K4 and K6 read fields nothing sets yet but an operator (kholuu kpi mark-published /
    # mark-high-use): none set at all means "not recorded", not 0 %.
    has_published = bool(
        session.scalar(select(exists().where(Dossier.metadata_published_at.is_not(None))))
        or session.scalar(select(exists().where(Document.metadata_published_at.is_not(None))))
    )
    has_high_use = bool(session.scalar(select(exists().where(Dossier.high_use.is_(True)))))

    by_agency: dict[int | None, list[HeldRecord]] = defaultdict(list)
    for item in held_records(session, settings, on):
        by_agency[item.agency].append(item)

    def figures_for(key: int | None, agency: SourceAgency | None) -> tuple[Figure, ...]:
        mine = by_agency.get(key, [])
        decl = declared.get(key, {}) if key is not None else {}
        out: list[Figure] = []
        for unit in UNITS:
            of_unit = [i for i in mine if i.unit == unit]
            own = decl if unit == records.declared_unit else {}
            out.append(_k1(of_unit, unit, year, own))
            out.append(_k3(of_unit, unit, year, own, records.programme_deadline_years))
            out.append(_k4(of_unit, unit, has_published))
            out.append(_k6(of_unit, unit, own, has_high_use))
        out.insert(0, _k2_agency(agency, year, decl))
        return tuple(sorted(out, key=lambda f: (f.kpi, UNITS.index(f.unit) if f.unit in UNITS else -1)))

    rows = [
        AgencyKpis(
            a.organ_id,
            a.name,
            _in_scope(a, year),
            figures_for(a.id, a),
            active=active_in(a, year),
        )
        for a in agencies
    ]
    if by_agency.get(None):
        rows.append(AgencyKpis("", "", False, figures_for(None, None)))

    overall: list[Figure] = [_k2_overall(agencies, year, declared), _k5(session, settings, cutoff)]
    no_data = {"K4": "" if has_published else NOTE_K4_NO_DATA, "K6": "" if has_high_use else NOTE_K6_NO_DATA}
    for kpi in ("K1", "K3", "K4", "K6"):
        for unit in UNITS:
            scope = [r for r in rows if r.in_scope] if kpi in ("K1", "K3") else rows
            parts = [f for r in scope if (f := r.figure(kpi, unit)) is not None]
            overall.append(_sum(kpi, unit, parts, no_data.get(kpi, "")))
    overall.sort(key=lambda f: (f.kpi, UNITS.index(f.unit) if f.unit in UNITS else -1))
    return KpiReport(year, on, records.declared_unit, tuple(rows), tuple(overall))


NOTE_K4_NO_DATA = "kpi.note.k4_no_data"
NOTE_K6_NO_DATA = "kpi.note.k6_no_data"


def _in_scope(agency: SourceAgency, year: int) -> bool:
    return agency.in_scope and active_in(agency, year)


def _k1(items: Sequence[HeldRecord], unit: str, year: int, declared: Mapping[str, int]) -> Figure:
    cohort = [i for i in items if i.created and i.created.year == year and i.mode != CLASSIFIED]
    electronic = sum(1 for i in cohort if is_electronic(i.confidence))
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
            electronic,
            declared["records_created"],
            Basis.DECLARED,
            "kpi.note.numerator_received",
        )
    return _figure("K1", unit, electronic, len(cohort), Basis.PROXY, "kpi.note.k1_proxy")


def _k3(items: Sequence[HeldRecord], unit: str, year: int, declared: Mapping[str, int], years: int) -> Figure:
    cohort = [(i, add_years(i.created, years)) for i in permanent_e_records(items, unit, year) if i.created]
    if "permanent_e_records_created" in declared:
        in_time = sum(1 for i, limit in cohort if i.accepted is not None and i.accepted <= limit)
        return _figure("K3", unit, in_time, declared["permanent_e_records_created"], Basis.DECLARED)
    arrived = sum(1 for i, limit in cohort if i.received <= limit)
    return _figure("K3", unit, arrived, len(cohort), Basis.PROXY, "kpi.note.k3_proxy")


def _k4(items: Sequence[HeldRecord], unit: str, has_published: bool) -> Figure:
    public = [i for i in items if i.accepted is not None and i.public]
    if not has_published:
        return _figure("K4", unit, None, len(public), Basis.NO_DATA, NOTE_K4_NO_DATA)
    return _figure("K4", unit, sum(1 for i in public if i.published), len(public), Basis.MEASURED)


def _k6(items: Sequence[HeldRecord], unit: str, declared: Mapping[str, int], has_high_use: bool) -> Figure:
    if "high_use_paper_items" in declared and "high_use_paper_digitized" in declared:
        return _figure(
            "K6",
            unit,
            declared["high_use_paper_digitized"],
            declared["high_use_paper_items"],
            Basis.DECLARED,
        )
    denominator = declared.get("high_use_paper_items")
    if not has_high_use:
        return _figure("K6", unit, None, denominator, Basis.NO_DATA, NOTE_K6_NO_DATA)
    digitized = sum(1 for i in items if i.accepted is not None and i.digitized and i.high_use)
    if denominator is not None:
        return _figure("K6", unit, digitized, denominator, Basis.DECLARED, "kpi.note.numerator_received")
    return _figure("K6", unit, digitized, None, Basis.MEASURED, "kpi.note.k6_no_denominator")


def _k2_agency(agency: SourceAgency | None, year: int, declared: Mapping[str, int]) -> Figure:
    if agency is None or not agency.in_scope:
        return _figure("K2", "agencies", None, 0, Basis.DECLARED, "kpi.note.not_in_scope")
    if not active_in(agency, year):
        evidence = {"active_from": _iso(agency.active_from), "active_to": _iso(agency.active_to)}
        return _figure("K2", "agencies", None, 0, Basis.DECLARED, "kpi.note.not_active", evidence)
    if "online_access" not in declared:
        return _figure("K2", "agencies", None, 1, Basis.DECLARED, "kpi.note.not_declared")
    return _figure("K2", "agencies", 1 if declared["online_access"] == 1 else 0, 1, Basis.DECLARED)


def _k2_overall(
    agencies: Iterable[SourceAgency], year: int, declared: Mapping[int, Mapping[str, int]]
) -> Figure:
    scope = [a for a in agencies if _in_scope(a, year)]
    online = sum(1 for a in scope if declared.get(a.id, {}).get("online_access") == 1)
    undeclared = sum(1 for a in scope if "online_access" not in declared.get(a.id, {}))
    note = "kpi.note.k2_undeclared" if undeclared else ""
    return _figure("K2", "agencies", online, len(scope), Basis.DECLARED, note, {"undeclared": undeclared})


def _k5(session: Session, settings: Settings, cutoff: datetime) -> Figure:
    """ISO 16363 / QĐ 458 "giải pháp bảo quản", from the copies' real state (issue 11, item 15):

    * at least two required storage locations (TT 05/2025 Điều 27: two backup sets on
      independent media);
    * nothing damaged: no open incident, no degraded AIP, no copy whose last check found damage
      that is still there (:mod:`repository.catalog.copy_state`);
    * every held AIP has a good copy of its current version in every required location (a queued
      ``pending`` copy, a failed write or a missing row is not one);
    * every configured location covered by a completed fixity audit started within
      ``audit.cycle_days`` before ``cutoff`` (``AuditRun.location`` = that location, or None: a
      run over every location), and every held copy in it actually read in that window (an audit
      that checked 0 copies, or could not reach them, covers nothing).

    The copies' state is the catalog's today (it keeps no history of copy states); the audits are
    those before ``cutoff``. The evidence names what fails."""
    locations = [loc.name for loc in settings.storage.locations]
    required = [loc.name for loc in settings.storage.locations if loc.required]
    cycle_start = cutoff - timedelta(days=settings.audit.cycle_days)
    completed = list(
        session.scalars(
            select(AuditRun)
            .where(AuditRun.status == "completed", AuditRun.started_at < cutoff)
            .order_by(AuditRun.started_at.desc(), AuditRun.id)
        )
    )
    latest = completed[0] if completed else None
    covering: dict[str, AuditRun] = {}
    for run in completed:
        if run.started_at < cycle_start:
            break
        for name in locations if run.location is None else [run.location]:
            covering.setdefault(name, run)
    audits = {
        name: {
            "run": covering[name].id,
            "started_at": covering[name].started_at.isoformat(),
            "copies_checked": covering[name].copies_checked,
            "could_not_check": covering[name].could_not_check,
        }
        for name in locations
        if name in covering
    }
    state = _copies_state(session, required, cycle_start, cutoff)
    unchecked = {name: n for name, n in state.pop("unchecked_copies").items() if n}
    missing = [name for name in locations if name not in covering or name in unchecked]
    copies_ok = len(required) >= 2
    damaged = bool(state["open_incidents"] or state["degraded_aips"] or state["copies_damaged"])
    incomplete = bool(any(state["aips_without_good_copy"].values()) or state["copies_pending"])
    audited = bool(locations) and not missing
    evidence = {
        "locations": locations,
        "required_locations": required,
        "audit_schedules": [s.location for s in settings.audit.schedules],
        "cycle_days": settings.audit.cycle_days,
        "cycle_start": cycle_start.isoformat(),
        "audits": audits,
        "audited_locations": [name for name in locations if name not in missing],
        "missing_audit_locations": missing,
        "unchecked_copies": unchecked,
        "latest_audit_run": latest.id if latest else None,
        "latest_audit_at": latest.started_at.isoformat() if latest else None,
        "latest_audit_copies_checked": latest.copies_checked if latest else None,
        "two_required_copies": copies_ok,
        "audited_within_cycle": audited,
        **state,
    }
    ok = copies_ok and not damaged and not incomplete and audited
    note = ""
    if not copies_ok:
        note = "kpi.note.k5_copies"
    elif damaged:
        note = "kpi.note.k5_damaged"
    elif incomplete:
        note = "kpi.note.k5_incomplete"
    elif not audited:
        note = "kpi.note.k5_audit_missing"
    return _figure("K5", "solution", 1 if ok else 0, 1, Basis.MEASURED, note, evidence)


def _copies_state(
    session: Session, required: Sequence[str], cycle_start: datetime, cutoff: datetime
) -> dict[str, Any]:
    """Counts over the copies of the current version of held AIPs (``stored`` or ``degraded``),
    by the one copy-state rule; aggregates only, nothing per AIP is held in memory."""
    held = Aip.status.in_((AipStatus.STORED, AipStatus.DEGRADED))
    current = and_(Copy.aip_id == Aip.id, Copy.version == Aip.current_version)
    by_state: dict[str, int] = defaultdict(int)
    for status, outcome, count in session.execute(
        select(Copy.status, Copy.check_outcome, func.count())
        .select_from(Copy)
        .join(Aip, current)
        .where(held)
        .group_by(Copy.status, Copy.check_outcome)
    ):
        by_state[copy_state(status, outcome).value] += int(count)
    without_good: dict[str, int] = {}
    unchecked: dict[str, int] = {}
    for name in required:
        good_here = exists().where(current, Copy.location == name, good_copy_sql())
        without_good[name] = int(session.scalar(select(func.count(Aip.id)).where(held, ~good_here)) or 0)
    read_in_cycle = and_(
        Copy.last_checked_at >= cycle_start,
        Copy.last_checked_at < cutoff,
        or_(Copy.check_outcome.is_(None), Copy.check_outcome != "could not check"),
    )
    for name, count in session.execute(
        select(Copy.location, func.count())
        .select_from(Copy)
        .join(Aip, current)
        .where(held, Copy.status == CopyStatus.STORED, or_(Copy.last_checked_at.is_(None), ~read_in_cycle))
        .group_by(Copy.location)
    ):
        unchecked[str(name)] = int(count)
    return {
        "open_incidents": int(
            session.scalar(select(func.count(Incident.id)).where(Incident.status == "open")) or 0
        ),
        "degraded_aips": int(
            session.scalar(select(func.count(Aip.id)).where(Aip.status == AipStatus.DEGRADED)) or 0
        ),
        "copies_damaged": by_state[CopyState.DAMAGED.value],
        "copies_pending": by_state[CopyState.PENDING.value],
        "copies_failed": by_state[CopyState.FAILED.value],
        "aips_without_good_copy": without_good,
        "unchecked_copies": unchecked,
    }


def _sum(kpi: str, unit: str, parts: Sequence[Figure], no_data: str = "") -> Figure:
    """The overall figure: sums over the agency figures that have a denominator (an agency whose
    denominator is unknown cannot be weighed), with the weakest basis among them (a sum that
    includes a proxy is a proxy). ``no_data``: the note when the catalog records nothing this
    figure needs; then the figure has no value unless an agency declared one."""
    counted = [f for f in parts if f.denominator is not None and f.numerator is not None]
    if not counted:
        if no_data:
            dens = [f.denominator for f in parts if f.denominator is not None]
            return _figure(kpi, unit, None, sum(dens) if dens else None, Basis.NO_DATA, no_data)
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


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --------------------------------------------------------------------------- K4 / K6 inputs


@dataclass(frozen=True)
class Marked:
    """A dossier whose K4 / K6 input was set (or cleared), with how many documents followed it."""

    code: str
    aip_id: str
    dossier_id: int
    documents: int
    metadata_published_at: datetime | None
    high_use: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "aip_id": self.aip_id,
            "dossier_id": self.dossier_id,
            "documents": self.documents,
            "metadata_published_at": self.metadata_published_at.isoformat()
            if self.metadata_published_at
            else None,
            "high_use": self.high_use,
        }


def addressed_dossiers(session: Session, codes: Sequence[str], *, aip_id: str | None = None) -> list[Dossier]:
    """The dossiers named by their codes (as received, NFC), all or none.

    Without ``aip_id``, a code held by several AIPs is ambiguous, except that the records of a
    rejected transfer (returned to the agency, and usually sent again) are passed over.

    Raises:
        RecordNotFoundError: ``kpi.mark.dossier_not_found`` naming the code (and the AIP).
        RecordsError: ``kpi.mark.ambiguous_code`` naming the AIPs that hold the code.
    """
    rejected = set(
        session.scalars(
            select(Transfer.aip_id).where(
                Transfer.status == TransferStatus.REJECTED, Transfer.aip_id.is_not(None)
            )
        )
    )
    out: list[Dossier] = []
    for raw in codes:
        code = unicodedata.normalize("NFC", raw).strip()
        query = select(Dossier).where(Dossier.code == code).options(selectinload(Dossier.documents))
        if aip_id is not None:
            query = query.where(Dossier.aip_id == aip_id)
        rows = list(session.scalars(query.order_by(Dossier.id)))
        if not rows:
            raise RecordNotFoundError(
                code="kpi.mark.dossier_not_found",
                message=f"no dossier with the code {code!r}" + (f" in AIP {aip_id}" if aip_id else ""),
                params={"code": code, "aip": aip_id},
            )
        if len(rows) > 1:
            rows = [d for d in rows if d.aip_id not in rejected] or rows
        if len(rows) > 1:  # a hồ sơ re-submitted under --supersedes is the record that replaced it
            rows = [d for d in rows if d.superseded_by_id is None] or rows
        if len(rows) > 1:
            aips = sorted({d.aip_id for d in rows})
            raise RecordsError(
                code="kpi.mark.ambiguous_code",
                message=f"the code {code!r} is held by AIPs {', '.join(aips)}: name one with --aip",
                params={"code": code, "aips": aips},
            )
        if rows[0] not in out:
            out.append(rows[0])
    return out


def mark_published(
    session: Session,
    codes: Sequence[str],
    *,
    aip_id: str | None = None,
    at: datetime | None = None,
    unset: bool = False,
) -> list[Marked]:
    """Record when the descriptive metadata of these dossiers and their documents was published
    online (K4), or with ``unset`` that it is not. Until the archive runs a public portal the date
    comes from outside (QĐ 458: "công bố dữ liệu đặc tả ... trên môi trường mạng").

    Raises:
        RecordNotFoundError, RecordsError: see :func:`addressed_dossiers`; ValueError for a naive ``at``.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("the publication time needs a time zone")
    when = None if unset else (at or datetime.now(UTC)).astimezone(UTC)
    marked: list[Marked] = []
    for dossier in addressed_dossiers(session, codes, aip_id=aip_id):
        dossier.metadata_published_at = when
        for document in dossier.documents:
            document.metadata_published_at = when
        marked.append(_marked(dossier))
    session.flush()
    return marked


def mark_high_use(
    session: Session, codes: Sequence[str], *, aip_id: str | None = None, unset: bool = False
) -> list[Marked]:
    """Mark these dossiers (and so their documents) as records of high use (tần suất sử dụng cao,
    K6), or with ``unset`` clear the mark. The client has not defined high use (vn-standards.md
    §4): the archive decides, record by record.

    Raises:
        RecordNotFoundError, RecordsError: see :func:`addressed_dossiers`.
    """
    marked: list[Marked] = []
    for dossier in addressed_dossiers(session, codes, aip_id=aip_id):
        dossier.high_use = not unset
        marked.append(_marked(dossier))
    session.flush()
    return marked


def _marked(dossier: Dossier) -> Marked:
    return Marked(
        dossier.code,
        dossier.aip_id,
        dossier.id,
        len(dossier.documents),
        dossier.metadata_published_at,
        dossier.high_use,
    )


__all__ = [
    "TARGETS",
    "UNITS",
    "AgencyKpis",
    "Basis",
    "Figure",
    "KpiReport",
    "Marked",
    "addressed_dossiers",
    "compute_kpis",
    "mark_high_use",
    "mark_published",
    "percent",
]
