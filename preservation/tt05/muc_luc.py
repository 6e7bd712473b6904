"""A spreadsheet "mục lục hồ sơ" (XLSX or CSV) → TT 05/2025 SIP_hoso records.

Archives and agencies that never had an NĐ 30/2020 system keep their catalogue in a spreadsheet:
the mục lục hồ sơ (NĐ 30/2020 Phụ lục V; TT 02/2019 for archives) with one row per hồ sơ, often
with a mục lục văn bản beside it. Their column headers are free Vietnamese text, so headers are
matched after :func:`~preservation.tt05.mapping.header_key` (no diacritics, case, punctuation or
"(3)" column numbers) against the wordings in ``config/tt05/legacy_headers.toml``
(:mod:`~preservation.tt05.legacy_headers`). Shapes accepted:

* sheets of dossiers (named ``HoSo``, "Hồ sơ", "Mục lục hồ sơ"…) and sheets of documents
  (``TaiLieu``, "Văn bản"…), as many of each as the workbook has (one per year, per đề mục…); a
  document row names its dossier by "Mã hồ sơ" or its parts (mã định danh, năm, số và ký hiệu hồ
  sơ), or belongs to the only dossier there is;
* sheets (or a CSV, UTF-8 with or without BOM, ``,`` or ``;``) mixing both: a "Loại"/"Cấp"
  column says ``Hồ sơ`` or ``Văn bản``; without one, a row with a document ordinal ("STT văn bản")
  is a document and the others are dossiers; a document belongs to the dossier its code names,
  else to the dossier row above it on the same sheet.

Every sheet with a header row in its first rows is read, and only those: detection
(:func:`looks_like_muc_luc`) and reading decide with the same function, so a workbook is never
recognised on one sheet and read on another. Sheets without a header (a cover "Bìa", notes) are
reported as skipped. Dossier sheets are read first, then mixed sheets, then document sheets, so a
document finds its dossier whatever the order of the sheets.

Title rows above the header, a "(1) (2) (3)" numbering row and a two-row header ("Thời gian" over
"Bắt đầu | Kết thúc") are recognised. Unknown columns, rows that are neither dossier nor document,
documents without a dossier and values that do not map are reported with the row number; the rest
is still returned (the ingest refuses records that then fail the TT 05 check). Rows are read one
at a time (openpyxl ``read_only``), never the whole sheet.
"""

from __future__ import annotations

import codecs
import csv
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from preservation.container import ContainerLimitError, check_zip_container
from preservation.tt05.legacy_build import RawField, RawRecord, build_import, file_code_of
from preservation.tt05.legacy_headers import HeaderTable, SheetKind, load_headers
from preservation.tt05.mapping import LegacyDossier, LegacyError, LegacyImport, Reason, cell_text, fold
from preservation.tt05.model import RecordSource, Unmapped
from preservation.tt05.tables import Tables

__all__ = ["LegacyDossier", "LegacyImport", "looks_like_muc_luc", "read_muc_luc"]

_CONTENT_KEYS = frozenset({"title", "subject", "fileCode", "fileNotation", "typeName"})
_DOSSIER_ONLY = frozenset({"title", "startDate", "endDate", "totalDoc", "numberOfPaper", "creator"})
_DOCUMENT_ONLY = frozenset(
    {"docOrdinal", "typeName", "subject", "issuedDate", "numberNotation", "codeNumber"}
)
_LINK_KEYS = ("fileCode", "organId", "fileCatalog", "fileNotation")
HEADER_SCAN_ROWS = 30
EMPTY_ROWS_STOP = 1000  # a sheet whose dimension claims a million rows ends after this many empty ones
SNIFF_CHARS = 64 * 1024


def _is_header(keys: Sequence[str | None], minimum: int = 2) -> bool:
    known = [k for k in keys if k is not None]
    return len(known) >= minimum and bool(_CONTENT_KEYS & set(known))


