"""Registering the records of a stored AIP: one hồ sơ row and one row per tài liệu.

Kept apart from :mod:`repository.catalog.records_core` (errors, text and date rules, the source
agency, finding records by code) because turning a package's TT 05 descriptions into catalog rows
is its own procedure: every element is kept, every value must fit its column or be named, and the
caller's maps of files and description paths must fit the package. Functions take a session and
never commit (style guide item 20).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.names import fold
from preservation.tt05.model import DocumentRecord, PackageType, RecordSet, split_file_code
from repository.catalog.records import Document, DocumentFile, Dossier, SourceAgency
from repository.catalog.records_core import (
    UNKNOWN_ELEMENTS,
    RecordsError,
    _int,
    _nfc,
    check_agency,
    first_day,
    last_day,
)

_ORDINAL_SUFFIX = re.compile(r"(?:^|\D)(\d{7})$")  # docCode = mã hồ sơ + STT, 7 digits


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
    values = {k: _nfc(v) for k, v in records.package.values.items()}
    code = _new_dossier_code(session, aip_id, values, records.package.path)
    dossier = _dossier(
        session,
        aip_id=aip_id,
        records=records,
        values=values,
        code=code,
        named=named,
        archive_id=archive_id,
        description_paths=description_paths,
        unknown=unknown.get(records.package.path),
        received_at=received_at,
        accepted_at=accepted_at,
    )
    _add_documents(dossier, records, file_uuids, description_paths, unknown)
    session.add(dossier)
    session.flush()
    return dossier


def _new_dossier_code(session: Session, aip_id: str, values: Mapping[str, str], where: str) -> str:
    """The dossier's code (fileCode, else arcFileCode), which this AIP must not have registered yet."""
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
    return code


def _dossier(
    session: Session,
    *,
    aip_id: str,
    records: RecordSet,
    values: Mapping[str, str],
    code: str,
    named: SourceAgency | None,
    archive_id: str,
    description_paths: Mapping[str, str],
    unknown: Mapping[str, str] | None,
    received_at: datetime,
    accepted_at: datetime | None,
) -> Dossier:
    """The dossier row, its agency and phông found from the named agency or from its code."""
    where = records.package.path
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
    return Dossier(
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
        elements=_elements(values, unknown),
        received_at=received_at,
        accepted_at=accepted_at,
        digitized=confidence == "02",  # TT 05 confidenceLevel 02 = số hóa (K6)
    )


def _add_documents(
    dossier: Dossier,
    records: RecordSet,
    file_uuids: Mapping[tuple[str, str], str],
    description_paths: Mapping[str, str],
    unknown: Mapping[str, Mapping[str, str]],
) -> None:
    """One document row per tài liệu, in order; two tài liệu may not give the same number."""
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
