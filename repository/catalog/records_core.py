"""The records catalog: what the archive holds, as described (TT 05/2025), and what was decided about it.

Functions take a session and never commit: the CLI command, the web request or the ingest runner
frames the transaction (style guide item 20). Free text is stored in Unicode NFC and searched in a
folded form (no diacritics, đ→d, case-folded), because readers type "ho so xay dung" for "Hồ sơ xây
dựng".

This module holds what every part of the catalog shares (errors, text and date rules, TT 05 code
lists, the source agency an operator names) and finding hồ sơ / tài liệu by code. Four modules
build on it: :mod:`repository.catalog.records_register` (registering them with their AIP),
:mod:`repository.catalog.records_access` (search, tiếp cận có điều kiện, giải mật),
:mod:`repository.catalog.records_import` (phông, nguồn nộp lưu, declared totals, and their data
files) and :mod:`repository.catalog.retention_schedules` (bảng thời hạn lưu trữ). Callers import
all their public names from :mod:`repository.catalog.records_store`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind, KholuuError
from preservation.tt05.ead import description_date
from preservation.tt05.tables import Tables, shipped_tables
from repository.catalog.records import Document, Dossier, SourceAgency

#: Dates written without a zone (decision dates, "as of" days) are Vietnamese calendar days.
VIETNAM_TZ: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")

#: TT 05/2025 code list ``maintenance``: the codes that mean a number of years (01 = vĩnh viễn,
#: 07 = khác, which needs its number of years stated).
MAINTENANCE_YEARS: Mapping[str, int] = {"02": 70, "03": 50, "04": 30, "05": 20, "06": 10}
PERMANENT = "01"
OTHER_PERIOD = "07"
PUBLIC_MODE = "01"  # mức độ tiếp cận "Công khai"

#: Where :func:`repository.catalog.records_register.register_records` keeps the elements a
#: description carried outside its table.
UNKNOWN_ELEMENTS = "_unknown"

T = TypeVar("T")

# QĐ 20/2020/QĐ-TTg mã định danh: dot-separated groups of 2-3 capitals/digits, at most 13 characters
# (000.00.00.G09 Bộ Nội vụ; H49.64.33 in the TT 05 examples).
_ORGAN_ID = re.compile(r"[0-9A-Z]{2,3}(?:\.[0-9A-Z]{2,3}){1,3}")


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One bad row of a CSV file (``row``: its line, the header is line 1) or bad key of a TOML file."""

    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    row: int | None = None
    key: str = ""


class RecordsError(KholuuError):
    """Bad input to the records catalog, with a stable ``code`` (its text is in the message catalogs
    under ``[records]``) and the ``params`` that text needs. ``problems`` lists every bad row or key
    when a whole input file is refused.
    """

    kind = ErrorKind.USAGE

    def __init__(
        self,
        code: str,
        message: str,
        params: Mapping[str, Any] | None = None,
        *,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message, code=code, params=params)
        self.problems = tuple(problems)


class RecordNotFoundError(RecordsError):
    """A record, agency, fonds or restriction that was addressed does not exist."""

    kind = ErrorKind.NOT_FOUND


def _refuse_file(path: Path, problems: Sequence[Problem]) -> RecordsError:
    lines = "\n".join(
        f"  {'row ' + str(p.row) if p.row is not None else p.key}: {p.message}" for p in problems
    )
    return RecordsError(
        code="records.file_invalid",
        message=f"{path}: {len(problems)} problem(s), nothing was imported:\n{lines}",
        params={"path": str(path), "count": len(problems), "errors": lines},
        problems=problems,
    )


# --------------------------------------------------------------------------- text


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def first_day(text: str) -> date | None:
    """The first day a TT 05 date denotes (``DD/MM/YYYY``, ``MM/YYYY`` or ``YYYY``), else None."""
    days = description_date(text)
    return days[0] if days else None


def last_day(text: str) -> date | None:
    """The last day a TT 05 date denotes: ``12/2021`` → 31/12/2021, ``2021`` → 31/12/2021.

    A hồ sơ's end date written as a month or a year means the records run to the end of it
    (TT 05/2025 Phụ lục I: dates at the precision the records allow); transfer deadlines and the
    K3 cohort count from that day, never from the first of the month or year.
    """
    days = description_date(text)
    return days[1] if days else None


def parse_day(text: str) -> date | None:
    """A day typed by an operator: ``YYYY-MM-DD`` or ``DD/MM/YYYY``; None when it is neither."""
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            return None
    return None


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _tables() -> Tables:
    return shipped_tables()


def mode_codes() -> tuple[str, ...]:
    """The codes of the TT 05/2025 ``mode`` list (mức độ tiếp cận), from config/tt05/codelists.toml."""
    return _tables().codelist("mode").values


def maintenance_codes() -> tuple[str, ...]:
    return _tables().codelist("maintenance").values


def mode_rank(code: str) -> int | None:
    """How strict a mức độ tiếp cận is: its place in the TT 05 ``mode`` list, which runs from the
    most open (01 Công khai) to the strictest (03 Mật); None for a code not in the list."""
    codes = mode_codes()
    return codes.index(code) if code in codes else None


def code_label(codelist: str, code: str, language: str = "vi") -> str:
    """The label of a TT 05 code (``mode`` ``01`` → "Công khai"); the code itself when unknown."""
    return _tables().label(codelist, code, language)


# --------------------------------------------------------------------------- the agency an operator names


def _organ_id_problem(organ_id: str) -> Problem | None:
    if len(organ_id) > 13 or not _ORGAN_ID.fullmatch(organ_id):
        return Problem(
            code="records.bad_organ_id",
            message=f"{organ_id!r} is not a mã định danh (QĐ 20/2020/QĐ-TTg: at most 13 characters, "
            "groups of capitals and digits separated by dots, e.g. 000.00.00.G09)",
            params={"value": organ_id},
        )
    return None


