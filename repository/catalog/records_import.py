"""The reference data of the records catalog: phông, the Danh mục nguồn nộp lưu and the totals
agencies declare, each entered one by one or loaded from a data file. Retention schedules (bảng
thời hạn lưu trữ) are in :mod:`repository.catalog.retention_schedules`.

Agency lists and declared totals come from CSV files; a file with one bad row is refused whole and
every bad row is named, so an operator fixes the file once. Functions take a session and never
commit (style guide item 20).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.names import fold
from repository.catalog.records import (
    DeclaredTotal,
    Fonds,
    FondsStatus,
    SourceAgency,
)
from repository.catalog.records_core import (
    Problem,
    RecordNotFoundError,
    RecordsError,
    _int,
    _nfc,
    _organ_id_problem,
    _refuse_file,
    parse_day,
)

#: Figures an agency declares that the repository cannot see: the denominators of the QĐ 458/QĐ-TTg
#: targets (vn-standards.md §4, K1-K6). Values are counts of archival items, or 1/0 for a flag.
DECLARED_METRICS: Mapping[str, str] = {
    "records_created": "all archival items (paper and electronic) the agency created in the year (K1)",
    "records_created_electronic": "archival items created born digital in the year (K1 numerator)",
    "permanent_e_records_created": "permanent (maintenance 01) electronic items created in the year (K3)",
    "online_access": "1 if the agency archive serves access requests online in the year, else 0 (K2)",
    "high_use_paper_items": "paper items with a high frequency of use held (K6 denominator)",
    "high_use_paper_digitized": "of those, items digitized to the TT 05/2025 specification (K6)",
}
_FLAG_METRICS = frozenset({"online_access"})


# --------------------------------------------------------------------------- fonds and agencies


def add_fonds(
    session: Session,
    code: str,
    name: str,
    *,
    status: FondsStatus = FondsStatus.OPEN,
    history: str = "",
    date_range: str = "",
    languages: str = "",
    notes: str = "",
) -> Fonds:
    """Register a phông (TT 05/2025 phông data set). ``code`` is the mã phông, at most 13 characters."""
    code, name = _nfc(code), _nfc(name)
    if not code or len(code) > 13:
        raise RecordsError(
            code="records.bad_fonds_code",
            message=f"a mã phông has 1 to 13 characters: {code!r}",
            params={"value": code},
        )
    if not name:
        raise RecordsError(
            code="records.missing_value", message="the name is empty", params={"column": "name"}
        )
    if session.scalars(select(Fonds.id).where(Fonds.code == code)).first() is not None:
        raise RecordsError(
            code="records.fonds_exists",
            message=f"the fonds {code} is already registered",
            params={"code": code},
        )
    fonds = Fonds(
        code=code,
        name=name,
        status=status,
        history=history,
        date_range=date_range,
        languages=languages,
        notes=notes,
    )
    session.add(fonds)
    session.flush()
    return fonds


def list_fonds(session: Session) -> list[Fonds]:
    return list(session.scalars(select(Fonds).order_by(Fonds.code)))


def find_fonds(session: Session, code: str) -> Fonds:
    fonds = session.scalars(select(Fonds).where(Fonds.code == _nfc(code))).first()
    if fonds is None:
        raise RecordNotFoundError(
            code="records.unknown_fonds", message=f"no fonds with the code {code!r}", params={"code": code}
        )
    return fonds


def list_agencies(session: Session) -> list[SourceAgency]:
    return list(session.scalars(select(SourceAgency).order_by(SourceAgency.organ_id)))


def _agency_problems(
    session: Session,
    organ_id: str,
    name: str,
    fonds_code: str | None,
    active_from: date | None,
    active_to: date | None,
) -> tuple[list[Problem], Fonds | None]:
    problems: list[Problem] = []
    bad_id = _organ_id_problem(organ_id)
    if bad_id:
        problems.append(bad_id)
    elif session.scalars(select(SourceAgency.id).where(SourceAgency.organ_id == organ_id)).first():
        problems.append(
            Problem(
                code="records.agency_exists",
                message=f"the agency {organ_id} is already registered",
                params={"organ_id": organ_id},
            )
        )
    if not name:
        problems.append(
            Problem(code="records.missing_value", message="name is empty", params={"column": "name"})
        )
    fonds = None
    if fonds_code:
        fonds = session.scalars(select(Fonds).where(Fonds.code == fonds_code)).first()
        if fonds is None:
            problems.append(
                Problem(
                    code="records.unknown_fonds",
                    message=f"no fonds with the code {fonds_code!r}",
                    params={"code": fonds_code},
                )
            )
    if active_from and active_to and active_to < active_from:
        problems.append(
            Problem(
                code="records.bad_period",
                message=f"the period ends ({active_to}) before it starts ({active_from})",
                params={"start": active_from.isoformat(), "end": active_to.isoformat()},
            )
        )
    return problems, fonds


def add_agency(
    session: Session,
    organ_id: str,
    name: str,
    *,
    fonds_code: str | None = None,
    active_from: date | None = None,
    active_to: date | None = None,
    in_scope: bool = True,
    notes: str = "",
) -> SourceAgency:
    """Add an agency to the Danh mục cơ quan, tổ chức thuộc nguồn nộp lưu.

    Raises:
        RecordsError: ``records.bad_organ_id`` (naming the value), ``records.agency_exists``,
            ``records.unknown_fonds``, ``records.bad_period``, ``records.missing_value``.
    """
    organ_id, name = organ_id.strip(), _nfc(name)
    problems, fonds = _agency_problems(session, organ_id, name, fonds_code, active_from, active_to)
    if problems:
        first = problems[0]
        raise RecordsError(code=first.code, message=first.message, params=first.params, problems=problems)
    agency = SourceAgency(
        organ_id=organ_id,
        name=name,
        name_search=fold(name),
        fonds_id=fonds.id if fonds else None,
        active_from=active_from,
        active_to=active_to,
        in_scope=in_scope,
        notes=notes,
    )
    session.add(agency)
    session.flush()
    return agency


# --------------------------------------------------------------------------- CSV imports


def _read_csv(
    path: Path, required: Sequence[str], optional: Sequence[str] = ()
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV (a BOM from Excel is fine) as (line number, column → NFC text)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RecordsError(
            code="records.csv_unreadable",
            message=f"cannot read {path} as a UTF-8 CSV file: {exc}",
            params={"path": str(path), "reason": str(exc)},
        ) from exc
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    if missing or unknown:
        raise RecordsError(
            code="records.csv_columns",
            message=f"{path}: columns missing: {', '.join(missing) or '-'}; unknown columns: "
            f"{', '.join(unknown) or '-'} (expected {', '.join([*required, *optional])})",
            params={
                "path": str(path),
                "missing": missing or "-",
                "unknown": unknown or "-",
                "expected": [*required, *optional],
            },
        )
    out: list[tuple[int, dict[str, str]]] = []
    for line, row in rows:
        if None in row:
            raise RecordsError(
                code="records.csv_extra_cells",
                message=f"{path} line {line}: more cells than columns",
                params={"path": str(path), "row": line},
            )
        values = {k: _nfc(v or "") for k, v in row.items()}
        if any(values.values()):
            out.append((line, values))
    return out


_TRUE = {"1", "true", "yes", "x", "co", "c"}
_FALSE = {"0", "false", "no", "khong", "k"}


def _bool_cell(value: str, column: str, default: bool) -> bool | Problem:
    folded = fold(value)
    if not folded:
        return default
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return Problem(
        code="records.bad_bool",
        message=f"{column}: {value!r} is not 1/0 (có/không)",
        params={"column": column, "value": value},
    )


def _date_cell(value: str, column: str) -> date | Problem | None:
    if not value:
        return None
    day = parse_day(value)
    if day is None:
        return Problem(
            code="records.bad_date",
            message=f"{column}: {value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)",
            params={"column": column, "value": value},
        )
    return day


def _at_row(line: int, problems: Sequence[Problem]) -> list[Problem]:
    return [Problem(code=p.code, message=p.message, params=p.params, row=line) for p in problems]


def import_agencies_csv(session: Session, path: Path) -> int:
    """Import the Danh mục nguồn nộp lưu from a CSV with the columns organ_id, name, fonds_code,
    active_from, active_to, in_scope. Every bad row is reported and nothing is imported if any is bad.
    """
    rows = _read_csv(Path(path), ("organ_id", "name"), ("fonds_code", "active_from", "active_to", "in_scope"))
    problems: list[Problem] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        row_problems: list[Problem] = []
        organ_id = row["organ_id"]
        if organ_id in seen:
            row_problems.append(
                Problem(
                    code="records.duplicate_row",
                    message=f"{organ_id} is already on line {seen[organ_id]}",
                    params={"value": organ_id, "other": seen[organ_id]},
                )
            )
        seen.setdefault(organ_id, line)
        cells: dict[str, Any] = {}
        for column in ("active_from", "active_to"):
            value = _date_cell(row.get(column, ""), column)
            if isinstance(value, Problem):
                row_problems.append(value)
            else:
                cells[column] = value
        in_scope = _bool_cell(row.get("in_scope", ""), "in_scope", True)
        if isinstance(in_scope, Problem):
            row_problems.append(in_scope)
        fonds_code = row.get("fonds_code") or None
        found, fonds = _agency_problems(
            session, organ_id, row["name"], fonds_code, cells.get("active_from"), cells.get("active_to")
        )
        row_problems.extend(found)
        problems.extend(_at_row(line, row_problems))
        if not row_problems:
            parsed.append(
                {"organ_id": organ_id, "name": row["name"], "fonds": fonds, "in_scope": in_scope, **cells}
            )
    if problems:
        raise _refuse_file(Path(path), problems)
    for p in parsed:
        fonds = p.pop("fonds")
        session.add(SourceAgency(**p, name_search=fold(p["name"]), fonds_id=fonds.id if fonds else None))
    session.flush()
    return len(parsed)


# --------------------------------------------------------------------------- declared totals


def _declared_problems(
    session: Session, organ_id: str, year: int | None, metric: str, value: int | None
) -> tuple[list[Problem], SourceAgency | None]:
    problems: list[Problem] = []
    agency = session.scalars(select(SourceAgency).where(SourceAgency.organ_id == organ_id)).first()
    if agency is None:
        problems.append(
            Problem(
                code="records.unknown_agency",
                message=f"no source agency with the mã định danh {organ_id!r}",
                params={"organ_id": organ_id},
            )
        )
    if year is None or not 1900 <= year <= 2200:
        problems.append(
            Problem(code="records.bad_year", message=f"{year!r} is not a year", params={"value": year})
        )
    if metric not in DECLARED_METRICS:
        problems.append(
            Problem(
                code="records.unknown_metric",
                message=f"{metric!r} is not a declared metric ({', '.join(DECLARED_METRICS)})",
                params={"metric": metric, "metrics": list(DECLARED_METRICS)},
            )
        )
    if value is None or value < 0 or (metric in _FLAG_METRICS and value not in (0, 1)):
        problems.append(
            Problem(
                code="records.bad_metric_value",
                message=f"{metric}: {value!r} is not {'1 or 0' if metric in _FLAG_METRICS else 'a count'}",
                params={"metric": metric, "value": value},
            )
        )
    return problems, agency


def _upsert_total(
    session: Session, agency: SourceAgency, year: int, metric: str, value: int, source: str
) -> DeclaredTotal:
    row = session.scalars(
        select(DeclaredTotal).where(
            DeclaredTotal.agency_id == agency.id, DeclaredTotal.year == year, DeclaredTotal.metric == metric
        )
    ).first()
    if row is None:
        row = DeclaredTotal(agency_id=agency.id, year=year, metric=metric)
        session.add(row)
    row.value, row.source, row.recorded_at = value, source, datetime.now(UTC)
    return row


def set_declared_total(
    session: Session, *, organ_id: str, year: int, metric: str, value: int, source: str
) -> DeclaredTotal:
    """Record (or replace) a figure an agency declared for a year: see :data:`DECLARED_METRICS`."""
    problems, agency = _declared_problems(session, organ_id.strip(), year, metric, value)
    if problems or agency is None:
        first = problems[0]
        raise RecordsError(code=first.code, message=first.message, params=first.params, problems=problems)
    row = _upsert_total(session, agency, year, metric, value, source)
    session.flush()
    return row


def import_declared_totals_csv(session: Session, path: Path) -> int:
    """Import declared totals from a CSV with the columns organ_id, year, metric, value; all rows or
    none, every bad row named. Existing figures for the same agency, year and metric are replaced."""
    path = Path(path)
    rows = _read_csv(path, ("organ_id", "year", "metric", "value"))
    problems: list[Problem] = []
    good: list[tuple[SourceAgency, int, str, int]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        key = (row["organ_id"], row["year"], row["metric"])
        year, value = _int(row["year"]), _int(row["value"])
        found, agency = _declared_problems(session, row["organ_id"], year, row["metric"], value)
        if key in seen:
            found.append(
                Problem(
                    code="records.duplicate_row",
                    message=f"{' '.join(key)} is already on line {seen[key]}",
                    params={"value": " ".join(key), "other": seen[key]},
                )
            )
        seen.setdefault(key, line)
        problems.extend(_at_row(line, found))
        if not found and agency is not None and year is not None and value is not None:
            good.append((agency, year, row["metric"], value))
    if problems:
        raise _refuse_file(path, problems)
    for agency, year, metric, value in good:
        _upsert_total(session, agency, year, metric, value, f"imported from {path.name}")
    session.flush()
    return len(good)


def list_declared_totals(session: Session, *, year: int | None = None) -> list[DeclaredTotal]:
    query = select(DeclaredTotal).join(SourceAgency, SourceAgency.id == DeclaredTotal.agency_id)
    if year is not None:
        query = query.where(DeclaredTotal.year == year)
    return list(
        session.scalars(query.order_by(SourceAgency.organ_id, DeclaredTotal.year, DeclaredTotal.metric))
    )
