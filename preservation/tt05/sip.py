"""Writing a TT 05/2025 SIP_hoso / SIP_tailieu (E-ARK CSIP SIP with EAD descriptions).

Two users: tests, which build submissions straight from the element tables, and the legacy path,
which maps an NĐ 30/2020 export or a spreadsheet mục lục onto TT 05 and then ingests the result
exactly like any agency's SIP, so one set of checks guards every way in. Layout (vn-standards.md
§2.3): ``METS.xml``, ``metadata/descriptive/EAD.xml``, ``representations/rep1/{METS.xml, data/…,
metadata/descriptive/EAD_doc_<name>.xml}``, ``schemas/``; SHA-256 on every file and mdRef.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from preservation import xsd
from preservation.errors import InvalidPackageError
from preservation.fixity import digest_file
from preservation.mets import Header, IdSource, Ref, representation_mets, root_mets, write
from preservation.tt05.archival import SCHEMA_NAMES, description_file_name
from preservation.tt05.ead import write_description
from preservation.tt05.model import Description, DocumentRecord, RecordSet
from preservation.tt05.tables import Tables, Variant

SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
TT05_SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "tt05"


def schema_path(variant: Variant) -> Path:
    """Our XSD for a description variant (generated from the element tables)."""
    return TT05_SCHEMA_DIR / f"{variant.value}.xsd"


@dataclass(frozen=True)
class ExtraFile:
    """A file carried besides data and descriptions: ``rel`` is its path in the package
    (``documentation/…`` or ``metadata/other/…``)."""

    rel: str
    source: Path


def build_sip(
    records: RecordSet,
    files: Mapping[tuple[str, str], Path],
    out_parent: Path,
    tables: Tables,
    *,
    label: str = "",
    submitter: str = "",
    software: str = "Kho Lưu",
    software_version: str | None = None,
    extra: Sequence[ExtraFile] = (),
    timezone: str = "Asia/Ho_Chi_Minh",
    objid: str | None = None,
    created: datetime | None = None,
    ids: IdSource | None = None,
) -> Path:
    """Write the SIP folder ``out_parent/<OBJID>`` and return it.

    ``files`` maps (representation, path under ``data/``) of every data file the documents name to
    where its bytes are. Descriptions are written in table order; document description files are
    named after their first data file (:func:`~preservation.tt05.archival.description_file_name`).
    ``created`` and ``ids`` exist for reproducible samples; by default now and fresh UUIDs.
    """
    objid = objid or f"uuid-{str(uuid.uuid4()).upper()}"
    folder = out_parent / objid
    if folder.exists():
        raise InvalidPackageError(f"{folder} already exists", code="description.sip_exists", path=str(folder))
    sip = _SipWriter(
        folder=folder,
        objid=objid,
        now=created or datetime.now(UTC),
        ids=ids or IdSource(),
        label=label,
        submitter=submitter,
        software=software,
        software_version=software_version or _version(),
        zone=ZoneInfo(timezone),
    )
    folder.mkdir(parents=True)
    _describe(records.package, tables, folder / _PACKAGE_EAD)
    variants = {records.package.variant}
    rep_refs = [
        (rep, sip.write_representation(rep, docs, files, tables, variants))
        for rep, docs in _by_representation(records.documents)
    ]
    schema_refs = sip.copy_schemas(variants)
    documentation, source_refs = sip.copy_extra(extra)
    sip.write_root_mets(schema_refs, documentation, source_refs, rep_refs)
    return folder


_PACKAGE_EAD = "metadata/descriptive/EAD.xml"


def _by_representation(documents: Sequence[DocumentRecord]) -> list[tuple[str, list[DocumentRecord]]]:
    """Documents grouped by representation, representations in name order (each gets one METS)."""
    by_rep: dict[str, list[DocumentRecord]] = {}
    for doc in documents:
        by_rep.setdefault(doc.representation, []).append(doc)
    return sorted(by_rep.items())


@dataclass(frozen=True)
class _SipWriter:
    """One SIP folder being written.

    Every file is referenced right after it is written, so its size and SHA-256 in METS are those of
    the bytes on disk; the root and representation METS share one header shape and one ID source
    (a fixed one makes the sample SIP byte-identical run after run).
    """

    folder: Path
    objid: str
    now: datetime
    ids: IdSource
    label: str
    submitter: str
    software: str
    software_version: str
    zone: ZoneInfo

    def ref(self, rel: str, base: str = "", mdtype: str = "OTHER", mimetype: str = "application/xml") -> Ref:
        d = digest_file(self.folder / rel)
        return Ref(
            id=self.ids.new(),
            href=rel[len(base) :],
            size=d.size,
            sha256=d.sha256,
            mimetype=mimetype,
            created=self.now,
            mdtype=mdtype,
        )

    def header(self, name: str) -> Header:
        return Header(
            objid=name,
            label=self.label if name == self.objid else "",
            profile=SIP_PROFILE,
            content_category="Mixed",
            created=self.now,
            software=self.software,
            software_version=self.software_version,
            organization=self.submitter,
            zone=self.zone,
            content_information_type="OTHER",
            other_content_information_type="TT 05/2025/TT-BNV",
            package_type="SIP",
        )

    def write_representation(
        self,
        rep: str,
        docs: Sequence[DocumentRecord],
        files: Mapping[tuple[str, str], Path],
        tables: Tables,
        variants: set[Variant],
    ) -> Ref:
        """Copy the data and write the document descriptions of one representation, then its METS;
        return the reference to that METS. The variants described are added to ``variants``."""
        base = f"representations/{rep}/"
        data: list[Ref] = []
        descriptive: list[Ref] = []
        taken: set[str] = set()
        for doc in docs:
            data.extend(self._copy_data(rep, base, doc, files))
            file_name = description_file_name(doc.kind, doc.data_files[0] if doc.data_files else "x", taken)
            taken.add(file_name)
            rel = f"{base}metadata/descriptive/{file_name}"
            _describe(doc.description, tables, self.folder / rel)
            variants.add(doc.description.variant)
            descriptive.append(self.ref(rel, base, mdtype="EAD"))
        tree = representation_mets(
            self.header(rep), ids=self.ids, digiprov=[], other_metadata=[], data=data, descriptive=descriptive
        )
        write(tree, str(self.folder / base / "METS.xml"))
        return self.ref(f"{base}METS.xml")

    def _copy_data(
        self, rep: str, base: str, doc: DocumentRecord, files: Mapping[tuple[str, str], Path]
    ) -> list[Ref]:
        refs: list[Ref] = []
        for name in doc.data_files:
            source = files.get((rep, name))
            if source is None:
                raise InvalidPackageError(
                    f"no bytes given for data file {rep}/{name}",
                    code="description.sip_missing_file",
                    path=name,
                )
            shutil.copyfile(source, _mk(self.folder, f"{base}data/{name}"))
            refs.append(self.ref(f"{base}data/{name}", base, mimetype="application/octet-stream"))
        return refs

    def copy_schemas(self, variants: set[Variant]) -> list[Ref]:
        """The METS/XLink schemas we ship (not PREMIS: a SIP carries no PREMIS) and the TT 05 XSD
        of every description variant used, so the package validates offline."""
        refs: list[Ref] = []
        for schema_file in xsd.schema_files():
            if schema_file.name.lower().startswith("premis"):
                continue
            shutil.copyfile(schema_file, _mk(self.folder, f"schemas/{schema_file.name}"))
            refs.append(self.ref(f"schemas/{schema_file.name}"))
        for name in sorted({SCHEMA_NAMES[v] for v in variants}):
            variant = next(v for v in variants if SCHEMA_NAMES[v] == name)
            shutil.copyfile(schema_path(variant), _mk(self.folder, f"schemas/{name}"))
            refs.append(self.ref(f"schemas/{name}"))
        return refs

    def copy_extra(self, extra: Sequence[ExtraFile]) -> tuple[list[Ref], list[Ref]]:
        """Copy the extra files; return (documentation, other source metadata) references."""
        documentation: list[Ref] = []
        source_refs: list[Ref] = []
        for item in extra:
            shutil.copyfile(item.source, _mk(self.folder, item.rel))
            r = self.ref(item.rel, mimetype=_mime(item.rel))
            (documentation if item.rel.startswith("documentation/") else source_refs).append(r)
        return documentation, source_refs

    def write_root_mets(
        self,
        schemas: list[Ref],
        documentation: list[Ref],
        source: list[Ref],
        representations: list[tuple[str, Ref]],
    ) -> None:
        tree = root_mets(
            self.header(self.objid),
            ids=self.ids,
            descriptive=[self.ref(_PACKAGE_EAD, mdtype="EAD")],
            digiprov=[],
            source=source,
            documentation=documentation,
            schemas=schemas,
            representations=representations,
        )
        write(tree, str(self.folder / "METS.xml"))


def _version() -> str:
    """The installed program's version, for the METS software agent (CSIP15 wants one)."""
    try:
        return importlib.metadata.version("kholuu")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _describe(description: Description, tables: Tables, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_description(description, tables, path)


def _mk(folder: Path, rel: str) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _mime(rel: str) -> str:
    lower = rel.lower()
    if lower.endswith((".xml", ".xsd")):
        return "application/xml"
    if lower.endswith(".json"):
        return "application/json"
    if lower.endswith(".csv"):
        return "text/csv"
    if lower.endswith(".xlsx"):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "application/octet-stream"
