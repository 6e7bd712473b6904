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
counts, as :func:`workflows.records.holdings.held_records` reads it: rows received by then and not
returned (a rejected transfer's records are not counted anywhere), acceptances (an ingest
without a transfer: AIP stored; under a transfer: the acceptance decision) and publications by
then, the restriction list as it stood that day.

**Electronic** (:func:`workflows.records.holdings.is_electronic`, the one rule for K1 and K3): TT 05
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
  is :func:`workflows.records.holdings.permanent_e_records`, as in the deadline report.
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

Here K1-K4 and K6 are computed and the report assembled; the figure types are in
:mod:`workflows.records.kpi_figures`, K5 in :mod:`workflows.records.kpi_preservation`, and the
K4 / K6 inputs an archivist sets in :mod:`workflows.records.kpi_marks`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from repository.catalog.records import (
    DeclaredTotal,
    Document,
    Dossier,
    SourceAgency,
)
from repository.settings import Settings
from workflows.records.deadline_calendar import add_years, archive_day, end_of_day
from workflows.records.holdings import (
    UNITS,
    HeldRecord,
    active_in,
    held_records,
    is_electronic,
    permanent_e_records,
)
from workflows.records.kpi_figures import AgencyKpis, Basis, Figure, KpiReport, make_figure
from workflows.records.kpi_preservation import preservation_solution

CLASSIFIED = "03"  # TT 05 mode: 03 Mật


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

    overall: list[Figure] = [
        _k2_overall(agencies, year, declared),
        preservation_solution(session, settings, cutoff),
    ]
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
            return make_figure(
                "K1",
                unit,
                declared["records_created_electronic"],
                declared["records_created"],
                Basis.DECLARED,
            )
        return make_figure(
            "K1",
            unit,
            electronic,
            declared["records_created"],
            Basis.DECLARED,
            "kpi.note.numerator_received",
        )
    return make_figure("K1", unit, electronic, len(cohort), Basis.PROXY, "kpi.note.k1_proxy")


def _k3(items: Sequence[HeldRecord], unit: str, year: int, declared: Mapping[str, int], years: int) -> Figure:
    cohort = [(i, add_years(i.created, years)) for i in permanent_e_records(items, unit, year) if i.created]
    if "permanent_e_records_created" in declared:
        in_time = sum(1 for i, limit in cohort if i.accepted is not None and i.accepted <= limit)
        return make_figure("K3", unit, in_time, declared["permanent_e_records_created"], Basis.DECLARED)
    arrived = sum(1 for i, limit in cohort if i.received <= limit)
    return make_figure("K3", unit, arrived, len(cohort), Basis.PROXY, "kpi.note.k3_proxy")


def _k4(items: Sequence[HeldRecord], unit: str, has_published: bool) -> Figure:
    public = [i for i in items if i.accepted is not None and i.public]
    if not has_published:
        return make_figure("K4", unit, None, len(public), Basis.NO_DATA, NOTE_K4_NO_DATA)
    return make_figure("K4", unit, sum(1 for i in public if i.published), len(public), Basis.MEASURED)


def _k6(items: Sequence[HeldRecord], unit: str, declared: Mapping[str, int], has_high_use: bool) -> Figure:
    if "high_use_paper_items" in declared and "high_use_paper_digitized" in declared:
        return make_figure(
            "K6",
            unit,
            declared["high_use_paper_digitized"],
            declared["high_use_paper_items"],
            Basis.DECLARED,
        )
    denominator = declared.get("high_use_paper_items")
    if not has_high_use:
        return make_figure("K6", unit, None, denominator, Basis.NO_DATA, NOTE_K6_NO_DATA)
    digitized = sum(1 for i in items if i.accepted is not None and i.digitized and i.high_use)
    if denominator is not None:
        return make_figure("K6", unit, digitized, denominator, Basis.DECLARED, "kpi.note.numerator_received")
    return make_figure("K6", unit, digitized, None, Basis.MEASURED, "kpi.note.k6_no_denominator")


def _k2_agency(agency: SourceAgency | None, year: int, declared: Mapping[str, int]) -> Figure:
    if agency is None or not agency.in_scope:
        return make_figure("K2", "agencies", None, 0, Basis.DECLARED, "kpi.note.not_in_scope")
    if not active_in(agency, year):
        evidence = {"active_from": _iso(agency.active_from), "active_to": _iso(agency.active_to)}
        return make_figure("K2", "agencies", None, 0, Basis.DECLARED, "kpi.note.not_active", evidence)
    if "online_access" not in declared:
        return make_figure("K2", "agencies", None, 1, Basis.DECLARED, "kpi.note.not_declared")
    return make_figure("K2", "agencies", 1 if declared["online_access"] == 1 else 0, 1, Basis.DECLARED)


def _k2_overall(
    agencies: Iterable[SourceAgency], year: int, declared: Mapping[int, Mapping[str, int]]
) -> Figure:
    scope = [a for a in agencies if _in_scope(a, year)]
    online = sum(1 for a in scope if declared.get(a.id, {}).get("online_access") == 1)
    undeclared = sum(1 for a in scope if "online_access" not in declared.get(a.id, {}))
    note = "kpi.note.k2_undeclared" if undeclared else ""
    return make_figure("K2", "agencies", online, len(scope), Basis.DECLARED, note, {"undeclared": undeclared})


def _sum(kpi: str, unit: str, parts: Sequence[Figure], no_data: str = "") -> Figure:
    """The overall figure: sums over the agency figures that have a denominator (an agency whose
    denominator is unknown cannot be weighed), with the weakest basis among them (a sum that
    includes a proxy is a proxy). ``no_data``: the note when the catalog records nothing this
    figure needs; then the figure has no value unless an agency declared one."""
    counted = [f for f in parts if f.denominator is not None and f.numerator is not None]
    if not counted:
        if no_data:
            dens = [f.denominator for f in parts if f.denominator is not None]
            return make_figure(kpi, unit, None, sum(dens) if dens else None, Basis.NO_DATA, no_data)
        num = sum(f.numerator for f in parts if f.numerator is not None) if parts else 0
        basis = parts[0].basis if parts else Basis.MEASURED
        return make_figure(kpi, unit, num, None, basis, parts[0].note if parts else "")
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
    return make_figure(
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


__all__ = ["CLASSIFIED", "UNITS", "compute_kpis"]