def find_agency(session: Session, organ_id: str) -> SourceAgency:
    agency = session.scalars(select(SourceAgency).where(SourceAgency.organ_id == organ_id.strip())).first()
    if agency is None:
        raise RecordNotFoundError(
            code="records.unknown_agency",
            message=f"no source agency with the mã định danh {organ_id!r}",
            params={"organ_id": organ_id},
        )
    return agency


def check_agency(session: Session, organ_id: str) -> SourceAgency:
    """The registered source agency an operator names for an ingest (``kholuu ingest --agency``).

    Called before anything is ingested, so that a typo stops the ingest at once instead of
    cataloguing the records under the agency their code seems to name: what the operator says
    about who sent the package wins over what a dossier code suggests, and it must be an agency
    of the Danh mục nguồn nộp lưu (Luật Lưu trữ 2024; TT 05/2025 transfer procedure).

    Raises:
        RecordsError: ``records.bad_organ_id`` when ``organ_id`` is not shaped like a mã định danh
            (QĐ 20/2020/QĐ-TTg).
        RecordNotFoundError: ``records.agency_unknown`` when no source agency has it.
    """
    value = organ_id.strip()
    problem = _organ_id_problem(value)
    if problem is not None:
        raise RecordsError(code=problem.code, message=problem.message, params=problem.params)
    agency = session.scalars(select(SourceAgency).where(SourceAgency.organ_id == value)).first()
    if agency is None:
        raise RecordNotFoundError(
            code="records.agency_unknown",
            message=f"the agency {value} named for this ingest is not in the list of source agencies; "
            "add it first (kholuu records agency add) or leave --agency out",
            params={"organ_id": value},
        )
    return agency


# --------------------------------------------------------------------------- finding records by code


def dossiers_for_aip(session: Session, aip_id: str) -> list[Dossier]:
    return list(session.scalars(select(Dossier).where(Dossier.aip_id == aip_id).order_by(Dossier.id)))


def find_dossier(session: Session, code: str, *, aip_id: str | None = None) -> Dossier:
    """The dossier with this mã hồ sơ (as received), in the AIP ``aip_id`` when given.

    A code is not a key: a package resubmitted after a rejection (or stored twice before
    re-submissions were recognised) puts the same code in several AIPs, and ``aip_id`` picks one of
    them. Without ``aip_id`` a hồ sơ replaced under ``kholuu ingest --supersedes`` is passed over:
    the code names the record that replaced it.

    Raises:
        RecordNotFoundError: ``records.dossier_not_found``, or ``records.dossier_not_in_aip``.
        RecordsError: ``records.ambiguous_code``, listing the AIPs that hold the code.
    """
    query = select(Dossier).where(Dossier.code == _nfc(code))
    if aip_id is not None:
        query = query.where(Dossier.aip_id == aip_id)
    else:  # a hồ sơ re-submitted under --supersedes is named by its code as the record that replaced it
        query = query.where(Dossier.superseded_by_id.is_(None))
    rows = list(session.scalars(query.order_by(Dossier.id)))
    if not rows:
        raise _not_found("dossier", code, aip_id)
    return _one(rows, code, lambda d: d.aip_id)


def find_document(session: Session, code: str, *, aip_id: str | None = None) -> Document:
    """The document with this mã tài liệu (docCode / arcDocCode), in the AIP ``aip_id`` when given
    (see :func:`find_dossier`)."""
    query = select(Document).join(Document.dossier).where(Document.doc_code == _nfc(code))
    if aip_id is not None:
        query = query.where(Dossier.aip_id == aip_id)
    else:
        query = query.where(Dossier.superseded_by_id.is_(None))
    rows = list(session.scalars(query.order_by(Document.id)))
    if not rows:
        raise _not_found("document", code, aip_id)
    return _one(rows, code, lambda d: d.dossier.aip_id)


def resolve_target(
    session: Session,
    *,
    dossier_code: str | None = None,
    document_code: str | None = None,
    aip_id: str | None = None,
) -> Dossier | Document:
    """The record a decision is about, named by its code: exactly one of a dossier or a document,
    in the AIP ``aip_id`` when the code alone is ambiguous."""
    if (dossier_code is None) == (document_code is None):
        raise RecordsError(
            code="records.one_target",
            message="name exactly one record: a dossier or a document",
            params={},
        )
    if dossier_code is not None:
        return find_dossier(session, dossier_code, aip_id=aip_id)
    assert document_code is not None
    return find_document(session, document_code, aip_id=aip_id)


def _not_found(kind: str, code: str, aip_id: str | None) -> RecordNotFoundError:
    if aip_id is not None:
        return RecordNotFoundError(
            code="records.dossier_not_in_aip" if kind == "dossier" else "records.document_not_in_aip",
            message=f"AIP {aip_id} holds no {kind} with the code {code!r}",
            params={"code": code, "aip_id": aip_id},
        )
    return RecordNotFoundError(
        code="records.dossier_not_found" if kind == "dossier" else "records.document_not_found",
        message=f"no {kind} with the code {code!r} in the catalog",
        params={"code": code},
    )


def _one(rows: list[T], code: str, aip: Callable[[T], str]) -> T:
    if len(rows) > 1:
        aips = sorted({aip(r) for r in rows})
        raise RecordsError(
            code="records.ambiguous_code",
            message=f"{len(rows)} records have the code {code!r}, in the AIPs {', '.join(aips)}; "
            "choose one with --aip AIP_ID",
            params={"code": code, "count": len(rows), "aips": aips},
        )
    return rows[0]
