"""XML Schemas (XSD 1.0) for the TT 05/2025 description files, generated from the element tables.

The Cục's own ``EAD.xsd`` files are not in hand, and the circular's tables disagree with each other
(vn-standards.md §1.2 note, open question 2), so we ship schemas generated from our reading,
``config/tt05/elements.toml``: one per :class:`~preservation.tt05.tables.Variant`, in
``preservation/schemas/tt05/<variant>.xsd``. They give agencies and other tools a machine-readable
statement of what ``kholuu`` accepts, and let us validate the files we write.

XSD 1.0 cannot say "mandatory when another element has value x" (Phụ lục III: ``paperFileCode``
when ``confidenceLevel`` = 02) nor reject 31/02/2020: such elements are optional here, with an
``xs:documentation`` saying which condition :func:`preservation.tt05.ead_check.check_description`
enforces. Regenerate after editing the tables::

    python -m preservation.tt05.xsdgen --write

A test fails when the shipped files differ from the generated ones.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from preservation.tt05.ead import ROOT, SCHEMA_DIR, schema_path, validate_xsd
from preservation.tt05.tables import (
    DEFAULT_DIR,
    CodeList,
    Element,
    ElementTable,
    ElementType,
    Requirement,
    Tables,
    Variant,
    load_tables,
)

__all__ = [
    "OAI_NAMESPACE",
    "OAI_SCHEMA",
    "generate_all",
    "generate_oai_xsd",
    "generate_xsd",
    "main",
    "validate_xsd",
    "write_all",
]

XS = "http://www.w3.org/2001/XMLSchema"
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: XSD regular expressions of the date forms (calendar validity is checked by the checker only).
_DAY = "(0[1-9]|[12][0-9]|3[01])"
_MONTH = "(0[1-9]|1[0-2])"
_YEAR = "[0-9]{4}"
DATE_PATTERNS = {
    "DD/MM/YYYY": f"{_DAY}/{_MONTH}/{_YEAR}",
    "MM/YYYY": f"{_MONTH}/{_YEAR}",
    "YYYY": _YEAR,
}
#: Our namespace for the TT 05/2025 elements in an OAI-PMH harvest (``tt05_ead``): OAI-PMH wants
#: metadata in a namespace of its own, and the official EAD namespace of TT 05 is not published
#: (vn-standards.md §5). Element names and values are TT 05's, unchanged.
OAI_NAMESPACE = "urn:kholuu:tt05:ead"
OAI_SCHEMA = SCHEMA_DIR.parent / "oai" / "tt05_ead.xsd"
#: Any text with at least one non-blank character: what "present" means for a mandatory string.
_NOT_BLANK = r"[\s\S]*\S[\s\S]*"


def _xs(tag: str) -> str:
    return f"{{{XS}}}{tag}"


def _documentation(parent: etree._Element, vi: str, en: str) -> None:
    annotation = parent.find(_xs("annotation"))
    if annotation is None:
        annotation = etree.SubElement(parent, _xs("annotation"))
    for lang, text in (("vi", vi), ("en", en)):
        doc = etree.SubElement(annotation, _xs("documentation"))
        doc.set(f"{{{XML_NS}}}lang", lang)
        doc.text = text


def generate_xsd(table: ElementTable, tables: Tables) -> bytes:
    """The XSD of one element table: root ``ead``, an ``xs:all`` of the table's elements.

    Deterministic: the same tables give the same bytes (elements and codes in table order).
    """
    schema = etree.Element(_xs("schema"), nsmap={"xs": XS})
    schema.set("elementFormDefault", "unqualified")
    _documentation(
        schema,
        f"{table.vi}: tệp {table.file} theo Thông tư 05/2025/TT-BNV. Sinh tự động từ "
        f"config/tt05/elements.toml (python -m preservation.tt05.xsdgen --write); không sửa tay.",
        f"{table.en}: file {table.file} of Circular 05/2025/TT-BNV. Generated from "
        f"config/tt05/elements.toml (python -m preservation.tt05.xsdgen --write); do not edit.",
    )
    root = etree.SubElement(schema, _xs("element"), name=ROOT)
    group = etree.SubElement(etree.SubElement(root, _xs("complexType")), _xs("all"))
    for element in table.elements:
        group.append(_element(element, table, tables))
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _element(element: Element, table: ElementTable, tables: Tables) -> etree._Element:
    node = etree.Element(_xs("element"), name=element.name)
    mandatory = element.required is Requirement.MANDATORY
    if not mandatory:
        node.set("minOccurs", "0")
    _documentation(node, element.vi, element.en)
    condition = element.required_if
    if element.required is Requirement.CONDITIONAL and condition is not None:
        other = table.element(condition.element)
        values = ", ".join(condition.values)
        _documentation(
            node,
            f"Bắt buộc khi {condition.element} ({other.vi if other else ''}) là {values}: XSD 1.0 không "
            f"diễn đạt được điều kiện này, kholuu kiểm tra (tt05.conditional).",
            f"Mandatory when {condition.element} ({other.en if other else ''}) is {values}: XSD 1.0 "
            f"cannot express this, kholuu checks it (tt05.conditional).",
        )
    if element.unverified:
        _documentation(
            node,
            "Tính bắt buộc do Kho Lưu chọn: văn bản nguồn không nêu.",
            "Requiredness chosen by Kho Lưu: the sources do not give it.",
        )
    simple = etree.SubElement(node, _xs("simpleType"))
    _restriction(simple, element, tables, mandatory)
    return node


def _restriction(simple: etree._Element, element: Element, tables: Tables, mandatory: bool) -> None:
    kind = element.type
    # Coded and numeric values are tokens: blanks around them do not count, as in the checker.
    base = "xs:string" if kind is ElementType.STRING else "xs:token"
    restriction = etree.SubElement(simple, _xs("restriction"), base=base)

    def facet(tag: str, value: str) -> etree._Element:
        return etree.SubElement(restriction, _xs(tag), value=value)

    if kind is ElementType.STRING:
        if mandatory:
            facet("pattern", _NOT_BLANK)
        if element.max is not None:
            facet("maxLength", str(element.max))
    elif kind is ElementType.NUMBER:
        facet("pattern", "[0-9]+" if mandatory else "[0-9]*")
        if element.max is not None:
            facet("maxLength", str(element.max))
    elif kind is ElementType.BOOLEAN:
        for value in ("0", "1") if mandatory else ("", "0", "1"):
            facet("enumeration", value)
    elif kind is ElementType.DATE:
        forms = "|".join(f"({DATE_PATTERNS[f]})" for f in element.formats or tuple(DATE_PATTERNS))
        facet("pattern", f"({forms})" if mandatory else f"({forms})?")
    elif kind is ElementType.CODE and element.codelist is not None:
        codelist = tables.codelist(element.codelist)
        if element.multi:
            _documentation(restriction, _code_text(codelist, "vi"), _code_text(codelist, "en"))
            one = "(" + "|".join(codelist.values) + ")"
            many = rf"{one}(\s*[,;]\s*{one})*"
            facet("pattern", many if mandatory else f"({many})?")
            if element.max is not None:
                facet("maxLength", str(element.max))
        else:
            if not mandatory:
                facet("enumeration", "")
            for code in codelist.codes:
                _documentation(facet("enumeration", code.code), code.vi, code.en)
    elif element.max is not None:  # a code element without a code list: a length is all we know
        facet("maxLength", str(element.max))


def _code_text(codelist: CodeList, language: str) -> str:
    labels = "; ".join(f"{c.code} {c.vi if language == 'vi' else c.en}" for c in codelist.codes)
    if language == "vi":
        return f"Một hoặc nhiều mã, cách nhau bởi “,” hoặc “;”: {labels}"
    return f"One or more codes separated by “,” or “;”: {labels}"


def generate_oai_xsd(tables: Tables) -> bytes:
    """The XSD of the ``tt05_ead`` harvest format: root ``ead`` in :data:`OAI_NAMESPACE`, any of the
    elements of any variant, each at most as its tables allow.

    A harvested hồ sơ or tài liệu shows only what the public may read, so no element is
    mandatory here; an element that several variants share gets the restriction all of them
    accept only when they agree, else plain text (the AIP's own EAD.xml was validated against
    its variant's schema at ingest).
    """
    seen: dict[str, Element] = {}
    shared: dict[str, bool] = {}
    for variant in Variant:
        for element in tables.table(variant).elements:
            first = seen.setdefault(element.name, element)
            same = (first.type, first.codelist, first.max, first.formats, first.multi) == (
                element.type,
                element.codelist,
                element.max,
                element.formats,
                element.multi,
            )
            shared[element.name] = shared.get(element.name, True) and same
    schema = etree.Element(_xs("schema"), nsmap={"xs": XS, "tt05": OAI_NAMESPACE})
    schema.set("targetNamespace", OAI_NAMESPACE)
    schema.set("elementFormDefault", "qualified")
    _documentation(
        schema,
        "Định dạng tt05_ead của cổng OAI-PMH Kho Lưu: các yếu tố Thông tư 05/2025/TT-BNV của hồ sơ, "
        "tài liệu công khai. Sinh tự động (python -m preservation.tt05.xsdgen --write); không sửa tay.",
        "The tt05_ead format of Kho Lưu's OAI-PMH endpoint: the Circular 05/2025/TT-BNV elements of a "
        "public dossier or document. Generated (python -m preservation.tt05.xsdgen --write); do not edit.",
    )
    root = etree.SubElement(schema, _xs("element"), name=ROOT)
    choice = etree.SubElement(
        etree.SubElement(root, _xs("complexType")), _xs("choice"), minOccurs="0", maxOccurs="unbounded"
    )
    for name, element in seen.items():
        node = etree.SubElement(choice, _xs("element"), name=name)
        _documentation(node, element.vi, element.en)
        simple = etree.SubElement(node, _xs("simpleType"))
        if shared[name]:
            _restriction(simple, element, tables, mandatory=False)
        else:
            etree.SubElement(simple, _xs("restriction"), base="xs:string")
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def generate_all(tables: Tables) -> dict[Variant, bytes]:
    """The XSD of every variant."""
    return {variant: generate_xsd(tables.table(variant), tables) for variant in Variant}


def write_all(tables: Tables, root: Path = SCHEMA_DIR.parent) -> list[Path]:
    """Write every generated XSD under ``root`` (``tt05/<variant>.xsd``, ``oai/tt05_ead.xsd``);
    returns the files that changed."""
    changed: list[Path] = []
    for target, content in _targets(tables, root):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != content:
            target.write_bytes(content)
            changed.append(target)
    return changed


def _targets(tables: Tables, root: Path = SCHEMA_DIR.parent) -> list[tuple[Path, bytes]]:
    """Every generated schema and where it lives: the variants' and the OAI harvest format's."""
    found = [(root / "tt05" / schema_path(v).name, content) for v, content in generate_all(tables).items()]
    return [*found, (root / "oai" / OAI_SCHEMA.name, generate_oai_xsd(tables))]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m preservation.tt05.xsdgen [--write] [--tables DIR]``: regenerate or check."""
    parser = argparse.ArgumentParser(prog="python -m preservation.tt05.xsdgen", description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the XSDs (default: only check)")
    parser.add_argument("--tables", type=Path, default=DEFAULT_DIR, help="folder of elements.toml")
    args = parser.parse_args(argv)
    tables = load_tables(args.tables)
    if args.write:
        for path in write_all(tables):
            print(f"wrote {path}")
        return 0
    stale = [
        target.name
        for target, content in _targets(tables)
        if not target.exists() or target.read_bytes() != content
    ]
    for name in stale:
        print(f"out of date: {name}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