Row = tuple[int, list[str]]


class _Rows:
    """Numbered rows of text, one at a time, with room to put one back."""

    def __init__(self, rows: Iterable[Iterable[object]]) -> None:
        self._rows = enumerate(rows, start=1)
        self._back: list[Row] = []

    def __iter__(self) -> Iterator[Row]:
        return self

    def __next__(self) -> Row:
        if self._back:
            return self._back.pop()
        number, values = next(self._rows)
        return number, [cell_text(v) for v in values]

    def push(self, row: Row) -> None:
        self._back.append(row)


def _find_header(
    rows: _Rows, kind: SheetKind, headers: HeaderTable, start: int = 1
) -> tuple[int, list[str], list[str | None]] | None:
    """The header row among the first rows, from row ``start`` (where detection found it; title
    rows above it skipped), merged with a sub-header row under it ("Thời gian" over "Bắt đầu |
    Kết thúc") when there is one."""
    for number, cells in rows:
        if number > HEADER_SCAN_ROWS:
            return None
        if number < start:
            continue
        keys = [headers.column(c, kind) if c else None for c in cells]
        if not _is_header(keys):
            continue
        following = next(rows, None)
        if following is not None:
            sub = [headers.subheader(c) if c else None for c in following[1]]
            if any(sub) and all(k is not None or not c for k, c in zip(sub, following[1], strict=False)):
                width = max(len(cells), len(sub))
                cells += [""] * (width - len(cells))
                keys += [None] * (width - len(keys))
                for index, key in enumerate(sub):
                    if key is not None:
                        cells[index], keys[index] = following[1][index], key
            else:
                rows.push(following)
        return number, cells, keys
    return None


_NUMBERING = re.compile(r"\(?\d{1,2}\)?")


def _place(label: str, sheet: str, number: int) -> str:
    return f"{label}#{sheet}!{number}" if sheet else f"{label}#{number}"


