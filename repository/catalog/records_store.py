"""The records catalog: what the archive holds, as described (TT 05/2025), and what was decided about it.

Functions take a session and never commit: the CLI command, the web request or the ingest runner
frames the transaction (style guide item 20). Free text is stored in Unicode NFC and searched in a
folded form (no diacritics, đ→d, case-folded), because readers type "ho so xay dung" for "Hồ sơ xây
dựng". Retention schedules, agency lists and declared totals come from data files; a file with one
bad row is refused whole and every bad row is named, so an operator fixes the file once.
"""

from __future__ import annotations

import csv
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from preservation.names import fold
from preservation.tt05.model import DocumentRecord, PackageType, RecordSet, split_file_code
from preservation.tt05.tables import Tables, load_tables
from repository.catalog.records import (
    AccessChange,
    AccessRestriction,
    DeclaredTotal,
    Document,
    DocumentFile,
    Dossier,
    Fonds,
    FondsStatus,
    RetentionItem,
    RetentionSchedule,
    SourceAgency,
)

#: Dates written without a zone (decision dates, "as of" days) are Vietnamese calendar days.
VIETNAM_TZ: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")

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

#: TT 05/2025 code list ``maintenance``: the codes that mean a number of years (01 = vĩnh viễn,
#: 07 = khác, which needs its number of years stated).
MAINTENANCE_YEARS: Mapping[str, int] = {"02": 70, "03": 50, "04": 30, "05": 20, "06": 10}
PERMANENT = "01"
OTHER_PERIOD = "07"
PUBLIC_MODE = "01"  # mức độ tiếp cận "Công khai"

T = TypeVar("T")

# QĐ 20/2020/QĐ-TTg mã định danh: dot-separated groups of 2-3 capitals/digits, at most 13 characters
# (000.00.00.G09 Bộ Nội vụ; H49.64.33 in the TT 05 examples).
_ORGAN_ID = re.compile(r"[0-9A-Z]{2,3}(?:\.[0-9A-Z]{2,3}){1,3}")
_SPACES = re.compile(r"\s+")
_ORDINAL_SUFFIX = re.compile(r"(?:^|\D)(\d{7})$")  # docCode = mã hồ sơ + STT, 7 digits
_DATE_FORMATS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], date]], ...] = (
    (re.compile(r"(\d{2})/(\d{2})/(\d{4})"), lambda m: date(int(m[3]), int(m[2]), int(m[1]))),
    (re.compile(r"(\d{2})/(\d{4})"), lambda m: date(int(m[2]), int(m[1]), 1)),
    (re.compile(r"(\d{4})"), lambda m: date(int(m[1]), 1, 1)),
)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One bad row of a CSV file (``row``: its line, the header is line 1) or bad key of a TOML file."""

    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    row: int | None = None
    key: str = ""


class RecordsError(Exception):
    """Bad input to the records catalog, with a stable ``code`` (its text is in the message catalogs
    under ``[records]``) and the ``params`` that text needs. ``problems`` lists every bad row or key
    when a whole input file is refused.
    """

    def __init__(
        self,
        code: str,
        message: str,
        params: Mapping[str, Any] | None = None,
        *,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, Any] = dict(params or {})
        self.problems = tuple(problems)


class RecordNotFoundError(RecordsError):
    """A record, agency, fonds or restriction that was addressed does not exist."""


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


def _exact_form(text: str) -> str:
    """Case-folded NFC with collapsed spaces: diacritics still count (``--exact``)."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return _SPACES.sub(" ", folded).strip()


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def first_day(text: str) -> date | None:
    """The first day a TT 05 date denotes (``DD/MM/YYYY``, ``MM/YYYY`` or ``YYYY``), else None."""
    value = text.strip()
    for pattern, build in _DATE_FORMATS:
        match = pattern.fullmatch(value)
        if match:
            try:
                return build(match)
            except ValueError:
                return None
    return None


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


@cache
def _tables() -> Tables:
    return load_tables()


def mode_codes() -> tuple[str, ...]:
    """The codes of the TT 05/2025 ``mode`` list (mức độ tiếp cận), from config/tt05/codelists.toml."""
    return _tables().codelist("mode").values


