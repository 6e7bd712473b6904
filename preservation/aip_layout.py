"""Where each submitted file goes in an AIP, and how the METS types it.

The folder layout is the one in :mod:`preservation.aip`'s docstring (E-ARK CSIP 2.0.4 as TT 05/2025
uses it); the same rules place and type a file added to a later version
(:mod:`preservation.aip_update`), so they live apart from the builder.
"""

from __future__ import annotations

from preservation.formats import FormatIdentification
from preservation.package import MetadataFile, MetadataRole

XML_MIME = "application/xml"


def metadata_target(m: MetadataFile) -> str:
    """Where a submitted non-payload file goes in the package (the layout in :mod:`preservation.aip`)."""
    name = m.name.text
    prefix = ""
    rest = name
    if m.representation is not None:
        prefix = f"representations/{m.representation}/"
        rest = name.removeprefix(prefix)
    if m.role is MetadataRole.SUBMISSION:
        return f"metadata/other/submission/{name}"
    if m.role is MetadataRole.DESCRIPTIVE:
        return f"{prefix}metadata/descriptive/{rest.removeprefix('metadata/descriptive/')}"
    if m.role is MetadataRole.PRESERVATION:
        return f"{prefix}metadata/preservation/submission/{rest.removeprefix('metadata/preservation/')}"
    if m.role is MetadataRole.DOCUMENTATION:
        return f"{prefix}documentation/{rest.removeprefix('documentation/')}"
    if m.role is MetadataRole.SCHEMA:
        return f"{prefix}schemas/submission/{rest.removeprefix('schemas/')}"
    return f"{prefix}metadata/other/{rest.removeprefix('metadata/other/').removeprefix('metadata/')}"


def mime_type(rel: str) -> str:
    lower = rel.lower()
    if lower.endswith((".xml", ".xsd")):
        return XML_MIME
    if lower.endswith(".txt"):
        return "text/plain"
    if lower.endswith(".pdf"):
        return "application/pdf"
    return "application/octet-stream"


def md_type(rel: str) -> str:
    lower = rel.lower().rsplit("/", 1)[-1]
    if "premis" in lower:
        return "PREMIS"
    if lower.startswith("ead"):
        return "EAD"
    if lower in {"dc.xml", "dublincore.xml"}:
        return "DC"
    return "OTHER"


def other_mdtype(rel: str) -> str:
    """Submitted metadata of no type METS knows is marked SUBMITTED (OTHERMDTYPE)."""
    return "" if md_type(rel) != "OTHER" else "SUBMITTED"


def payload_mime(ident: FormatIdentification | None) -> str:
    """The MIME type format identification found (its first, when it lists several)."""
    if ident is not None and ident.chosen.mime:
        return ident.chosen.mime.split(",")[0].strip()
    return "application/octet-stream"
