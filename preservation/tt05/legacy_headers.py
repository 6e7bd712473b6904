"""The column headers of spreadsheet catalogues, as data: ``config/tt05/legacy_headers.toml``.

A mục lục hồ sơ (NĐ 30/2020 Phụ lục V; TT 02/2019) has free Vietnamese headers, and each archive
words them its own way; the list of wordings grows with every new spreadsheet we meet, so it is
data an archivist can extend, not code. Headers are compared after
:func:`~preservation.tt05.mapping.header_key`. The file is checked when loaded (style guide item
5): every field must be a TT 05 element of the dossier or document table or one of the reader's
own keys (:data:`READER_KEYS`), and no header may mean two fields once compared, since the reader
would then guess.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from preservation.tt05.mapping import header_key
from preservation.tt05.tables import DEFAULT_DIR, TablesError, Variant, load_tables

__all__ = ["FILE_NAME", "READER_KEYS", "HeaderTable", "SheetKind", "load_headers"]

FILE_NAME = "legacy_headers.toml"

#: Fields the reader knows besides the TT 05 element names (see the file's comments).
READER_KEYS = frozenset(
    {
        "organId",
        "fileCatalog",
        "fileNotation",
        "creator",
        "files",
        "level",
        "rowNo",
        "docOrdinal",
        "numberNotation",
        "noElement",
    }
)


class SheetKind(Enum):
    DOSSIERS = "dossiers"
    DOCUMENTS = "documents"
    MIXED = "mixed"


@dataclass(frozen=True)
class HeaderTable:
    """The header wordings, keyed by :func:`header_key`.

    Attributes:
        columns: compared header → field.
        subheaders: compared sub-header (under a merged cell) → field.
        overrides: per sheet kind, compared header → field, taking precedence over ``columns``.
        sheet_prefixes: per sheet kind (dossiers, documents), the compared sheet-name prefixes
            (spaces removed).
    """

    columns: Mapping[str, str]
    subheaders: Mapping[str, str]
    overrides: Mapping[SheetKind, Mapping[str, str]]
    sheet_prefixes: Mapping[SheetKind, tuple[str, ...]]

    def column(self, text: str, kind: SheetKind) -> str | None:
        """The field a header cell names on a sheet of ``kind``, or ``None``."""
        key = header_key(text)
        return self.overrides.get(kind, {}).get(key) or self.columns.get(key)

    def subheader(self, text: str) -> str | None:
        return self.subheaders.get(header_key(text))

    def sheet_kind(self, name: str) -> SheetKind:
        """A sheet named like "Mục lục hồ sơ" holds dossiers, like "Văn bản" documents; others mix."""
        key = header_key(name).replace(" ", "")
        for kind in (SheetKind.DOSSIERS, SheetKind.DOCUMENTS):
            if key.startswith(self.sheet_prefixes.get(kind, ())):
                return kind
        return SheetKind.MIXED


@cache
def load_headers(folder: Path = DEFAULT_DIR) -> HeaderTable:
    """Read and check ``legacy_headers.toml`` in ``folder`` (once per folder and process).

    Raises:
        TablesError: the file cannot be read, a table or value has the wrong shape, a field is
            unknown, or a header means two fields; the message names the file and the key.
    """
    path = folder / FILE_NAME
    try:
        with path.open("rb") as fh:
            raw: dict[str, Any] = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TablesError(f"cannot read {path}: {exc}", path=str(path)) from exc
    tables = load_tables(folder)
    known = READER_KEYS | set(tables.table(Variant.HOSO_SIP).names) | set(tables.table(Variant.DOC_SIP).names)

    def fail(key: str, problem: str) -> TablesError:
        return TablesError(f"{path} [{key}]: {problem}", path=f"{path} [{key}]: {problem}")

    def strings(key: str, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise fail(key, "expected a list of non-empty strings")
        return value

    def table(key: str, value: object) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise fail(key, "expected a table")
        return value

    columns: dict[str, str] = {}
    for field, headers in table("columns", raw.get("columns")).items():
        if field not in known:
            raise fail(f"columns.{field}", "not a TT 05 element of hoso_sip/doc_sip nor a reader key")
        for header in strings(f"columns.{field}", headers):
            folded = header_key(header)
            if columns.setdefault(folded, field) != field:
                raise fail(f"columns.{field}", f"header {header!r} also means {columns[folded]!r}")

    def mapping(key: str, value: object) -> dict[str, str]:
        out: dict[str, str] = {}
        for header, field in table(key, value).items():
            if field not in known:
                raise fail(f"{key}.{header}", f"unknown field {field!r}")
            folded = header_key(header)
            if out.setdefault(folded, field) != field:
                raise fail(f"{key}.{header}", f"header also means {out[folded]!r}")
        return out

    overrides_raw = table("overrides", raw.get("overrides", {}))
    overrides = {
        kind: mapping(f"overrides.{kind.value}", overrides_raw.get(kind.value, {})) for kind in SheetKind
    }
    sheets = table("sheets", raw.get("sheets", {}))
    prefixes = {
        kind: tuple(
            header_key(n).replace(" ", "")
            for n in strings(f"sheets.{kind.value}", sheets.get(kind.value, []))
        )
        for kind in (SheetKind.DOSSIERS, SheetKind.DOCUMENTS)
    }
    return HeaderTable(
        columns=columns,
        subheaders=mapping("subheaders", raw.get("subheaders", {})),
        overrides=overrides,
        sheet_prefixes=prefixes,
    )