class _Catalogue:
    """The dossiers read so far and what could not be mapped; documents find their dossier here."""

    def __init__(self, label: str, headers: HeaderTable) -> None:
        self.label = label
        self.headers = headers
        self.dossiers: list[RawRecord] = []
        self.lost: list[Unmapped] = []
        self._by_code: dict[str, RawRecord] = {}
        self._by_notation: dict[str, list[RawRecord]] = {}
        self._above: RawRecord | None = None  # the last dossier row of the sheet being read

    def read(self, sheet: str, rows: _Rows, kind: SheetKind, start: int = 1) -> None:
        self._above = None
        header = _find_header(rows, kind, self.headers, start)
        if header is None:
            where = f"{self.label}#{sheet}" if sheet else self.label
            raise LegacyError(
                f"{where}: no header row with mục lục columns in the first {HEADER_SCAN_ROWS} rows",
                code="legacy.no_header",
                path=self.label,
                params={"file": where, "rows": HEADER_SCAN_ROWS},
            )
        _, headers, keys = header
        present = {k for k in keys if k}
        empty_run = 0
        first = True
        for number, cells in rows:
            if not any(cells):
                empty_run += 1
                if empty_run >= EMPTY_ROWS_STOP:
                    break
                continue
            empty_run = 0
            filled = [c for c in cells if c]
            if all(_NUMBERING.fullmatch(c) for c in filled) and (
                first or all(c.startswith("(") for c in filled)
            ):
                first = False
                continue  # the "(1) (2) (3)" row under the header
            first = False
            self._row(_place(self.label, sheet, number), headers, keys, cells, kind, present)

    def _row(
        self,
        place: str,
        headers: list[str],
        keys: list[str | None],
        cells: list[str],
        kind: SheetKind,
        present: set[str],
    ) -> None:
        record = RawRecord(place)
        level = ""
        for index, text in enumerate(cells):
            if not text:
                continue
            key = keys[index] if index < len(keys) else None
            header = headers[index] if index < len(headers) and headers[index] else f"column {index + 1}"
            if key is None:
                record.lost.append(Unmapped(place, header, text, Reason.UNKNOWN_COLUMN))
            elif key == "noElement":
                record.lost.append(Unmapped(place, header, text, Reason.NO_ELEMENT))
            elif key == "level":
                level = text
            elif key == "files":
                record.files.extend(
                    RawField(n.strip(), header, place) for n in re.split(r"[;\n]", text) if n.strip()
                )
            elif key != "rowNo":
                record.put(key, text, header, place)
        is_document = self._is_document(record, level, kind, present)
        if is_document is None:
            self.lost += [*record.lost, Unmapped(place, "level", level, Reason.ROW_SKIPPED)]
        elif is_document:
            self._document(record, kind)
        else:
            self._dossier(record)

    @staticmethod
    def _is_document(record: RawRecord, level: str, kind: SheetKind, present: set[str]) -> bool | None:
        if kind is not SheetKind.MIXED:
            return kind is SheetKind.DOCUMENTS
        if level:
            folded = fold(level)
            if folded.startswith(("ho so", "hs", "dossier", "file")):
                return False
            if folded.startswith(("van ban", "vb", "tai lieu", "tl", "document", "doc")):
                return True
            return None
        if "docOrdinal" in present:
            return "docOrdinal" in record.fields
        return bool(present & _DOCUMENT_ONLY) and not present & _DOSSIER_ONLY

    def _dossier(self, record: RawRecord) -> None:
        if not any(k in record.fields for k in ("title", "fileCode", "fileNotation")):
            shown = "; ".join(f.value for f in record.fields.values())
            self.lost += [*record.lost, Unmapped(record.where, "title", shown, Reason.ROW_SKIPPED)]
            return
        self.dossiers.append(record)
        self._above = record
        code, _, _ = file_code_of(record)
        self._by_code.setdefault(code, record)
        notation = record.text("fileNotation")
        if notation:
            self._by_notation.setdefault(notation, []).append(record)

    def _document(self, record: RawRecord, kind: SheetKind) -> None:
        link = RawRecord(record.where)
        for key in _LINK_KEYS:
            if key in record.fields:
                link.fields[key] = record.fields.pop(key)
        if not record.fields and not record.files:
            shown = "; ".join(f.value for f in link.fields.values())
            self.lost += [*record.lost, Unmapped(record.where, "subject", shown, Reason.ROW_SKIPPED)]
            return
        dossier = self._dossier_of(link, kind)
        if dossier is None:
            code, _, _ = file_code_of(link)
            self.lost += [*record.lost, Unmapped(record.where, "fileCode", code, Reason.NO_DOSSIER)]
            return
        dossier.documents.append(record)

    def _dossier_of(self, link: RawRecord, kind: SheetKind) -> RawRecord | None:
        """The dossier a document's code names; without a code, the dossier row above it on a
        mixed sheet, or on a document sheet the only dossier there is (never a guess among several)."""
        if link.fields:
            code, _, _ = file_code_of(link)
            if code in self._by_code:
                return self._by_code[code]
            same = self._by_notation.get(link.text("fileNotation") or code, [])
            if not same:  # one side has the whole mã hồ sơ, the other only its end
                same = [
                    d for c, d in self._by_code.items() if code.endswith(f".{c}") or c.endswith(f".{code}")
                ]
            return same[0] if len(same) == 1 else None
        if kind is SheetKind.MIXED:
            return self._above
        return self.dossiers[0] if len(self.dossiers) == 1 else None


