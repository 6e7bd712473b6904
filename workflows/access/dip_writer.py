"""Writing the DIP folder of TT 05/2025 Phụ lục V from the released documents and their payload.

Separate from :mod:`workflows.access.dip` (the access request and its event) because this is the
package's build: the descriptions, METS, PREMIS and schemas, each checked against its XSD or table
as it is written, and the whole against CSIP, so an invalid DIP is never shipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lxml import etree

from preservation import xsd
from preservation.aip import folder_name
from preservation.csip import validate_package
from preservation.events import Event
from preservation.findings import Finding
from preservation.fixity import digest_file
from preservation.mets import Header, IdSource, Ref, representation_mets, root_mets, write
from preservation.premis import PremisDocument, PremisIntellectualEntity, premis_document
from preservation.tt05.archival import SCHEMA_NAMES, description_file_name
from preservation.tt05.ead import (
    ParsedDescription,
    schema_path,
    validate_xsd,
    write_description,
)
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import Description, DocumentKind, doc_code
from preservation.tt05.tables import Tables, Variant
from repository import __version__
from repository.catalog.records import Document, Dossier
from repository.i18n import Translator
from repository.settings import Settings
from workflows.access.access_rules import Selection, document_code
from workflows.access.errors import ExportError, errors_of, finding_detail
from workflows.jobs.envelope import SOFTWARE_NAME

#: TT 05/2025 (vn-standards.md §2.3): a DIP's METS names the E-ARK DIP profile.
DIP_PROFILE = "https://earkdip.dilcis.eu/profile/E-ARK-DIP.xml"
REQUEST_PATH = "metadata/descriptive/EAD.xml"
PREMIS_PATH = "metadata/preservation/PREMIS.xml"
XML_MIME = "application/xml"

#: Phụ lục V gives a DIP table for EAD_doc only (doc_dip); photos and recordings keep their table.
_DIP_VARIANT = {
    DocumentKind.DOC: Variant.DOC_DIP,
    DocumentKind.PIC: Variant.PIC_SIP,
    DocumentKind.MEDIA: Variant.MEDIA_SIP,
}


@dataclass(frozen=True)
class StoredFile:
    """A file of the exported AIP version as the catalog records it (``path`` inside the package)."""

    path: str
    sha256: str
    uuid: str | None
    representation: str | None
    mime: str | None
    derived_from: str = ""  # a derivative's source file uuid (preservation planning)
    role: str = ""  # the catalog's FileRole value: original, metadata, package, derivative


def access_copies(files: Mapping[str, StoredFile]) -> dict[str, StoredFile]:
    """For each original (by uuid), what a reader gets: its access copy (``<rep>-access``), else a
    preservation copy (``<rep>-preservation``: an office document made PDF/A serves readers too),
    else nothing (the original itself goes). docs/planning.md "Normalization at ingest"."""
    best: dict[str, StoredFile] = {}
    for f in files.values():
        if not f.derived_from or not f.representation:
            continue
        rank = 0 if f.representation.endswith("-access") else 1
        held = best.get(f.derived_from)
        if held is None or rank < (0 if (held.representation or "").endswith("-access") else 1):
            best[f.derived_from] = f
    return best


def dip_description(dossier: Dossier, document: Document, tables: Tables, path: str) -> Description:
    """A released document's DIP description, from the catalog's record of every element it had.

    doc_dip (Phụ lục V) is the SIP set with docCode replaced by arcDocCode and no organName;
    arcDocCode = mã cơ quan lưu trữ + mã hồ sơ + số thứ tự (7 digits) = arcFileCode + ordinal
    (vn-standards.md §1.1). Thời hạn lưu trữ, absent from AIP descriptions, defaults to the hồ
    sơ's (§1.3 row 3).
    """
    kind = DocumentKind(document.kind)
    variant = _DIP_VARIANT[kind]
    elements = {k: str(v) for k, v in (document.elements or {}).items() if v is not None}
    values = dict(elements)
    arc_file_code = elements.get("arcFileCode") or str((dossier.elements or {}).get("arcFileCode") or "")
    values["arcDocCode"] = elements.get("arcDocCode") or doc_code(
        arc_file_code or dossier.code, document.ordinal
    )
    if not values.get("maintenance"):
        values["maintenance"] = dossier.maintenance
    table = tables.table(variant)
    return Description(
        variant=variant, path=path, values={n: values[n] for n in table.names if values.get(n)}
    )


class DipWriter:
    """Writes the DIP folder (TT 05/2025 Phụ lục V; E-ARK CSIP with ``OAISPACKAGETYPE="DIP"``):

    ``METS.xml``, ``metadata/descriptive/EAD.xml`` (the request), ``metadata/preservation/
    PREMIS.xml`` (the dissemination event), ``representations/<rep>/{METS.xml, data/…,
    metadata/descriptive/EAD_doc_*.xml}``, ``schemas/``. Every file's SHA-256 is kept as it is
    written so the ZIP step can check it again.
    """

    def __init__(
        self, settings: Settings, tables: Tables, dip_id: str, parent: Path, now: datetime, zone: tzinfo
    ) -> None:
        self.settings = settings
        self.tables = tables
        self.dip_id = dip_id
        self.folder = parent / folder_name(dip_id)
        self.now = now
        self.zone = zone
        self.ids = IdSource()
        self.digests: dict[str, str] = {}
        self.index: list[tuple[str, str, str]] = []  # (document code, title, file in the DIP)

    def write(
        self,
        staged: Path,
        version: int,
        files: Mapping[str, StoredFile],
        selection: Selection,
        request: Description,
        event: Event,
    ) -> tuple[Path, dict[str, str]]:
        """Write the package; returns its folder and every file's SHA-256.

        ``staged`` is the AIP version as fetched (verified); the released payload files are moved
        out of it. ``files`` is the catalog's list of that version, by path.

        Raises:
            ExportError: ``export.file_not_in_version`` (a document's file is not in the exported
                version), ``export.description_invalid`` and ``export.dip_invalid`` (our own
                output fails its table, its XSD or CSIP: a bug, never shipped).
        """
        self.folder.mkdir(parents=True)
        self._description(request, self.folder / REQUEST_PATH)
        variants = {request.variant}
        reps = self._released(staged, version, files, selection, variants)
        rep_refs = self._representations(reps)
        documentation = [self._index_page(request)]
        self._premis(request, event)
        schema_refs = [self._copy(p, f"schemas/{p.name}") for p in xsd.schema_files()]
        for name in sorted({SCHEMA_NAMES[v] for v in variants}):
            variant = next(v for v in sorted(variants) if SCHEMA_NAMES[v] == name)
            schema_refs.append(self._copy(schema_path(variant), f"schemas/{name}"))
        tree = root_mets(
            self._header(self.dip_id, self._label(request)),
            ids=self.ids,
            descriptive=[self._ref(REQUEST_PATH, mdtype="EAD")],
            digiprov=[self._ref(PREMIS_PATH, mdtype="PREMIS")],
            source=[],
            documentation=documentation,
            schemas=schema_refs,
            representations=rep_refs,
        )
        self._xml(tree, "METS.xml")
        self._ref("METS.xml")  # keeps its digest for the ZIP step
        problems = errors_of(validate_package(self.folder, expected_type="DIP", verify_checksums=False))
        if problems:
            raise _invalid("export.dip_invalid", problems)
        return self.folder, dict(self.digests)

    def _released(
        self,
        staged: Path,
        version: int,
        files: Mapping[str, StoredFile],
        selection: Selection,
        variants: set[Variant],
    ) -> dict[str, tuple[list[Ref], list[Ref]]]:
        """Each released document's payload moved in and its description written, by representation.

        Returns rep -> (data references, descriptive references); adds each description's variant
        to ``variants`` (their schemas go into the package).
        """
        if selection.whole_aip:
            return self._whole_aip(staged, files)
        by_uuid = {f.uuid: f for f in files.values() if f.uuid}
        readers_copy = access_copies(files)
        reps: dict[str, tuple[list[Ref], list[Ref]]] = {}  # rep -> (data, descriptive)
        taken: dict[str, set[str]] = {}
        moved: set[str] = set()
        for dossier, document in selection.released:
            stored = []
            for link in document.files:
                f = by_uuid.get(link.file_uuid)
                if f is None:
                    raise ExportError(
                        f"file {link.path} of document {document_code(document)} is not in version {version}",
                        code="export.file_not_in_version",
                        params={
                            "path": link.path,
                            "code": document_code(document),
                            "version": version,
                        },
                    )
                stored.append((link.path, readers_copy.get(link.file_uuid, f)))
                self.index.append(
                    (
                        document_code(document),
                        str(document.title or ""),
                        readers_copy.get(link.file_uuid, f).path,
                    )
                )
            rep = stored[0][1].representation if stored and stored[0][1].representation else "rep1"
            data_refs, desc_refs = reps.setdefault(rep, ([], []))
            for _, f in stored:
                if f.path not in moved:
                    moved.add(f.path)
                    data_refs.append(self._data(staged, f, rep))
            names = taken.setdefault(rep, set())
            first = stored[0][0] if stored else str(document.ordinal)
            file_name = description_file_name(DocumentKind(document.kind), first, names)
            names.add(file_name)
            rel = f"representations/{rep}/metadata/descriptive/{file_name}"
            description = dip_description(dossier, document, self.tables, rel)
            self._description(description, self.folder / rel)
            variants.add(description.variant)
            desc_refs.append(self._ref(rel, f"representations/{rep}/", mdtype="EAD"))
        return reps

    def _whole_aip(
        self, staged: Path, files: Mapping[str, StoredFile]
    ) -> dict[str, tuple[list[Ref], list[Ref]]]:
        """An AIP without TT 05 descriptions, released whole (access_rules.Selection.whole_aip):
        each original payload file's reader's copy, by representation, and no per-document EAD
        (there is none to clone; the request's EAD.xml still describes the DIP)."""
        readers_copy = access_copies(files)
        reps: dict[str, tuple[list[Ref], list[Ref]]] = {}
        for original in sorted((f for f in files.values() if f.role == "original"), key=lambda f: f.path):
            f = readers_copy.get(original.uuid or "", original)
            rep = f.representation or "rep1"
            reps.setdefault(rep, ([], []))[0].append(self._data(staged, f, rep))
            name = original.path.rsplit("/", 1)[-1]
            self.index.append((name, "", f.path))
        return reps

    def _representations(self, reps: dict[str, tuple[list[Ref], list[Ref]]]) -> list[tuple[str, Ref]]:
        """Each representation's METS, checked and written; returns the root METS's references."""
        rep_refs: list[tuple[str, Ref]] = []
        for rep, (data_refs, desc_refs) in sorted(reps.items()):
            rel = f"representations/{rep}/METS.xml"
            tree = representation_mets(
                self._header(rep, ""),
                ids=self.ids,
                digiprov=[],
                other_metadata=[],
                data=data_refs,
                descriptive=desc_refs,
            )
            self._xml(tree, rel)
            rep_refs.append((rep, self._ref(rel)))
        return rep_refs

    def _premis(self, request: Description, event: Event) -> None:
        """The DIP's PREMIS: the dissemination event, checked against its XSD and written."""
        premis = premis_document(
            PremisDocument(
                entity=PremisIntellectualEntity(self.dip_id, self._label(request)),
                representations=(),
                files=(),
                events=(event,),
                agents=event.agents,
                timezone=self.zone,
            )
        )
        self._check_xml(premis, PREMIS_PATH, "premis")
        self._write_tree(premis, PREMIS_PATH)

    def _index_page(self, request: Description) -> Ref:
        """``documentation/muc-luc.html``: what a reader opens first, in Vietnamese: each released
        document, its title, and a link to the copy to read (the access copy where there is one)."""
        t = Translator("vi")
        html = etree.Element("html", lang="vi")
        head = etree.SubElement(html, "head")
        etree.SubElement(head, "meta", charset="utf-8")
        etree.SubElement(head, "title").text = t.text(
            "dip.index.title", {"request": request.get("requestID")}
        )
        body = etree.SubElement(html, "body")
        etree.SubElement(body, "h1").text = t.text("dip.index.title", {"request": request.get("requestID")})
        etree.SubElement(body, "p").text = t.text("dip.index.intro", {"count": len(self.index)})
        table = etree.SubElement(body, "table", border="1")
        row = etree.SubElement(table, "tr")
        for key in ("code", "title_column", "file"):
            etree.SubElement(row, "th").text = t.text(f"dip.index.{key}", {})
        for code, title, path in self.index:
            row = etree.SubElement(table, "tr")
            etree.SubElement(row, "td").text = code
            etree.SubElement(row, "td").text = title
            link = etree.SubElement(etree.SubElement(row, "td"), "a", href="../" + quote(path))
            link.text = path.rsplit("/", 1)[-1]
        rel = "documentation/muc-luc.html"
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"<!DOCTYPE html>\n" + etree.tostring(html, encoding="utf-8", method="html"))
        ref = self._ref(rel)
        return replace(ref, mimetype="text/html")

    def _label(self, request: Description) -> str:
        return f"DIP {request.get('requestID')}"

    def _header(self, objid: str, label: str) -> Header:
        p = self.settings.package
        return Header(
            objid=objid,
            label=label,
            profile=DIP_PROFILE,
            content_category=p.content_category,
            created=self.now,
            software=SOFTWARE_NAME,
            software_version=__version__,
            organization=self.settings.archive.name,
            zone=self.zone,
            content_information_type="OTHER",
            other_content_information_type="TT 05/2025/TT-BNV",
            package_type="DIP",
        )

    def _description(self, description: Description, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_description(description, self.tables, path)
        rel = path.relative_to(self.folder).as_posix()
        findings = errors_of(validate_xsd(path, description.variant, where=rel))
        findings += errors_of(check_description(ParsedDescription(description), self.tables))
        if findings:
            raise _invalid("export.description_invalid", findings, path=rel)

    def _data(self, staged: Path, f: StoredFile, rep: str) -> Ref:
        """Move a verified payload file from the staged AIP into the DIP, hashing it on the way."""
        target = self.folder / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged / f.path, target)
        digests = digest_file(target, ("sha256",))
        if digests.sha256 != f.sha256:
            raise ExportError(
                f"{f.path}: SHA-256 {digests.sha256}, the catalog says {f.sha256}",
                code="export.digest_mismatch",
                path=f.path,
                params={"path": f.path, "expected": f.sha256, "found": digests.sha256},
            )
        self.digests[f.path] = digests.sha256
        return Ref(
            id=f"ID-{f.uuid}" if f.uuid else self.ids.new(),
            href=f.path[len(f"representations/{rep}/") :],
            size=digests.size,
            sha256=digests.sha256,
            mimetype=f.mime or "application/octet-stream",
            created=self.now,
        )

    def _copy(self, source: Path, rel: str) -> Ref:
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return self._ref(rel)

    def _xml(self, tree: Any, rel: str) -> None:
        self._check_xml(tree, rel, "mets")
        self._write_tree(tree, rel)

    def _check_xml(self, tree: Any, rel: str, schema: xsd.SchemaName) -> None:
        problems = xsd.validate(tree, schema)
        if problems:
            raise _invalid("export.dip_invalid", [_at(p, rel) for p in problems])

    def _write_tree(self, tree: Any, rel: str) -> None:
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tree, str(path))

    def _ref(self, rel: str, base: str = "", mdtype: str = "OTHER") -> Ref:
        """A reference to a file we wrote; its digest is kept for the ZIP step."""
        d = digest_file(self.folder / rel, ("sha256",))
        self.digests[rel] = d.sha256
        return Ref(
            id=self.ids.new(),
            href=rel[len(base) :],
            size=d.size,
            sha256=d.sha256,
            mimetype=XML_MIME,
            created=self.now,
            mdtype=mdtype,
        )


def _at(finding: Finding, rel: str) -> Finding:
    return Finding(
        finding.code, finding.severity, f"{rel}: {finding.where}", f"{rel}: {finding.message}", finding.params
    )


def _invalid(code: str, findings: Sequence[Finding], *, path: str | None = None) -> ExportError:
    lines = "; ".join(f"{f.code} {f.where}: {f.message}" for f in findings[:10])
    return ExportError(
        f"the DIP we built is not valid ({len(findings)} problem(s)), nothing was written: {lines}",
        code=code,
        path=path,
        params={"count": len(findings), "problems": lines},
        details=[finding_detail(f) for f in findings],
    )