def maintenance_codes() -> tuple[str, ...]:
    return _tables().codelist("maintenance").values


def code_label(codelist: str, code: str, language: str = "vi") -> str:
    """The label of a TT 05 code (``mode`` ``01`` → "Công khai"); the code itself when unknown."""
    return _tables().label(codelist, code, language)


# --------------------------------------------------------------------------- registering records


def _column_length(model: type[Dossier] | type[Document], attr: str) -> int | None:
    length = getattr(model.__table__.c[attr].type, "length", None)
    return length if isinstance(length, int) else None


def _fit(model: type[Dossier] | type[Document], attr: str, value: str, element: str, where: str) -> str:
    """``value`` if it fits its column; a named error otherwise (a database error helps nobody)."""
    limit = _column_length(model, attr)
    if limit is not None and len(value) > limit:
        raise RecordsError(
            code="records.value_too_long",
            message=f"{where}: {element} is {len(value)} characters, at most {limit} can be kept: {value!r}",
            params={"path": where, "element": element, "max": limit, "value": value},
        )
    return value


def register_records(
    session: Session,
    *,
    aip_id: str,
    records: RecordSet,
    file_uuids: Mapping[tuple[str, str], str],
    description_paths: Mapping[str, str],
    received_at: datetime,
    accepted_at: datetime | None,
    organ_id: str = "",
    archive_id: str = "",
) -> Dossier:
    """Catalog the descriptions of a stored AIP: one dossier row and one row per tài liệu.

    Args:
        aip_id: the AIP the descriptions and files are in.
        records: what the package says (TT 05 EAD files, or records mapped from a legacy source).
        file_uuids: (representation, path under ``data/``) → uuid of the payload file in the AIP.
        description_paths: ``Description.path`` as in the SIP → where that description is in the AIP.
        received_at: when the package arrived; accepted_at: when the AIP was stored (K3).
        organ_id: mã định danh of the sending agency, when known (helps split the mã hồ sơ).
        archive_id: mã cơ quan lưu trữ, the prefix of an arcFileCode (TT 05 Phụ lục III).

    Returns:
        The new dossier, added and flushed (not committed).

    Raises:
        RecordsError: ``records.file_unknown`` / ``records.description_unknown`` when the caller's
            maps lack a file or description (a bug in the caller); ``records.value_too_long``,
            ``records.duplicate_ordinal``, ``records.already_registered``, ``records.no_code``.
    """
    if records.package_type is PackageType.DIP:
        raise RecordsError(
            code="records.bad_package_type",
            message=f"a {records.package_type.value} package carries no records to catalog",
            params={"package_type": records.package_type.value},
        )
    package = records.package
    values = {k: _nfc(v) for k, v in package.values.items()}
    where = package.path
    code = values.get("fileCode") or values.get("arcFileCode") or ""
    if not code:
        raise RecordsError(
            code="records.no_code",
            message=f"{where}: the description has no fileCode or arcFileCode",
            params={"path": where},
        )
    if (
        session.scalars(select(Dossier.id).where(Dossier.aip_id == aip_id, Dossier.code == code)).first()
        is not None
    ):
        raise RecordsError(
            code="records.already_registered",
            message=f"the records of AIP {aip_id} (dossier {code}) are already in the catalog",
            params={"aip_id": aip_id, "code": code},
        )
    # only an arcFileCode starts with the mã cơ quan lưu trữ; a fileCode may merely look like it does
    archival_prefix = "" if values.get("fileCode") else archive_id
    parts = _split_code(code, organ_id=organ_id, archive_id=archival_prefix)
    dossier_organ = parts[0] if parts else organ_id
    agency = (
        session.scalars(select(SourceAgency).where(SourceAgency.organ_id == dossier_organ)).first()
        if dossier_organ
        else None
    )
    title = values.get("title", "")
    start, end = values.get("startDate", ""), values.get("endDate", "")
    confidence = values.get("confidenceLevel", "")
    dossier = Dossier(
        aip_id=aip_id,
        kind="hoso" if records.package_type.is_dossier else "tailieu",
        package_type=records.package_type.value,
        source=records.source.value,
        code=_fit(Dossier, "code", code, "fileCode", where),
        organ_id=_fit(Dossier, "organ_id", dossier_organ, "organId", where),
        year=parts[1] if parts else None,
        notation=parts[2] if parts else "",
        archive_id=_fit(Dossier, "archive_id", archive_id, "archiveId", where),
        catalog_no="",
        agency_id=agency.id if agency else None,
        fonds_id=agency.fonds_id if agency else None,
        title=title,
        title_search=fold(title),
        maintenance=_fit(Dossier, "maintenance", values.get("maintenance", ""), "maintenance", where),
        mode=_fit(Dossier, "mode", values.get("mode", ""), "mode", where),
        languages=_fit(Dossier, "languages", values.get("language", ""), "language", where),
        start_date=_fit(Dossier, "start_date", start, "startDate", where),
        end_date=_fit(Dossier, "end_date", end, "endDate", where),
        start_on=first_day(start),
        end_on=first_day(end),
        total_doc=_int(values.get("totalDoc", "")),
        number_of_page=_int(values.get("numberOfPage", "")),
        confidence_level=_fit(Dossier, "confidence_level", confidence, "confidenceLevel", where),
        description_path=_description_path(description_paths, where),
        elements=dict(values),
        received_at=received_at,
        accepted_at=accepted_at,
        digitized=confidence == "02",  # TT 05 confidenceLevel 02 = số hóa (K6)
    )
    used: dict[int, str] = {}
    for position, record in enumerate(records.documents):
        document = _document(record, position, file_uuids, description_paths)
        if document.ordinal in used:
            raise RecordsError(
                code="records.duplicate_ordinal",
                message=f"{record.description.path}: document number {document.ordinal} is also "
                f"given by {used[document.ordinal]}",
                params={
                    "path": record.description.path,
                    "ordinal": document.ordinal,
                    "other": used[document.ordinal],
                },
            )
        used[document.ordinal] = record.description.path
        dossier.documents.append(document)
    session.add(dossier)
    session.flush()
    return dossier


