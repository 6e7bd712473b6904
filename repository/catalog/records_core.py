"""The records catalog: what the archive holds, as described (TT 05/2025), and what was decided about it.

Functions take a session and never commit: the CLI command, the web request or the ingest runner
frames the transaction (style guide item 20). Free text is stored in Unicode NFC and searched in a
folded form (no diacritics, đ→d, case-folded), because readers type "ho so xay dung" for "Hồ sơ xây
dựng".

This module holds what every part of the catalog shares (errors, text and date rules, TT 05 code
lists, the source agency an operator names) and the hồ sơ / tài liệu themselves: registering them
with their AIP and finding them by code. Three modules build on it:
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
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind, KholuuError
from preservation.names import fold
from preservation.tt05.ead import description_date
from preservation.tt05.model import DocumentRecord, PackageType, RecordSet, split_file_code
from preservation.tt05.tables import Tables, shipped_tables
from repository.catalog.records import Document, DocumentFile, Dossier, SourceAgency

#: Dates written without a zone (decision dates, "as of" days) are Vietnamese calendar days.
VIETNAM_TZ: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")

#: TT 05/2025 code list ``maintenance``: the codes that mean a number of years (01 = vĩnh viễn,
#: 07 = khác, which needs its number of years stated).
MAINTENANCE_YEARS: Mapping[str, int] = {"02": 70, "03": 50, "04": 30, "05": 20, "06": 10}
PERMANENT = "01"
OTHER_PERIOD = "07"
PUBLIC_MODE = "01"  # mức độ tiếp cận "Công khai"

#: Where :func:`register_records` keeps the elements a description carried outside its table.
UNKNOWN_ELEMENTS = "_unknown"

T = TypeVar("T")

# QĐ 20/2020/QĐ-TTg mã định danh: dot-separated groups of 2-3 capitals/digits, at most 13 characters
# (000.00.00.G09 Bộ Nội vụ; H49.64.33 in the TT 05 examples).
_ORGAN_ID = re.compile(r"[0-9A-Z]{2,3}(?:\.[0-9A-Z]{2,3}){1,3}")
_ORDINAL_SUFFIX = re.compile(r"(?:^|\D)(\d{7})$")  # docCode = mã hồ sơ + STT, 7 digits


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


def _unknown_elements(
    records: RecordSet, extra: Mapping[str, Mapping[str, str]] | None
) -> dict[str, dict[str, str]]:
    """``extra`` in NFC, per description path; a path that is not one of the package's is a bug of
    the caller, named rather than dropped."""
    known = {records.package.path, *(d.description.path for d in records.documents)}
    out: dict[str, dict[str, str]] = {}
    for path, elements in (extra or {}).items():
        if path not in known:
            raise RecordsError(
                code="records.extra_unknown_path",
                message=f"elements were given for {path}, which is not a description of this package",
                params={"path": path},
            )
        if elements:
            out[path] = {_nfc(name): _nfc(value) for name, value in elements.items()}
    return out


def _elements(values: Mapping[str, str], unknown: Mapping[str, str] | None) -> dict[str, Any]:
    return {**values, UNKNOWN_ELEMENTS: dict(unknown)} if unknown else dict(values)


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
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> Dossier:
    """Catalog the descriptions of a stored AIP: one dossier row and one row per tài liệu.

    Every element a description file carried is kept in the row's ``elements`` (JSON), so nothing
    the agency sent is lost to the typed columns: the table elements by name, and the elements
    outside the variant's table (``extra``) under ``elements["_unknown"]``.

    Dates: ``start_on`` / ``issued_on`` are the first day the written date denotes and ``end_on``
    the last ("12/2021" ends on 31/12/2021), because a hồ sơ runs to the end of the month or year
    its end date names and transfer deadlines count from there.

    Args:
        aip_id: the AIP the descriptions and files are in.
        records: what the package says (TT 05 EAD files, or records mapped from a legacy source).
        file_uuids: (representation, path under ``data/``) → uuid of the payload file in the AIP.
        description_paths: ``Description.path`` as in the SIP → where that description is in the AIP.
        received_at: when the package arrived; accepted_at: when the AIP was stored (K3).
        organ_id: mã định danh of the sending agency when the operator named it. It must be a
            registered source agency (:func:`check_agency`) and the dossier is that agency's,
            whatever its code suggests; it also helps split the code. When empty, the agency is
            the registered one whose mã định danh the code starts with, if any.
        archive_id: mã cơ quan lưu trữ, the prefix of an arcFileCode (TT 05 Phụ lục III).
        extra: per ``Description.path``, the elements the file carried that its table does not
            have (element name → text), as the reader found them.

    Returns:
        The new dossier, added and flushed (not committed).

    Raises:
        RecordsError: ``records.bad_organ_id`` / ``records.agency_unknown`` (nothing is written);
            ``records.file_unknown`` / ``records.description_unknown`` /
            ``records.extra_unknown_path`` when the caller's maps do not fit the package (a bug in
            the caller); ``records.value_too_long``, ``records.duplicate_ordinal``,
            ``records.already_registered``, ``records.no_code``.
    """
    if records.package_type is PackageType.DIP:
        raise RecordsError(
            code="records.bad_package_type",
            message=f"a {records.package_type.value} package carries no records to catalog",
            params={"package_type": records.package_type.value},
        )
    named = check_agency(session, organ_id) if organ_id.strip() else None
    unknown = _unknown_elements(records, extra)
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
    hint = named.organ_id if named else ""
    parts = _split_code(code, organ_id=hint, archive_id=archival_prefix)
    dossier_organ = parts[0] if parts else hint  # what the code says, kept as received
    agency = named or (
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
        end_on=last_day(end),
        total_doc=_int(values.get("totalDoc", "")),
        number_of_page=_int(values.get("numberOfPage", "")),
        confidence_level=_fit(Dossier, "confidence_level", confidence, "confidenceLevel", where),
        description_path=_description_path(description_paths, where),
        elements=_elements(values, unknown.get(where)),
        received_at=received_at,
        accepted_at=accepted_at,
        digitized=confidence == "02",  # TT 05 confidenceLevel 02 = số hóa (K6)
    )
    used: dict[int, str] = {}
    for position, record in enumerate(records.documents):
        document = _document(
            record, position, file_uuids, description_paths, unknown.get(record.description.path)
        )
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
    unknown: Mapping[str, str] | None,
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
    number = _fit(Document, "code_number", values.get("codeNumber", ""), "codeNumber", where)
    notation = _fit(Document, "code_notation", values.get("codeNotation", ""), "codeNotation", where)
    return Document(
        kind=record.kind.value,
        ordinal=ordinal,
        doc_id=_fit(Document, "doc_id", values.get("docId", ""), "docId", where),
        doc_code=_fit(Document, "doc_code", doc_code, "docCode", where),
        type_name=_fit(Document, "type_name", values.get("typeName", ""), "typeName", where),
        code_number=number,
        code_notation=notation,
        number_search=number_search(number, notation),
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
        elements=_elements(values, unknown),
        files=files,
    )


def number_search(number: str, notation: str) -> str:
    """The searched form of a tài liệu's số and ký hiệu, written as on the document ("15/KH-UBND"),
    folded like titles: "15", "kh-ubnd", "qd-ubnd" for "QĐ-UBND" and "15/KH-UBND" all find it."""
    return fold("/".join(p for p in (number, notation) if p))


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
