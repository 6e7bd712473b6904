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
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from preservation.container import ContainerLimitError, check_zip_container
from preservation.tt05.legacy_build import build_import
from preservation.tt05.legacy_headers import HeaderTable, SheetKind, load_headers
from preservation.tt05.mapping import LegacyDossier, LegacyError, LegacyImport, Reason, cell_text
from preservation.tt05.model import RecordSource, Unmapped
from preservation.tt05.muc_luc_rows import HEADER_SCAN_ROWS, SNIFF_CHARS, Catalogue, Rows, is_header
from preservation.tt05.tables import Tables

__all__ = ["LegacyDossier", "LegacyImport", "looks_like_muc_luc", "read_muc_luc"]


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
    catalogue = Catalogue(label, headers or load_headers())
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


def _read_xlsx(path: Path, label: str, catalogue: Catalogue) -> None:
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
                rows = Rows(merged)
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


def _read_csv(path: Path, label: str, catalogue: Catalogue) -> None:
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
            catalogue.read("", Rows(csv.reader(fh, delimiter=_delimiter(sample))), SheetKind.MIXED)
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
    return is_header([k for k in keys if k not in (None, "rowNo", "noElement")], minimum=3)