def _split_code(code: str, *, organ_id: str, archive_id: str) -> tuple[str, int, str] | None:
    """(organ, year, notation) of a mã hồ sơ when it splits into parts that fit their columns."""
    text = code
    if archive_id and text.startswith(archive_id) and len(text) > len(archive_id) + 1:
        text = text[len(archive_id) + 1 :]  # arcFileCode = mã cơ quan lưu trữ + mã hồ sơ
    parts = split_file_code(text, organ_id)
    if parts is None or not parts.organ_id or len(parts.organ_id) > 13 or len(parts.notation) > 100:
        return None
    return parts.organ_id, parts.year, parts.notation


def _description_path(paths: Mapping[str, str], where: str) -> str:
    try:
        return paths[where]
    except KeyError:
        raise RecordsError(
            code="records.description_unknown",
            message=f"no AIP path was given for the description {where}",
            params={"path": where},
        ) from None


def _document(
    record: DocumentRecord,
    position: int,
    file_uuids: Mapping[tuple[str, str], str],
    description_paths: Mapping[str, str],
) -> Document:
    values = {k: _nfc(v) for k, v in record.description.values.items()}
    where = record.description.path
    doc_code = values.get("docCode") or values.get("arcDocCode") or ""
    ordinal = _int(values.get("docOrdinal", ""))
    if ordinal is None:
        suffix = _ORDINAL_SUFFIX.search(doc_code)
        ordinal = int(suffix[1]) if suffix else position + 1
    title = values.get("subject") or values.get("imageTitle") or values.get("movieTitle") or ""
    date_element = next((e for e in ("issuedDate", "photoTime", "recordDate") if values.get(e)), "issuedDate")
    issued = values.get(date_element, "")
    files: list[DocumentFile] = []
    for path in record.data_files:
        uuid = file_uuids.get((record.representation, path))
        if uuid is None:
            raise RecordsError(
                code="records.file_unknown",
                message=f"{where}: no payload file uuid was given for {record.representation}/data/{path}",
                params={"path": where, "representation": record.representation, "file": path},
            )
        files.append(DocumentFile(file_uuid=uuid, path=path))
    return Document(
        kind=record.kind.value,
        ordinal=ordinal,
        doc_id=_fit(Document, "doc_id", values.get("docId", ""), "docId", where),
        doc_code=_fit(Document, "doc_code", doc_code, "docCode", where),
        type_name=_fit(Document, "type_name", values.get("typeName", ""), "typeName", where),
        code_number=_fit(Document, "code_number", values.get("codeNumber", ""), "codeNumber", where),
        code_notation=_fit(Document, "code_notation", values.get("codeNotation", ""), "codeNotation", where),
        issued_date=_fit(Document, "issued_date", issued, date_element, where),
        issued_on=first_day(issued),
        organ_name=values.get("organName", ""),
        title=title,
        title_search=fold(title),
        maintenance=_fit(Document, "maintenance", values.get("maintenance", ""), "maintenance", where),
        mode=_fit(Document, "mode", values.get("mode", ""), "mode", where),
        languages=_fit(Document, "languages", values.get("language", ""), "language", where),
        number_of_page=_int(values.get("numberOfPage", "")),
        confidence_level=_fit(
            Document, "confidence_level", values.get("confidenceLevel", ""), "confidenceLevel", where
        ),
        description_path=_description_path(description_paths, where),
        elements=dict(values),
        files=files,
    )


