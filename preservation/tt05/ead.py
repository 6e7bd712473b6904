"""TT 05/2025 description files (``EAD.xml``, ``EAD_doc_*``, ``EAD_pic_*``, ``EAD_media_*``): read,
check, write.

Thông tư 05/2025/TT-BNV Phụ lục I-V call these files "EAD", but they are not EAD 2002/EAD3: they are
flat XML, a root element and one child element per row of the annex's table, in any order (the Cục's
sample schema uses ``xs:all``; vn-standards.md §1.2-1.3). The rules of every row (type, length,
mandatory, conditional, code list) are data in ``config/tt05/elements.toml``; this module applies
them and never names an element itself, except the start/end date pair whose order Phụ lục I/III
imply.

The official root element name and namespace are not known (vn-standards.md §5, open question 2), so
reading ignores both; writing uses :data:`ROOT` without a namespace.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import NoReturn

from lxml import etree

from preservation.eark_sip import safe_parser
from preservation.errors import ErrorKind, InvalidPackageError, PreservationError
from preservation.findings import Finding, Severity
from preservation.names import nfc
from preservation.tt05.model import Description
from preservation.tt05.tables import (
    Tables,
    Variant,
    shipped_tables,
)

__all__ = [
    "ROOT",
    "SCHEMA_DIR",
    "DescriptionWriteError",
    "ParsedDescription",
    "description_date",
    "parse_description",
    "schema_path",
    "shipped_tables",
    "split_codes",
    "validate_xsd",
    "write_description",
]

#: Root element of the files we write. The circular's XML skeletons show the children but the
#: official root name and namespace are not in hand (open question 2); "ead" follows the file
#: names (EAD.xml, EAD_doc_*), and no namespace keeps the files readable by tools that expect
#: the Cục's unqualified child elements. Reading accepts any root name and namespace.
ROOT = "ead"

#: The XSDs generated from the element tables (``python -m preservation.tt05.xsdgen --write``).
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "tt05"

#: Forms a TT 05 date may take (Phụ lục I-V: SIP ``DD/MM/YYYY``; AIP also ``MM/YYYY`` and ``YYYY``).
DATE_FORMS: Mapping[str, re.Pattern[str]] = {
    "DD/MM/YYYY": re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})"),
    "MM/YYYY": re.compile(r"([0-9]{2})/([0-9]{4})"),
    "YYYY": re.compile(r"([0-9]{4})"),
}

#: Date elements whose order is implied by their meaning (Phụ lục I/III rows 6-7: thời gian bắt
#: đầu / kết thúc of the dossier's documents).
DATE_PAIRS: tuple[tuple[str, str], ...] = (("startDate", "endDate"),)

BOOLEAN_VALUES = ("0", "1")
CODE_SEPARATORS = re.compile(r"[,;]")


@dataclass(frozen=True)
class ParsedDescription:
    """A description file as read, with what the reader noticed but could not put into values.

    Attributes:
        description: the values of the variant's elements (NFC, stripped; empty ones left out).
        unknown: child elements not in the variant's table, in file order, each once.
        repeated: elements that appear more than once (the first occurrence is kept).
        empty: elements present but empty or whitespace only.
        unknown_values: the text of each unknown element (NFC), so that nothing an agency sent
            is lost to the catalog even when the table has no place for it.
    """

    description: Description
    unknown: tuple[str, ...] = ()
    repeated: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()
    unknown_values: Mapping[str, str] = field(default_factory=dict)


class DescriptionWriteError(PreservationError):
    """A description cannot be written as a TT 05 file (a mapping bug or unusable source text)."""

    code = "tt05.write_invalid"
    kind = ErrorKind.REFUSED


# ----------------------------------------------------------------------------------------- reading


def parse_description(
    path: Path, variant: Variant, where: str, *, tables: Tables | None = None
) -> ParsedDescription:
    """Read a flat TT 05 description file, whatever its root element is called.

    Args:
        path: the file on disk.
        variant: which element table the file follows (the caller knows from the package type
            and the file name).
        where: the file's path inside the package, used in messages.
        tables: the element tables that say which elements are known; the shipped ones when
            not given.

    Returns:
        The values of the table's elements and what else the file holds; nothing is judged here
        (see :func:`preservation.tt05.ead_check.check_description`).

    Raises:
        InvalidPackageError: ``tt05.not_xml`` (not well-formed, unreadable), ``tt05.doctype`` (a DTD:
            never needed, and the door to entity bombs and external entities), ``tt05.not_flat``
            (nested elements or text outside the elements).
    """
    try:
        tree = etree.parse(str(path), safe_parser())
    except (etree.XMLSyntaxError, OSError) as exc:
        problem = str(exc).replace(str(path), where)  # no quarantine path in what users read
        raise InvalidPackageError(
            f"{where} is not well-formed XML: {problem}",
            code="tt05.not_xml",
            path=where,
            params={"file": where, "problem": problem},
        ) from exc
    if tree.docinfo.internalDTD is not None or tree.docinfo.public_id:  # any <!DOCTYPE>
        raise InvalidPackageError(
            f"{where} declares a DTD; TT 05 description files must not (entities are refused)",
            code="tt05.doctype",
            path=where,
            params={"file": where},
        )
    root = tree.getroot()
    if (root.text or "").strip():
        _not_flat(where, etree.QName(root).localname, "text directly inside the root element")

    table_names = set((tables or shipped_tables()).table(variant).names)
    values: dict[str, str] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    unknown_values: dict[str, str] = {}
    repeated: list[str] = []
    empty: list[str] = []
    for child in root:
        if (child.tail or "").strip():
            _not_flat(where, etree.QName(root).localname, "text between elements")
        if not isinstance(child.tag, str):
            continue  # comment or processing instruction
        name = etree.QName(child).localname
        if any(isinstance(grandchild.tag, str) for grandchild in child):
            _not_flat(where, name, "it contains elements")
        value = nfc("".join(str(text) for text in child.itertext()).strip())
        if name in seen:
            if name not in repeated:
                repeated.append(name)
            continue
        seen.add(name)
        if name not in table_names:
            unknown.append(name)
            unknown_values[name] = value
        elif not value:
            empty.append(name)
        else:
            values[name] = value
    return ParsedDescription(
        description=Description(variant=variant, path=where, values=values),
        unknown=tuple(unknown),
        repeated=tuple(repeated),
        empty=tuple(empty),
        unknown_values=unknown_values,
    )


def _not_flat(where: str, element: str, problem: str) -> NoReturn:
    raise InvalidPackageError(
        f"{where} is not a flat TT 05 description file: <{element}>: {problem}",
        code="tt05.not_flat",
        path=where,
        params={"file": where, "element": element, "problem": problem},
    )


# ---------------------------------------------------------------------------------------- checking


def split_codes(value: str) -> list[str]:
    """The codes of a multi-code element (``language``): separated by "," or ";", blanks dropped.

    ``"01, 02;05"`` → ``["01", "02", "05"]`` (Phụ lục III row 5: one or more languages).
    """
    return [part.strip() for part in CODE_SEPARATORS.split(value) if part.strip()]


def description_date(value: str) -> tuple[date, date] | None:
    """The first and last day a TT 05 date denotes, or ``None`` when it is not a valid date.

    ``"05/03/2020"`` is one day, ``"03/2020"`` the month, ``"2020"`` the year: AIP dates may be
    written at the precision the records allow (Phụ lục I: ``MM/YYYY`` or ``YYYY``).
    """
    text = value.strip()
    try:
        if match := DATE_FORMS["DD/MM/YYYY"].fullmatch(text):
            day = date(int(match[3]), int(match[2]), int(match[1]))
            return day, day
        if match := DATE_FORMS["MM/YYYY"].fullmatch(text):
            year, month = int(match[2]), int(match[1])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        if match := DATE_FORMS["YYYY"].fullmatch(text):
            year = int(match[1])
            return date(year, 1, 1), date(year, 12, 31)
    except ValueError:  # 31/02/2020, month 13, year 0000
        return None
    return None


def date_form(value: str) -> str | None:
    return next((form for form, pattern in DATE_FORMS.items() if pattern.fullmatch(value)), None)


def write_description(description: Description, tables: Tables, path: Path) -> None:
    """Write a description as a flat TT 05 file: UTF-8, XML declaration, elements in table order.

    Only elements with a value are written (an empty element says nothing a missing one does not,
    and the Cục's XSD would reject an empty coded element). Text is stripped and NFC. The caller
    handles atomicity (write to a staging path, then rename).

    Raises:
        DescriptionWriteError: ``tt05.write_unknown_element`` when a value is for an element the
            variant does not have (a mapping bug: nothing is dropped silently), or
            ``tt05.write_bad_text`` when a value holds characters XML 1.0 cannot carry (control
            characters pasted from old spreadsheets).
    """
    table = tables.table(description.variant)
    extra = sorted(set(description.values) - set(table.names))
    if extra:
        raise DescriptionWriteError(
            f"{description.path}: {', '.join(extra)} are not elements of {table.file} ({table.en})",
            code="tt05.write_unknown_element",
            path=description.path,
            params={"file": description.path, "element": extra[0], "elements": tuple(extra)},
        )
    root = etree.Element(ROOT)
    for element in table.elements:
        value = nfc(description.get(element.name).strip())
        if not value:
            continue
        child = etree.SubElement(root, element.name)
        try:
            child.text = value
        except ValueError as exc:
            raise DescriptionWriteError(
                f"{description.path}: {element.name} cannot be written as XML: {exc}",
                code="tt05.write_bad_text",
                path=description.path,
                params={
                    "file": description.path,
                    "element": element.name,
                    "element_vi": element.vi,
                    "element_en": element.en,
                    "problem": str(exc),
                },
            ) from exc
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# -------------------------------------------------------------------------------------- XML Schema


def schema_path(variant: Variant) -> Path:
    """The shipped XSD of a variant."""
    return SCHEMA_DIR / f"{variant.value}.xsd"


@cache
def _schema(variant: Variant) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schema_path(variant)), safe_parser()))


def validate_xsd(path: Path, variant: Variant, *, where: str | None = None) -> list[Finding]:
    """Every violation of the variant's generated XSD, as findings ``tt05.schema``.

    The XSD says less than :func:`preservation.tt05.ead_check.check_description` (no conditions, no
    calendar check) and
    expects our unqualified root ``ead``: it is for files we write and for agencies that want to
    test their export against our reading of the circular, not a substitute for the checker.

    Args:
        path: the file on disk.
        variant: which table's schema to use.
        where: the file's path inside the package, for messages (default: ``path``).
    """
    name = where or str(path)
    try:
        tree = etree.parse(str(path), safe_parser())
    except (etree.XMLSyntaxError, OSError) as exc:
        problem = str(exc).replace(str(path), name)
        return [
            Finding(
                code="tt05.not_xml",
                severity=Severity.ERROR,
                where=name,
                message=f"{name} is not well-formed XML: {problem}",
                params={"file": name, "path": name, "problem": problem},
            )
        ]
    schema = _schema(variant)
    if schema.validate(tree):
        return []
    return [
        Finding(
            code="tt05.schema",
            severity=Severity.ERROR,
            where=f"{name}:{error.line}",
            message=f"{name} line {error.line}: {error.message}",
            params={
                "file": name,
                "line": error.line,
                "problem": error.message,
                "variant": variant.value,
                "schema": schema_path(variant).name,
            },
        )
        for error in schema.error_log  # type: ignore[attr-defined]
    ]
