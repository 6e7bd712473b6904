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
    software_version = software_version or _version()
    folder = out_parent / objid
    if folder.exists():
        raise InvalidPackageError(f"{folder} already exists", code="description.sip_exists", path=str(folder))
    zone = ZoneInfo(timezone)
    now = created or datetime.now(UTC)
    ids = ids or IdSource()
    folder.mkdir(parents=True)

    def ref(rel: str, base: str = "", mdtype: str = "OTHER", mimetype: str = "application/xml") -> Ref:
        d = digest_file(folder / rel)
        return Ref(
            id=ids.new(),
            href=rel[len(base) :],
            size=d.size,
            sha256=d.sha256,
            mimetype=mimetype,
            created=now,
            mdtype=mdtype,
        )

    def header(name: str) -> Header:
        return Header(
            objid=name,
            label=label if name == objid else "",
            profile=SIP_PROFILE,
            content_category="Mixed",
            created=now,
            software=software,
            software_version=software_version,
            organization=submitter,
            zone=zone,
            content_information_type="OTHER",
            other_content_information_type="TT 05/2025/TT-BNV",
            package_type="SIP",
        )

    package_rel = "metadata/descriptive/EAD.xml"
    _describe(records.package, tables, folder / package_rel)
    variants = {records.package.variant}
    by_rep: dict[str, list[DocumentRecord]] = {}
    for doc in records.documents:
        by_rep.setdefault(doc.representation, []).append(doc)
    rep_refs: list[tuple[str, Ref]] = []
    for rep, docs in sorted(by_rep.items()):
        base = f"representations/{rep}/"
        data: list[Ref] = []
        descriptive: list[Ref] = []
        taken: set[str] = set()
        for doc in docs:
            for name in doc.data_files:
                source = files.get((rep, name))
                if source is None:
                    raise InvalidPackageError(
                        f"no bytes given for data file {rep}/{name}",
                        code="description.sip_missing_file",
                        path=name,
                    )
                target = folder / base / "data" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                data.append(ref(f"{base}data/{name}", base, mimetype="application/octet-stream"))
            file_name = description_file_name(doc.kind, doc.data_files[0] if doc.data_files else "x", taken)
            taken.add(file_name)
            rel = f"{base}metadata/descriptive/{file_name}"
            _describe(doc.description, tables, folder / rel)
            variants.add(doc.description.variant)
            descriptive.append(ref(rel, base, mdtype="EAD"))
        tree = representation_mets(
            header(rep), ids=ids, digiprov=[], other_metadata=[], data=data, descriptive=descriptive
        )
        write(tree, str(folder / base / "METS.xml"))
        rep_refs.append((rep, ref(f"{base}METS.xml")))

    schema_refs: list[Ref] = []
    for schema_file in xsd.schema_files():
        if schema_file.name.lower().startswith("premis"):
            continue
        shutil.copyfile(schema_file, _mk(folder, f"schemas/{schema_file.name}"))
        schema_refs.append(ref(f"schemas/{schema_file.name}"))
    for name in sorted({SCHEMA_NAMES[v] for v in variants}):
        variant = next(v for v in variants if SCHEMA_NAMES[v] == name)
        shutil.copyfile(schema_path(variant), _mk(folder, f"schemas/{name}"))
        schema_refs.append(ref(f"schemas/{name}"))
    documentation: list[Ref] = []
    source_refs: list[Ref] = []
    for item in extra:
        shutil.copyfile(item.source, _mk(folder, item.rel))
        r = ref(item.rel, mimetype=_mime(item.rel))
        (documentation if item.rel.startswith("documentation/") else source_refs).append(r)
    tree = root_mets(
        header(objid),
        ids=ids,
        descriptive=[ref(package_rel, mdtype="EAD")],
        digiprov=[],
        source=source_refs,
        documentation=documentation,
        schemas=schema_refs,
        representations=rep_refs,
    )
    write(tree, str(folder / "METS.xml"))
    return folder


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