def dossiers_for_aip(session: Session, aip_id: str) -> list[Dossier]:
    return list(session.scalars(select(Dossier).where(Dossier.aip_id == aip_id).order_by(Dossier.id)))


def find_dossier(session: Session, code: str) -> Dossier:
    """The dossier with this mã hồ sơ (as received); an unknown or ambiguous code is an error."""
    rows = list(session.scalars(select(Dossier).where(Dossier.code == _nfc(code)).order_by(Dossier.id)))
    if not rows:
        raise RecordNotFoundError(
            code="records.dossier_not_found",
            message=f"no dossier with the code {code!r} in the catalog",
            params={"code": code},
        )
    return _one(rows, code, lambda d: d.aip_id)


def find_document(session: Session, code: str) -> Document:
    """The document with this mã tài liệu (docCode / arcDocCode)."""
    query = select(Document).join(Document.dossier).where(Document.doc_code == _nfc(code))
    rows = list(session.scalars(query.order_by(Document.id)))
    if not rows:
        raise RecordNotFoundError(
            code="records.document_not_found",
            message=f"no document with the code {code!r} in the catalog",
            params={"code": code},
        )
    return _one(rows, code, lambda d: d.dossier.aip_id)


def _one(rows: list[T], code: str, aip: Callable[[T], str]) -> T:
    if len(rows) > 1:
        aips = sorted({aip(r) for r in rows})
        raise RecordsError(
            code="records.ambiguous_code",
            message=f"{len(rows)} records have the code {code!r} (AIPs {', '.join(aips)})",
            params={"code": code, "count": len(rows), "aips": aips},
        )
    return rows[0]


# --------------------------------------------------------------------------- search


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _restricted_now() -> ColumnElement[bool]:
    return AccessRestriction.lifted_at.is_(None)


def _public_dossier() -> ColumnElement[bool]:
    return and_(
        Dossier.mode == PUBLIC_MODE,
        ~exists().where(AccessRestriction.dossier_id == Dossier.id, _restricted_now()),
    )


def _public_document() -> ColumnElement[bool]:
    return and_(
        Document.mode == PUBLIC_MODE,
        ~exists().where(AccessRestriction.document_id == Document.id, _restricted_now()),
        _public_dossier(),
    )


