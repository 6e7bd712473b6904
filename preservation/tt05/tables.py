"""The TT 05/2025 element tables and code lists, loaded from data files.

The rules of Thông tư 05/2025/TT-BNV Phụ lục I-V (element names, types, lengths, mandatory,
conditional and coded elements) live in ``config/tt05/elements.toml`` and the code lists in
``config/tt05/codelists.toml``: the circular's own tables disagree with each other (vn-standards.md
§1.2 note, open question 2), so a correction is a data change, never a code change. This module only
reads them; the caller says where the folder is (``preservation`` imports nothing of ours).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from preservation.errors import PreservationError
from preservation.shipped import shipped_dir

#: The shipped tables, beside the other shipped data (``config/``).
DEFAULT_DIR = shipped_dir("config") / "tt05"


class ElementType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CODE = "code"


class Requirement(StrEnum):
    MANDATORY = "M"
    OPTIONAL = "O"
    CONDITIONAL = "C"


class Variant(StrEnum):
    """One element table: which file of which package it describes."""

    HOSO_SIP = "hoso_sip"
    HOSO_AIP = "hoso_aip"
    TAILIEU_SIP = "tailieu_sip"
    TAILIEU_AIP = "tailieu_aip"
    DOC_SIP = "doc_sip"
    DOC_AIP = "doc_aip"
    DOC_DIP = "doc_dip"
    PIC_SIP = "pic_sip"
    MEDIA_SIP = "media_sip"
    DIP_REQUEST = "dip_request"


@dataclass(frozen=True)
class Code:
    code: str
    vi: str
    en: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeList:
    name: str
    vi: str
    en: str
    codes: tuple[Code, ...]

    def get(self, code: str) -> Code | None:
        return next((c for c in self.codes if c.code == code), None)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)


@dataclass(frozen=True)
class Condition:
    """A conditional (``C``) element is mandatory when ``element`` has one of ``values``."""

    element: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Element:
    name: str
    vi: str
    en: str
    type: ElementType
    required: Requirement
    max: int | None = None
    codelist: str | None = None
    multi: bool = False
    required_if: Condition | None = None
    intake: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    unverified: bool = False  # requiredness chosen by us: the sources do not give it


@dataclass(frozen=True)
class ElementTable:
    variant: Variant
    file: str  # file name pattern, e.g. "EAD.xml" or "EAD_doc_{name}.xml"
    vi: str
    en: str
    elements: tuple[Element, ...]

    def element(self, name: str) -> Element | None:
        return next((e for e in self.elements if e.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.elements)


@dataclass(frozen=True)
class Tables:
    """Every element table and code list, keyed by variant and code-list name."""

    variants: Mapping[Variant, ElementTable]
    codelists: Mapping[str, CodeList]

    def table(self, variant: Variant) -> ElementTable:
        return self.variants[variant]

    def codelist(self, name: str) -> CodeList:
        return self.codelists[name]

    def label(self, codelist: str, code: str, language: str = "vi") -> str:
        """The label of ``code`` in ``language``; the code itself when it is not in the list."""
        entry = self.codelists[codelist].get(code) if codelist in self.codelists else None
        if entry is None:
            return code
        return entry.vi if language == "vi" else entry.en


class TablesError(PreservationError):
    """The element tables or code lists are malformed: a shipped-data bug or a bad local edit."""

    code = "description.tables_invalid"


def load_tables(folder: Path = DEFAULT_DIR) -> Tables:
    """Read ``elements.toml`` and ``codelists.toml`` from ``folder`` and check they agree."""
    try:
        with (folder / "codelists.toml").open("rb") as fh:
            raw_lists: dict[str, Any] = tomllib.load(fh)
        with (folder / "elements.toml").open("rb") as fh:
            raw_elements: dict[str, Any] = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TablesError(f"cannot read the TT 05 tables in {folder}: {exc}", path=str(folder)) from exc
    codelists = {
        name: CodeList(
            name=name,
            vi=body["vi"],
            en=body["en"],
            codes=tuple(
                Code(code=c["code"], vi=c["vi"], en=c["en"], aliases=tuple(c.get("aliases", ())))
                for c in body["codes"]
            ),
        )
        for name, body in raw_lists.items()
    }
    variants: dict[Variant, ElementTable] = {}
    for key, body in raw_elements["variants"].items():
        variant = Variant(key)
        elements = tuple(_element(e, key) for e in body["elements"])
        for e in elements:
            if e.codelist is not None and e.codelist not in codelists:
                raise TablesError(f"{key}.{e.name}: unknown code list {e.codelist!r}", path=str(folder))
            if e.required_if is not None and e.required_if.element not in {x.name for x in elements}:
                raise TablesError(f"{key}.{e.name}: condition on unknown element", path=str(folder))
        variants[variant] = ElementTable(variant, body["file"], body["vi"], body["en"], elements)
    missing = set(Variant) - set(variants)
    if missing:
        raise TablesError(f"element tables missing: {sorted(missing)}", path=str(folder))
    return Tables(variants=variants, codelists=codelists)


@cache
def shipped_tables() -> Tables:
    """The tables in ``config/tt05``, read once per process: they are data shipped with the program
    (config is loaded once), and every ingest, export and report needs them."""
    return load_tables()


def _element(raw: Mapping[str, Any], variant: str) -> Element:
    try:
        cond = raw.get("required_if")
        return Element(
            name=raw["name"],
            vi=raw["vi"],
            en=raw["en"],
            type=ElementType(raw["type"]),
            required=Requirement(raw["required"]),
            max=raw.get("max"),
            codelist=raw.get("codelist"),
            multi=bool(raw.get("multi", False)),
            required_if=Condition(cond["element"], tuple(cond["in"])) if cond else None,
            intake=tuple(raw.get("intake", ())),
            formats=tuple(raw.get("formats", ())),
            unverified=bool(raw.get("nv", False)),
        )
    except (KeyError, ValueError) as exc:
        raise TablesError(f"{variant}: bad element {raw.get('name')!r}: {exc}") from exc
