"""A mục lục's rows assembled into hồ sơ and tài liệu: finding the header row of a sheet, placing
each cell, and collecting every unmapped field, whatever the file format the rows came from.

Apart from :mod:`preservation.tt05.muc_luc` (opening XLSX and CSV files and deciding what they are)
so that the assembly rules can be read, and tested, without the file handling around them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from preservation.tt05.legacy_build import RawField, RawRecord, file_code_of
from preservation.tt05.legacy_headers import HeaderTable, SheetKind
from preservation.tt05.mapping import LegacyError, Reason, cell_text, fold
from preservation.tt05.model import Unmapped

__all__ = ["HEADER_SCAN_ROWS", "SNIFF_CHARS", "Catalogue", "Rows", "is_header"]


_CONTENT_KEYS = frozenset({"title", "subject", "fileCode", "fileNotation", "typeName"})
_DOSSIER_ONLY = frozenset({"title", "startDate", "endDate", "totalDoc", "numberOfPaper", "creator"})
_DOCUMENT_ONLY = frozenset(
    {"docOrdinal", "typeName", "subject", "issuedDate", "numberNotation", "codeNumber"}
)
_LINK_KEYS = ("fileCode", "organId", "fileCatalog", "fileNotation")
HEADER_SCAN_ROWS = 30
EMPTY_ROWS_STOP = 1000  # a sheet whose dimension claims a million rows ends after this many empty ones
SNIFF_CHARS = 64 * 1024


def is_header(keys: Sequence[str | None], minimum: int = 2) -> bool:
    known = [k for k in keys if k is not None]
    return len(known) >= minimum and bool(_CONTENT_KEYS & set(known))


Row = tuple[int, list[str]]


class Rows:
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
    rows: Rows, kind: SheetKind, headers: HeaderTable, start: int = 1
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
        if not is_header(keys):
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


class Catalogue:
    """The dossiers read so far and what could not be mapped; documents find their dossier here."""

    def __init__(self, label: str, headers: HeaderTable) -> None:
        self.label = label
        self.headers = headers
        self.dossiers: list[RawRecord] = []
        self.lost: list[Unmapped] = []
        self._by_code: dict[str, RawRecord] = {}
        self._by_notation: dict[str, list[RawRecord]] = {}
        self._above: RawRecord | None = None  # the last dossier row of the sheet being read

    def read(self, sheet: str, rows: Rows, kind: SheetKind, start: int = 1) -> None:
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