def search_records(
    session: Session,
    text: str,
    *,
    ignore_diacritics: bool = True,
    public_only: bool = False,
    limit: int = 50,
) -> list[Dossier | Document]:
    """Dossiers, then documents, whose title (or code) contains ``text``.

    Matching ignores case and, by default, diacritics and đ/d ("ho so xay dung" finds "Hồ sơ xây
    dựng"); with ``ignore_diacritics=False`` the marks must match too. ``public_only`` keeps what a
    reader may see online: mức độ tiếp cận ``01`` Công khai and not on the list of tiếp cận có điều
    kiện (Luật Lưu trữ 2024 khoản 4 Điều 25); a document also needs its dossier to be public.
    """
    needle = fold(text)
    if not needle or limit <= 0:
        return []
    pattern = f"%{_escape_like(needle)}%"
    exact = _exact_form(text)
    found: list[Dossier | Document] = []
    batch = max(limit, 100)
    for model in (Dossier, Document):
        code_column = Dossier.code if model is Dossier else Document.doc_code
        condition = or_(
            model.title_search.like(pattern, escape="\\"),
            func.lower(code_column).like(pattern, escape="\\"),
        )
        if public_only:
            condition = and_(condition, _public_dossier() if model is Dossier else _public_document())
        last_id = 0
        while True:
            query = select(model)
            if model is Document:
                query = query.join(Document.dossier)
            query = query.where(condition, model.id > last_id).order_by(model.id).limit(batch)
            rows = cast(Sequence[Dossier | Document], session.scalars(query).all())
            for row in rows:
                code = row.code if isinstance(row, Dossier) else row.doc_code
                if ignore_diacritics or exact in _exact_form(row.title) or exact in _exact_form(code):
                    found.append(row)
                    if len(found) >= limit:
                        return found
            if len(rows) < batch:
                break
            last_id = rows[-1].id
    return found


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


def find_agency(session: Session, organ_id: str) -> SourceAgency:
    agency = session.scalars(select(SourceAgency).where(SourceAgency.organ_id == organ_id.strip())).first()
    if agency is None:
        raise RecordNotFoundError(
            code="records.unknown_agency",
            message=f"no source agency with the mã định danh {organ_id!r}",
            params={"organ_id": organ_id},
        )
    return agency


def list_agencies(session: Session) -> list[SourceAgency]:
    return list(session.scalars(select(SourceAgency).order_by(SourceAgency.organ_id)))


def _organ_id_problem(organ_id: str) -> Problem | None:
    if len(organ_id) > 13 or not _ORGAN_ID.fullmatch(organ_id):
        return Problem(
            code="records.bad_organ_id",
            message=f"{organ_id!r} is not a mã định danh (QĐ 20/2020/QĐ-TTg: at most 13 characters, "
            "groups of capitals and digits separated by dots, e.g. 000.00.00.G09)",
            params={"value": organ_id},
        )
    return None


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


# --------------------------------------------------------------------------- retention schedules


_SCHEDULE_KEYS = {"code", "name", "legal_basis", "valid_from", "valid_to"}
_ITEM_KEYS = {"item_code", "title", "maintenance", "years", "legal_basis", "notes"}


def _key_problem(key: str, *, code: str, message: str, **params: Any) -> Problem:
    return Problem(code=code, message=f"{key}: {message}", params={"key": key, **params}, key=key)


def _text_key(
    table: Mapping[str, Any],
    key: str,
    where: str,
    problems: list[Problem],
    *,
    required: bool = True,
    max_length: int | None = None,
) -> str:
    value = table.get(key)
    if value is None:
        if required:
            problems.append(_key_problem(f"{where}.{key}", code="records.toml_missing", message="is missing"))
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(
            _key_problem(
                f"{where}.{key}", code="records.toml_bad_type", message="must be text", expected="text"
            )
        )
        return ""
    if max_length is not None and len(value) > max_length:
        problems.append(
            _key_problem(
                f"{where}.{key}",
                code="records.toml_too_long",
                message=f"longer than {max_length}",
                max=max_length,
            )
        )
    return _nfc(value)


def _date_key(table: Mapping[str, Any], key: str, where: str, problems: list[Problem]) -> date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        problems.append(
            _key_problem(
                f"{where}.{key}",
                code="records.toml_bad_type",
                message="must be a date (2022-12-31)",
                expected="date",
            )
        )
        return None
    return value