def read_muc_luc(
    path: Path,
    tables: Tables,
    files: Sequence[str],
    *,
    where: str | None = None,
    headers: HeaderTable | None = None,
) -> LegacyImport:
    """Map a mục lục hồ sơ spreadsheet (XLSX or CSV) onto TT 05 SIP_hoso records.

    Args:
        path: the ``.xlsx`` or ``.csv`` file.
        tables: the TT 05 element tables and code lists.
        files: the names (relative to the submitted folder) of the files beside it; a document row
            is matched by its "Tên tệp" cell, else by docCode / docId / "<fileCode>.<ordinal>".
        where: the spreadsheet's name in messages (default: its file name).
        headers: the header wordings (default: ``config/tt05/legacy_headers.toml``).

    Returns:
        The dossiers, what could not be mapped (with sheet and row; skipped sheets too), and the
        unclaimed files.

    Raises:
        LegacyError: ``legacy.not_spreadsheet`` (not a readable XLSX), ``legacy.not_utf8`` (a CSV
            in another encoding), ``legacy.no_header`` (no row with mục lục headers).
    """
    label = where or path.name
    catalogue = _Catalogue(label, headers or load_headers())
    if path.suffix.lower() == ".csv":
        _read_csv(path, label, catalogue)
    else:
        _read_xlsx(path, label, catalogue)
    return build_import(
        catalogue.dossiers,
        tables,
        files,
        source=RecordSource.MUC_LUC,
        exclude=[path.name],
        lost=catalogue.lost,
    )


#: What a damaged workbook raises from openpyxl, when opened or while its rows are read: the zip
#: (BadZipFile, zlib.error), its XML parts (ParseError is a SyntaxError), missing parts (KeyError).
_BROKEN_XLSX = (
    OSError,
    zipfile.BadZipFile,
    zlib.error,
    InvalidFileException,
    KeyError,
    ValueError,
    SyntaxError,
)


def _not_xlsx(label: str, exc: Exception) -> LegacyError:
    return LegacyError(
        f"{label} is not a readable XLSX workbook: {exc}",
        code="legacy.not_spreadsheet",
        path=label,
        params={"file": label, "problem": str(exc)},
    )


def _open_workbook(path: Path, label: str, *, data_only: bool = True) -> openpyxl.Workbook:
    """The workbook, read-only, once its ZIP passed the container limits (issue 11 item 19)."""
    try:
        check_zip_container(path)
    except ContainerLimitError as exc:
        raise LegacyError(
            f"{label} is too large to read as a mục lục: {exc}",
            code="legacy.spreadsheet_too_large",
            path=label,
            params={"file": label, **exc.params},
        ) from exc
    except _BROKEN_XLSX as exc:
        raise _not_xlsx(label, exc) from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # styles and extensions openpyxl does not know
            return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except _BROKEN_XLSX as exc:
        raise _not_xlsx(label, exc) from exc


@dataclass(frozen=True)
class _Sheet:
    """A sheet that holds (part of) the catalogue: its kind and the row its header is in."""

    name: str
    kind: SheetKind
    header_row: int


_READ_ORDER = {SheetKind.DOSSIERS: 0, SheetKind.MIXED: 1, SheetKind.DOCUMENTS: 2}


def _plan(book: openpyxl.Workbook, headers: HeaderTable) -> tuple[list[_Sheet], list[str]]:
    """The sheets with a header row in their first rows, in reading order (dossiers, mixed,
    documents; workbook order within each), and the names of the sheets without one."""
    found: list[_Sheet] = []
    skipped: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in book.sheetnames:
            sheet = book[name]
            rows = getattr(sheet, "iter_rows", None)  # a chart sheet has no cells
            row = None
            if rows is not None:
                cells = rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True)
                row = next(
                    (
                        n
                        for n, r in enumerate(cells, start=1)
                        if _header_like([cell_text(v) for v in r], headers)
                    ),
                    None,
                )
            if row is None:
                skipped.append(name)
            else:
                found.append(_Sheet(name, headers.sheet_kind(name), row))
    return sorted(found, key=lambda s: _READ_ORDER[s.kind]), skipped


