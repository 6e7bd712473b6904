"""The PDF/A claim: what a PDF's XMP says it conforms to (ISO 19005 ``pdfaid`` schema)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from lxml import etree

PDFAID = "http://www.aiim.org/pdfa/ns/id/"
LEVELS = {1: {"A", "B"}, 2: {"A", "B", "U"}, 3: {"A", "B", "U"}, 4: {"", "E", "F"}}


@dataclass(frozen=True)
class Claim:
    """What the XMP says: ``part`` (1–4), ``conformance`` (upper case, ``""`` for none), ``rev``;
    ``raw_*`` as written (the identification check holds them to the allowed spelling)."""

    part: int
    conformance: str
    rev: str = ""
    raw_part: str = ""
    raw_conformance: str = ""

    @property
    def label(self) -> str:
        return f"{self.raw_part or self.part}{self.conformance}"

    @property
    def level_a(self) -> bool:
        return self.conformance == "A"

    @property
    def unicode(self) -> bool:
        return self.conformance in {"A", "U"} or self.part == 4


@dataclass(frozen=True)
class Failure:
    code: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)


def xmp_bytes(pdf: pikepdf.Pdf) -> bytes | None:
    meta = pdf.Root.get("/Metadata")
    if not isinstance(meta, pikepdf.Stream):
        return None
    try:
        return bytes(meta.read_bytes())
    except pikepdf.PdfError:
        return None


def parse_xmp(data: bytes) -> etree._Element | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data.strip(b"\x00 \r\n\t"), parser)
    except etree.XMLSyntaxError:
        return None


def _strings(result: object) -> list[str]:
    return [str(r) for r in result] if isinstance(result, list) else []


def read_claim(pdf: pikepdf.Pdf) -> Claim | None:
    """The claim from the catalog's XMP (element or attribute form), None when there is none."""
    data = xmp_bytes(pdf)
    if data is None or PDFAID.encode() not in data:
        return None
    root = parse_xmp(data)
    if root is None:
        match = re.search(rb"pdfaid:part\s*=\s*[\"'](\d)|<pdfaid:part>\s*(\d)", data)
        if not match:
            return None
        part = (match.group(1) or match.group(2)).decode()
        return Claim(int(part), "", raw_part=part)
    values: dict[str, str] = {}
    for key in ("part", "conformance", "rev"):
        found = _strings(root.xpath(f"//*[local-name()='{key}' and namespace-uri()='{PDFAID}']/text()"))
        found = found or _strings(root.xpath(f"//@*[local-name()='{key}' and namespace-uri()='{PDFAID}']"))
        if found:
            values[key] = str(found[0]).strip()
    raw = values.get("part", "")
    if not raw:
        return None
    part = int(raw) if raw.isdigit() else 0
    conformance = values.get("conformance", "")
    return Claim(part, conformance.upper(), values.get("rev", ""), raw, conformance)