def _item(raw: Any, index: int, problems: list[Problem]) -> RetentionItem | None:
    where = f"items[{index}]"
    if not isinstance(raw, dict):
        problems.append(
            _key_problem(where, code="records.toml_bad_type", message="must be a table", expected="[[items]]")
        )
        return None
    before = len(problems)
    for key in sorted(set(raw) - _ITEM_KEYS):
        problems.append(
            _key_problem(f"{where}.{key}", code="records.toml_unknown_key", message="unknown key")
        )
    item_code = _text_key(raw, "item_code", where, problems, max_length=50)
    title = _text_key(raw, "title", where, problems)
    maintenance = _text_key(raw, "maintenance", where, problems)
    years = raw.get("years")
    if maintenance and maintenance not in maintenance_codes():
        problems.append(
            _key_problem(
                f"{where}.maintenance",
                code="records.toml_bad_code",
                message=f"{maintenance!r} is not a TT 05 maintenance code",
                value=maintenance,
                codes=list(maintenance_codes()),
            )
        )
    elif years is not None and (not isinstance(years, int) or isinstance(years, bool) or years <= 0):
        problems.append(
            _key_problem(
                f"{where}.years",
                code="records.toml_bad_type",
                message="must be a number of years",
                expected="years > 0",
            )
        )
    elif maintenance == PERMANENT and years is not None:
        problems.append(
            _key_problem(
                f"{where}.years",
                code="records.retention_permanent_years",
                message="a permanent item (01) has no number of years",
            )
        )
    elif maintenance == OTHER_PERIOD and years is None:
        problems.append(
            _key_problem(
                f"{where}.years",
                code="records.retention_years_missing",
                message="maintenance 07 (khác) needs its number of years",
            )
        )
    elif maintenance in MAINTENANCE_YEARS:
        expected = MAINTENANCE_YEARS[maintenance]
        if years is not None and years != expected:
            problems.append(
                _key_problem(
                    f"{where}.years",
                    code="records.retention_years_mismatch",
                    message=f"maintenance {maintenance} means {expected} years, not {years}",
                    maintenance=maintenance,
                    years=years,
                    expected=expected,
                )
            )
        years = expected
    legal_basis = _text_key(raw, "legal_basis", where, problems, required=False)
    notes = _text_key(raw, "notes", where, problems, required=False)
    if len(problems) > before:
        return None
    return RetentionItem(
        item_code=item_code,
        title=title,
        maintenance=maintenance,
        years=years,
        legal_basis=legal_basis,
        notes=notes,
    )