def _with_formulas(
    values: Iterable[Sequence[object]], formulas: Iterable[Sequence[object]], sheet: str, found: list[str]
) -> Iterator[Sequence[object]]:
    """The rows of values, noting every cell that holds a formula but no stored value (a workbook
    written by a program that does not compute formulas): such a cell is not "empty" and must not
    be reported as a missing element (issue 11 item 10)."""
    for number, (row, row_formulas) in enumerate(zip(values, formulas, strict=False), start=1):
        for index, formula in enumerate(row_formulas):
            value = row[index] if index < len(row) else None
            if value is None and isinstance(formula, str) and formula.startswith("="):
                found.append(f"{sheet}!{_column_letter(index)}{number} {formula[:60]}")
        yield row


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _read_xlsx(path: Path, label: str, catalogue: _Catalogue) -> None:
    book = _open_workbook(path, label)
    formulas_book = _open_workbook(path, label, data_only=False)
    formula_cells: list[str] = []
    readers: list[Iterator[object]] = []  # closed explicitly: a half-read sheet keeps its zip member open
    try:
        sheets, skipped = _plan(book, catalogue.headers)
        if not sheets:
            raise LegacyError(
                f"{label}: no sheet has a row with mục lục columns in its first {HEADER_SCAN_ROWS} rows",
                code="legacy.no_header",
                path=label,
                params={"file": label, "rows": HEADER_SCAN_ROWS},
            )
        catalogue.lost += [
            Unmapped(f"{label}#{name}", "sheet", name, Reason.SHEET_SKIPPED) for name in skipped
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for sheet in sheets:
                values = book[sheet.name].iter_rows(min_row=1, values_only=True)
                formulas = formulas_book[sheet.name].iter_rows(min_row=1, values_only=True)
                merged = _with_formulas(values, formulas, sheet.name, formula_cells)
                readers += [merged, values, formulas]
                rows = _Rows(merged)
                catalogue.read(sheet.name, rows, sheet.kind, sheet.header_row)
    except LegacyError:
        raise
    except _BROKEN_XLSX as exc:
        raise _not_xlsx(label, exc) from exc
    finally:
        for reader in readers:
            close = getattr(reader, "close", None)
            if close is not None:
                close()
        book.close()
        formulas_book.close()
    if formula_cells:
        raise LegacyError(
            f"{label}: {len(formula_cells)} cell(s) hold a formula with no stored value (first: "
            f"{formula_cells[0]}); open the workbook in Excel or LibreOffice and save it, so that the "
            "values are stored",
            code="legacy.formula_without_value",
            path=label,
            params={"file": label, "count": len(formula_cells), "cells": ", ".join(formula_cells[:20])},
        )


def _check_csv_bytes(path: Path, label: str) -> None:
    """Refuse a CSV with a NUL byte or bytes that are not UTF-8, naming the line (issue 11 item 11).

    Streamed in blocks with an incremental decoder: a hostile file without line breaks is never
    held whole.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as fh:
        head = fh.read(3)
        if head != codecs.BOM_UTF8:
            fh.seek(0)
        while block := fh.read(1 << 16):
            nul = block.find(b"\0")
            pending = len(decoder.getstate()[0])
            bad: int | None = None
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad = max(exc.start - pending, 0)
            if nul >= 0 and (bad is None or nul <= bad):
                _csv_refusal(label, line + block[:nul].count(b"\n"), "legacy.csv_nul", "a NUL byte")
            if bad is not None:
                _csv_refusal(
                    label, line + block[:bad].count(b"\n"), "legacy.not_utf8", "bytes that are not UTF-8"
                )
            line += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            _csv_refusal(label, line, "legacy.not_utf8", "bytes that are not UTF-8")


def _csv_refusal(label: str, line: int, code: str, problem: str) -> None:
    message = f"{label} line {line}: {problem}; save the mục lục as a UTF-8 CSV"
    if code == "legacy.csv_nul":
        raise LegacyError(message, code="legacy.csv_nul", path=label, params={"file": label, "line": line})
    raise LegacyError(message, code="legacy.not_utf8", path=label, params={"file": label, "line": line})


def _read_csv(path: Path, label: str, catalogue: _Catalogue) -> None:
    try:
        _check_csv_bytes(path, label)
    except OSError as exc:
        raise LegacyError(
            f"{label} cannot be read: {exc}",
            code="legacy.not_spreadsheet",
            path=label,
            params={"file": label, "problem": str(exc)},
        ) from exc
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(SNIFF_CHARS)
            fh.seek(0)
            catalogue.read("", _Rows(csv.reader(fh, delimiter=_delimiter(sample))), SheetKind.MIXED)
    except csv.Error as exc:  # a NUL byte, a cell over the csv module's size limit
        raise LegacyError(
            f"{label} is not a readable CSV file: {exc}",
            code="legacy.not_spreadsheet",
            path=label,
            params={"file": label, "problem": str(exc)},
        ) from exc
    except UnicodeDecodeError as exc:
        raise LegacyError(
            f"{label} is not UTF-8 text: save the CSV as UTF-8",
            code="legacy.not_utf8",
            path=label,
            params={
                "file": label,
                "line": "—",
            },  # the streamed pre-check names the line; this is its fallback
        ) from exc
    except OSError as exc:
        raise LegacyError(
            f"{label} cannot be read: {exc}",
            code="legacy.not_spreadsheet",
            path=label,
            params={"file": label, "problem": str(exc)},
        ) from exc


def _delimiter(sample: str) -> str:
    """``;`` (what Excel writes where the decimal mark is a comma, as in Vietnam) or ``,``: the one
    that splits the most lines of the sample into the same number of fields."""
    lines = sample.splitlines()[:20]
    best, score = ",", -1
    for candidate in (";", ",", "\t"):
        counts = [len(row) for row in csv.reader(lines, delimiter=candidate) if any(row)]
        if not counts or max(counts) < 2:
            continue
        common = max(set(counts), key=counts.count)
        if counts.count(common) * common > score:
            best, score = candidate, counts.count(common) * common
    return best


# -------------------------------------------------------------------------------------- detection


def looks_like_muc_luc(path: Path, headers: HeaderTable | None = None) -> bool:
    """Whether ``path`` (``.xlsx`` or ``.csv``) has a mục lục header row in its first rows.

    Reads at most the first rows of each sheet (XLSX, read-only) or 64 KiB (CSV); three
    recognised headers, one of them a title, subject or code, are needed. The sheets found so
    are exactly those :func:`read_muc_luc` reads.
    """
    headers = headers or load_headers()
    try:
        if path.suffix.lower() == ".csv":
            # read leniently: a mục lục with a NUL byte or a stray non-UTF-8 byte is still a mục lục,
            # and reading it then refuses it naming the line, instead of a silent plain folder
            with path.open("rb") as raw:
                head = raw.read(SNIFF_CHARS)
            sample = head.decode("utf-8-sig", errors="replace").replace("\0", "")
            lines = sample.splitlines()[:HEADER_SCAN_ROWS]
            rows = csv.reader(lines, delimiter=_delimiter(sample))
            return any(_header_like(row, headers) for row in rows)
        book = _open_workbook(path, path.name)
        try:
            return bool(_plan(book, headers)[0])
        finally:
            book.close()
    except LegacyError as exc:
        # a workbook over the container limits may be a mục lục: reading it refuses it with the
        # reason, rather than storing it unread as payload of a plain folder
        return exc.code == "legacy.spreadsheet_too_large"
    except (OSError, UnicodeDecodeError, csv.Error, *_BROKEN_XLSX):
        return False


def _header_like(cells: Sequence[str], headers: HeaderTable) -> bool:
    keys = [
        headers.column(c, SheetKind.MIXED) or headers.column(c, SheetKind.DOSSIERS) if c else None
        for c in cells
    ]
    return _is_header([k for k in keys if k not in (None, "rowNo", "noElement")], minimum=3)