def load_retention_schedule(session: Session, path: Path) -> RetentionSchedule:
    """Load a bảng thời hạn lưu trữ from a TOML data file (config/retention/*.toml).

    Schedules are data, never code (vn-standards.md §3.1: each ministry issues its own under Luật
    Lưu trữ 2024, and the general one's status after 01/7/2025 is unverified). Loading a file whose
    schedule code exists replaces that schedule's header and items within the caller's transaction.

    Raises:
        RecordsError: ``records.file_invalid`` listing every bad key, or ``records.toml_unreadable``.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RecordsError(
            code="records.toml_unreadable",
            message=f"cannot read {path}: {exc}",
            params={"path": str(path), "reason": str(exc)},
        ) from exc
    problems: list[Problem] = []
    for key in sorted(set(data) - {"schedule", "items"}):
        problems.append(_key_problem(key, code="records.toml_unknown_key", message="unknown key"))
    header = data.get("schedule")
    if not isinstance(header, dict):
        problems.append(_key_problem("schedule", code="records.toml_missing", message="is missing"))
        header = {}
    for key in sorted(set(header) - _SCHEDULE_KEYS):
        problems.append(
            _key_problem(f"schedule.{key}", code="records.toml_unknown_key", message="unknown key")
        )
    code = _text_key(header, "code", "schedule", problems, max_length=100)
    name = _text_key(header, "name", "schedule", problems)
    legal_basis = _text_key(header, "legal_basis", "schedule", problems)
    valid_from = _date_key(header, "valid_from", "schedule", problems)
    valid_to = _date_key(header, "valid_to", "schedule", problems)
    if valid_from and valid_to and valid_to < valid_from:
        problems.append(
            _key_problem(
                "schedule.valid_to",
                code="records.bad_period",
                message="ends before it starts",
                start=valid_from.isoformat(),
                end=valid_to.isoformat(),
            )
        )
    raw_items = data.get("items", [])
    if not isinstance(raw_items, list) or not raw_items:
        problems.append(_key_problem("items", code="records.toml_missing", message="no [[items]]"))
        raw_items = []
    items: list[RetentionItem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        item = _item(raw, index, problems)
        item_code = (
            _nfc(raw["item_code"]) if isinstance(raw, dict) and isinstance(raw.get("item_code"), str) else ""
        )
        if item_code in seen:
            problems.append(
                _key_problem(
                    f"items[{index}].item_code",
                    code="records.retention_duplicate_item",
                    message=f"{item_code!r} is also items[{seen[item_code]}]",
                    value=item_code,
                    other=seen[item_code],
                )
            )
            continue
        if item_code:
            seen[item_code] = index
        if item is not None:
            items.append(item)
    if problems:
        raise _refuse_file(path, problems)
    schedule = session.scalars(select(RetentionSchedule).where(RetentionSchedule.code == code)).first()
    if schedule is None:
        schedule = RetentionSchedule(code=code)
        session.add(schedule)
    else:
        schedule.items.clear()
        session.flush()  # the old items go before the new ones arrive (unique item codes)
    schedule.name, schedule.legal_basis = name, legal_basis
    schedule.valid_from, schedule.valid_to = valid_from, valid_to
    schedule.source_file = str(path)
    schedule.items.extend(items)
    session.flush()
    return schedule


def list_schedules(session: Session) -> list[RetentionSchedule]:
    return list(session.scalars(select(RetentionSchedule).order_by(RetentionSchedule.code)))


# --------------------------------------------------------------------------- access


def resolve_target(
    session: Session, *, dossier_code: str | None = None, document_code: str | None = None
) -> Dossier | Document:
    """The record a decision is about, named by its code: exactly one of a dossier or a document."""
    if (dossier_code is None) == (document_code is None):
        raise RecordsError(
            code="records.one_target",
            message="name exactly one record: a dossier or a document",
            params={},
        )
    if dossier_code is not None:
        return find_dossier(session, dossier_code)
    assert document_code is not None
    return find_document(session, document_code)


def _target(session: Session, dossier_id: int | None, document_id: int | None) -> Dossier | Document:
    if (dossier_id is None) == (document_id is None):
        raise RecordsError(
            code="records.one_target",
            message="name exactly one record: a dossier or a document",
            params={},
        )
    record = (
        session.get(Dossier, dossier_id) if dossier_id is not None else session.get(Document, document_id)
    )
    if record is None:
        kind = "dossier" if dossier_id is not None else "document"
        raise RecordNotFoundError(
            code="records.record_not_found",
            message=f"no {kind} with id {dossier_id or document_id}",
            params={"kind": kind, "id": dossier_id or document_id},
        )
    return record


def _required(**values: str) -> None:
    for column, value in values.items():
        if not value.strip():
            raise RecordsError(
                code="records.missing_value", message=f"{column} is empty", params={"column": column}
            )


def restrict(
    session: Session,
    *,
    dossier_id: int | None = None,
    document_id: int | None = None,
    decision_number: str,
    decision_date: date,
    reason: str,
    review_date: date | None = None,
    by: str,
    at: datetime | None = None,
) -> AccessRestriction:
    """Put a dossier or a document on the list of tài liệu tiếp cận có điều kiện (Luật Lưu trữ 2024
    khoản 4 Điều 25; NĐ 113/2025), by a dated decision. The record's mức độ tiếp cận is unchanged:
    the list is kept beside it (vn-standards.md §3.3)."""
    _required(decision=decision_number, reason=reason, by=by)
    _target(session, dossier_id, document_id)
    if review_date is not None and review_date < decision_date:
        raise RecordsError(
            code="records.bad_review_date",
            message=f"the review date {review_date} is before the decision ({decision_date})",
            params={"review_date": review_date.isoformat(), "decision_date": decision_date.isoformat()},
        )
    same_record = (
        AccessRestriction.dossier_id == dossier_id
        if dossier_id is not None
        else AccessRestriction.document_id == document_id
    )
    current = session.scalars(select(AccessRestriction).where(same_record, _restricted_now())).first()
    if current is not None:
        raise RecordsError(
            code="records.already_restricted",
            message=f"the record is already restricted (restriction {current.id}, decision "
            f"{current.decision_number}); lift it first",
            params={"id": current.id, "decision": current.decision_number},
        )
    restriction = AccessRestriction(
        dossier_id=dossier_id,
        document_id=document_id,
        decision_number=_nfc(decision_number),
        decision_date=decision_date,
        reason=_nfc(reason),
        review_date=review_date,
        recorded_at=at or datetime.now(UTC),
        recorded_by=by,
        lifted_decision="",
        lifted_by="",
    )
    session.add(restriction)
    session.flush()
    return restriction


def lift_restriction(
    session: Session, restriction_id: int, *, decision_number: str, by: str, at: datetime
) -> AccessRestriction:
    """End a restriction by a later decision; the entry stays in the record, dated."""
    _required(decision=decision_number, by=by)
    restriction = session.get(AccessRestriction, restriction_id)
    if restriction is None:
        raise RecordNotFoundError(
            code="records.restriction_not_found",
            message=f"no restriction {restriction_id}",
            params={"id": restriction_id},
        )
    if restriction.lifted_at is not None:
        raise RecordsError(
            code="records.already_lifted",
            message=f"restriction {restriction_id} was lifted on {restriction.lifted_at:%Y-%m-%d} "
            f"(decision {restriction.lifted_decision})",
            params={
                "id": restriction_id,
                "decision": restriction.lifted_decision,
                "at": restriction.lifted_at.isoformat(),
            },
        )
    restriction.lifted_at = at
    restriction.lifted_decision = _nfc(decision_number)
    restriction.lifted_by = by
    session.flush()
    return restriction


def active_restrictions(
    session: Session, *, on: date | None = None, tz: tzinfo = VIETNAM_TZ
) -> list[AccessRestriction]:
    """The danh mục tài liệu tiếp cận có điều kiện as it stood on day ``on`` (in ``tz``), or now.

    On a day, the list holds restrictions decided on or before it and not lifted on or before it.
    """
    query = select(AccessRestriction)
    if on is None:
        query = query.where(_restricted_now())
    else:
        next_day = datetime.combine(on + timedelta(days=1), time(), tzinfo=tz)
        query = query.where(
            AccessRestriction.decision_date <= on,
            or_(AccessRestriction.lifted_at.is_(None), AccessRestriction.lifted_at >= next_day),
        )
    return list(session.scalars(query.order_by(AccessRestriction.decision_date, AccessRestriction.id)))


def restrictions_due_for_review(session: Session, on: date) -> list[AccessRestriction]:
    """Restrictions still in force whose review date is ``on`` or earlier."""
    query = select(AccessRestriction).where(
        _restricted_now(), AccessRestriction.review_date.is_not(None), AccessRestriction.review_date <= on
    )
    return list(session.scalars(query.order_by(AccessRestriction.review_date, AccessRestriction.id)))


def change_access(
    session: Session,
    *,
    dossier_id: int | None = None,
    document_id: int | None = None,
    to_mode: str,
    decision_number: str,
    decision_date: date,
    reason: str,
    by: str,
    at: datetime | None = None,
) -> AccessChange:
    """Change a record's mức độ tiếp cận by a decision (giải mật, reclassification), recorded as an
    event with the mode it had before (Luật Lưu trữ 2024: classified records go to the historical
    archive only after giải mật). The record's ``elements["mode"]`` follows, so the description the
    catalog gives out says what was decided.
    """
    _required(decision=decision_number, reason=reason, by=by)
    if to_mode not in mode_codes():
        raise RecordsError(
            code="records.bad_mode",
            message=f"{to_mode!r} is not a mức độ tiếp cận code ({', '.join(mode_codes())})",
            params={"mode": to_mode, "modes": list(mode_codes())},
        )
    record = _target(session, dossier_id, document_id)
    if record.mode == to_mode:
        raise RecordsError(
            code="records.mode_unchanged",
            message=f"the record already has mức độ tiếp cận {to_mode}",
            params={"mode": to_mode},
        )
    change = AccessChange(
        dossier_id=dossier_id,
        document_id=document_id,
        from_mode=record.mode,
        to_mode=to_mode,
        decision_number=_nfc(decision_number),
        decision_date=decision_date,
        reason=_nfc(reason),
        recorded_at=at or datetime.now(UTC),
        recorded_by=by,
    )
    record.mode = to_mode
    record.elements = {**record.elements, "mode": to_mode}  # a new dict: JSON columns track assignment
    session.add(change)
    session.flush()
    return change


def access_changes(session: Session) -> list[AccessChange]:
    return list(session.scalars(select(AccessChange).order_by(AccessChange.recorded_at, AccessChange.id)))


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
