"""Build an archival information package (AIP) in a staging folder.

The layout is E-ARK CSIP 2.0.4 as Thông tư 05/2025/TT-BNV uses it (vn-standards.md §2.3):

    <OBJID folder>/METS.xml                                   package METS, csip:OAISPACKAGETYPE="AIP"
      metadata/preservation/PREMIS.xml                        entity, representations, package events, agents
      metadata/descriptive/…                                  submitted descriptive metadata (TT 05 EAD later)
      metadata/preservation/submission/…, metadata/other/…   submitted preservation/other metadata
      metadata/other/submission/…                             the SIP's packaging files (bag tags, SIP METS)
      representations/<rep>/METS.xml
      representations/<rep>/data/…                            the original files, byte for byte
      representations/<rep>/metadata/preservation/PREMIS_<rep>.xml
      schemas/*.xsd                                           every schema the METS/PREMIS use
      documentation/…                                         submitted documentation

Files are copied from quarantine with their digests checked on the way (quarantine must not change
under us); every XML document is validated against its XSD before it is written; the package METS
is written last. What is returned lists every file with its SHA-256 and SHA-512, which storage
then verifies again after writing.
"""

from __future__ import annotations

import os
import shutil
import uuid as uuid_mod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from preservation import xsd
from preservation.characteristics import Characterization
from preservation.errors import ChecksumMismatchError, InvalidPackageError, SchemaValidationError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.facts import FACTS_MDTYPE, FACTS_PATH, PackageFacts, facts_json
from preservation.fixity import Digests, copy_and_digest, digest_file
from preservation.formats import FormatIdentification
from preservation.mets import Header, IdSource, Ref, representation_mets, root_mets, write
from preservation.package import MetadataFile, MetadataRole, PayloadFile, Submission
from preservation.premis import (
    PremisDocument,
    PremisFile,
    PremisIntellectualEntity,
    PremisRepresentation,
    premis_document,
)

XML_MIME = "application/xml"


@dataclass(frozen=True)
class AipProfile:
    """Package choices that vn-standards.md marks [S] (read in transcriptions of TT 05, not in the
    circular itself) are parameters, so they can follow the Cục's official sample once it is in hand."""

    objid_template: str = "{aip_id}"
    mets_profile: str = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
    content_category: str = "Mixed"
    content_information_type: str | None = "OTHER"
    other_content_information_type: str = "TT 05/2025/TT-BNV"
    timezone: str = "Asia/Ho_Chi_Minh"
    creator_name: str = "Kho Lưu"
    creator_version: str = "0.1.0"
    organization: str = ""


@dataclass(frozen=True)
class AipInput:
    aip_id: str
    submission: Submission
    formats: Mapping[str, FormatIdentification]
    characterizations: Mapping[str, Sequence[Characterization]]
    events: Sequence[Event]
    agents: Sequence[Agent]
    profile: AipProfile
    label: str
    extra_schemas: Sequence[tuple[str, Path]] = ()
    """Schemas the package's own metadata needs besides METS/PREMIS (name in ``schemas/``, source):
    the TT 05 EAD XSDs for a package that carries TT 05 descriptions."""
    facts: PackageFacts | None = None
    """What the ingest knew that METS and PREMIS do not state (``preservation.facts``); written to
    ``metadata/preservation/kholuu-facts.json`` with the submitted metadata names filled in here."""


@dataclass(frozen=True)
class BuiltAip:
    """Attributes:
    folder: ``staging/<folder name>``; the folder name is the OBJID with ``:`` replaced by ``_``.
    manifest: every file of the package, path relative to ``folder`` → digests.
    payload_paths: payload uuid → path inside the package.
    metadata_paths: submitted metadata file name (text) → path inside the package.
    creation_event: the ``information package creation`` event, also inside PREMIS.xml.
    """

    aip_id: str
    folder: Path
    objid: str
    manifest: dict[str, Digests]
    payload_paths: dict[str, str]
    metadata_paths: dict[str, str]
    creation_event: Event


def folder_name(objid: str) -> str:
    """TT 05/2025: the package folder is the OBJID with ``:`` replaced by ``_`` (vn-standards.md §1.1)."""
    return objid.replace(":", "_")


def build_aip(inp: AipInput, staging: Path) -> BuiltAip:
    """Write the package under ``staging``.

    Raises:
        ChecksumMismatchError: a quarantined file no longer matches the digest recorded when it arrived.
        SchemaValidationError: a METS or PREMIS document we wrote is not valid (a bug).
        InvalidPackageError: two submitted files would land on the same package path.
    """
    zone = ZoneInfo(inp.profile.timezone)
    objid = inp.profile.objid_template.format(aip_id=inp.aip_id, uuid=inp.aip_id.removeprefix("uuid-"))
    folder = staging / folder_name(objid)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    builder = _Builder(inp, folder, zone, objid)
    return builder.build()


class _Builder:
    def __init__(self, inp: AipInput, folder: Path, zone: ZoneInfo, objid: str) -> None:
        self.inp = inp
        self.folder = folder
        self.zone = zone
        self.objid = objid
        self.ids = IdSource()
        self.manifest: dict[str, Digests] = {}
        self.created: dict[str, datetime] = {}
        self.now = datetime.now(UTC)
        self.meta_info = {m.name.text: (m.role, m.representation) for m in inp.submission.metadata}

    def _role(self, name: str) -> MetadataRole:
        return self.meta_info[name][0]

    def _rep(self, name: str) -> str | None:
        return self.meta_info[name][1]

    # ------------------------------------------------------------------ files

    def _claim(self, rel: str) -> Path:
        if rel in self.manifest:
            raise InvalidPackageError(
                f"two files of the submission would both be stored as {rel!r}",
                code="aip.path_collision",
                path=rel,
            )
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _copy(self, source: Path, rel: str, expected: Digests | None, what: str) -> None:
        target = self._claim(rel)
        with source.open("rb") as src, target.open("xb") as dst:
            got = copy_and_digest(src, dst)
        if expected is not None and (got.sha256 != expected.sha256 or got.size != expected.size):
            raise ChecksumMismatchError(what, "sha256", expected.sha256, got.sha256, source="quarantine")
        self.manifest[rel] = got
        mtime = source.stat().st_mtime
        os.utime(target, (mtime, mtime))
        self.created[rel] = datetime.fromtimestamp(mtime, UTC)

    def _write_xml(self, tree: etree._ElementTree, rel: str, schema: xsd.SchemaName) -> None:
        problems = xsd.validate(tree, schema)
        if problems:
            raise SchemaValidationError(
                f"{rel} does not validate against the {schema.upper()} schema: "
                + "; ".join(f"{p.where}: {p.message}" for p in problems[:5]),
                code="aip.schema_invalid",
                path=rel,
                params={"problems": [p.as_dict() for p in problems]},
            )
        target = self._claim(rel)
        write(tree, str(target))
        self.manifest[rel] = digest_file(target)
        self.created[rel] = self.now

    def _write_facts(self, facts: PackageFacts, metadata_paths: dict[str, str]) -> None:
        names = {rel: name for name, rel in metadata_paths.items()}
        target = self._claim(FACTS_PATH)
        with target.open("xb") as fh:
            fh.write(facts_json(replace(facts, metadata_names=names)))
            fh.flush()
            os.fsync(fh.fileno())
        self.manifest[FACTS_PATH] = digest_file(target)
        self.created[FACTS_PATH] = self.now

    def _ref(
        self,
        rel: str,
        *,
        base: str = "",
        mimetype: str = XML_MIME,
        mdtype: str = "OTHER",
        other: str = "",
        ident: str | None = None,
    ) -> Ref:
        d = self.manifest[rel]
        return Ref(
            id=ident or self.ids.new(),
            href=rel[len(base) :] if base and rel.startswith(base) else rel,
            size=d.size,
            sha256=d.sha256,
            mimetype=mimetype,
            created=self.created[rel],
            mdtype=mdtype,
            other_mdtype=other,
        )

    # ------------------------------------------------------------------ build

    def build(self) -> BuiltAip:
        sub = self.inp.submission
        payload_paths: dict[str, str] = {}
        for f in sub.payload:
            rel = f"representations/{f.representation}/data/{f.name.text}"
            self._copy(f.path, rel, f.digests, f.name.text)
            payload_paths[f.uuid] = rel
        metadata_paths: dict[str, str] = {}
        for m in sub.metadata:
            rel = metadata_target(m)
            self._copy(m.path, rel, m.digests, m.name.text)
            metadata_paths[m.name.text] = rel
        for schema_file in xsd.schema_files():
            self._copy(schema_file, f"schemas/{schema_file.name}", None, schema_file.name)
        for name, schema_file in self.inp.extra_schemas:
            self._copy(schema_file, f"schemas/{name}", None, name)

        reps = {
            name: PremisRepresentation(str(uuid_mod.uuid4()), name, self.inp.aip_id)
            for name in sub.representations
        }
        payload_ids = {f.uuid: f for f in sub.payload}
        file_events: dict[str, list[Event]] = {name: [] for name in reps}
        package_events: list[Event] = []
        for event in self.inp.events:
            if len(event.objects) == 1 and event.objects[0] in payload_ids:
                file_events[payload_ids[event.objects[0]].representation].append(event)
            else:
                package_events.append(event)

        rep_mets: list[tuple[str, Ref]] = []
        for name, rep in reps.items():
            rep_mets.append(
                (name, self._representation(name, rep, payload_paths, file_events[name], metadata_paths))
            )

        creation = Event(
            type=EventType.INFORMATION_PACKAGE_CREATION,
            outcome=Outcome.SUCCESS,
            detail="AIP built from the submission in the E-ARK CSIP 2.0.4 structure of TT 05/2025/TT-BNV "
            "(METS 1.12, PREMIS 3, SHA-256 on every file)",
            detail_code="ingest.aip_built",
            outcome_detail=(
                f"{len(sub.payload)} payload files in {len(reps)} representation(s); package {self.objid}"
            ),
            agents=(self._software(),),
            objects=(self.inp.aip_id,),
            datetime=datetime.now(UTC),
        )
        premis_root = premis_document(
            PremisDocument(
                entity=PremisIntellectualEntity(self.inp.aip_id, self.inp.label),
                representations=list(reps.values()),
                files=[],
                events=[*package_events, creation],
                agents=[*self.inp.agents, self._software()],
                timezone=self.zone,
            )
        )
        self._write_xml(premis_root, "metadata/preservation/PREMIS.xml", "premis")
        if self.inp.facts is not None:
            self._write_facts(self.inp.facts, metadata_paths)

        descriptive = [
            self._ref(rel, mimetype=mime_type(rel), mdtype=md_type(rel), other=_other_mdtype(rel))
            for name, rel in metadata_paths.items()
            if self._role(name) is MetadataRole.DESCRIPTIVE and not self._rep(name)
        ]
        digiprov = [self._ref("metadata/preservation/PREMIS.xml", mdtype="PREMIS")]
        if FACTS_PATH in self.manifest:
            digiprov.append(self._ref(FACTS_PATH, mimetype="application/json", other=FACTS_MDTYPE))
        digiprov += [
            self._ref(rel, mimetype=mime_type(rel), mdtype=md_type(rel), other=_other_mdtype(rel))
            for name, rel in metadata_paths.items()
            if self._role(name) is MetadataRole.PRESERVATION and not self._rep(name)
        ]
        source = [
            self._ref(
                rel,
                mimetype=mime_type(rel),
                other="SUBMISSION" if self._role(name) is MetadataRole.SUBMISSION else "OTHER",
            )
            for name, rel in metadata_paths.items()
            if self._role(name) is MetadataRole.SUBMISSION
            or (self._role(name) is MetadataRole.OTHER and not self._rep(name))
        ]
        documentation = [
            self._ref(rel, mimetype=mime_type(rel))
            for name, rel in metadata_paths.items()
            if self._role(name) is MetadataRole.DOCUMENTATION and not self._rep(name)
        ]
        schemas = [self._ref(rel) for rel in sorted(self.manifest) if rel.startswith("schemas/")]
        header = self._header(self.objid, self.inp.label)
        tree = root_mets(
            header,
            ids=self.ids,
            descriptive=descriptive,
            digiprov=digiprov,
            source=source,
            documentation=documentation,
            schemas=schemas,
            representations=rep_mets,
        )
        self._write_xml(tree, "METS.xml", "mets")
        return BuiltAip(
            aip_id=self.inp.aip_id,
            folder=self.folder,
            objid=self.objid,
            manifest=dict(sorted(self.manifest.items())),
            payload_paths=payload_paths,
            metadata_paths=metadata_paths,
            creation_event=creation,
        )

    def _representation(
        self,
        name: str,
        rep: PremisRepresentation,
        payload_paths: dict[str, str],
        events: list[Event],
        metadata_paths: dict[str, str],
    ) -> Ref:
        sub = self.inp.submission
        base = f"representations/{name}/"
        files = [f for f in sub.payload if f.representation == name]
        premis_files = [self._premis_file(f, payload_paths[f.uuid], rep.uuid) for f in files]
        premis_rel = f"{base}metadata/preservation/PREMIS_{name}.xml"
        agents = [a for e in events for a in e.agents]
        tree = premis_document(
            PremisDocument(
                entity=None,
                representations=[rep],
                files=premis_files,
                events=events,
                agents=agents,
                timezone=self.zone,
            )
        )
        self._write_xml(tree, premis_rel, "premis")
        # submitted files of this representation (its SIP METS is package-level submission metadata)
        rep_meta = [
            (
                self._role(meta_name),
                self._ref(
                    rel, base=base, mimetype=mime_type(rel), mdtype=md_type(rel), other=_other_mdtype(rel)
                ),
            )
            for meta_name, rel in metadata_paths.items()
            if self._rep(meta_name) == name and self._role(meta_name) is not MetadataRole.SUBMISSION
        ]
        data = [
            Ref(
                id=f"ID-{f.uuid}",
                href=payload_paths[f.uuid][len(base) :],
                size=f.size,
                sha256=f.digests.sha256,
                mimetype=_payload_mime(self.inp.formats.get(f.uuid)),
                created=self.created[payload_paths[f.uuid]],
            )
            for f in files
        ]
        tree = representation_mets(
            self._header(name, ""),
            ids=self.ids,
            digiprov=[self._ref(premis_rel, base=base, mdtype="PREMIS")]
            + [ref for role, ref in rep_meta if role is MetadataRole.PRESERVATION],
            other_metadata=[
                ref
                for role, ref in rep_meta
                if role not in (MetadataRole.PRESERVATION, MetadataRole.DESCRIPTIVE)
            ],
            descriptive=[ref for role, ref in rep_meta if role is MetadataRole.DESCRIPTIVE],
            data=data,
        )
        rel = f"{base}METS.xml"
        self._write_xml(tree, rel, "mets")
        return self._ref(rel)

    def _premis_file(self, f: PayloadFile, rel: str, rep_uuid: str) -> PremisFile:
        return PremisFile(
            uuid=f.uuid,
            original_name=f.name.text,
            aip_path=rel,
            size=f.size,
            sha256=f.digests.sha256,
            sha512=f.digests.sha512,
            representation=f.representation,
            format=self.inp.formats.get(f.uuid),
            characterizations=tuple(self.inp.characterizations.get(f.uuid, ())),
            representation_uuid=rep_uuid,
            derived_from=f.derived_from,
        )

    def _header(self, objid: str, label: str) -> Header:
        p = self.inp.profile
        return Header(
            objid=objid,
            label=label,
            profile=p.mets_profile,
            content_category=p.content_category,
            created=self.now,
            software=p.creator_name,
            software_version=p.creator_version,
            organization=p.organization,
            zone=self.zone,
            content_information_type=p.content_information_type,
            other_content_information_type=p.other_content_information_type,
        )

    def _software(self) -> Agent:
        p = self.inp.profile
        return Agent(name=p.creator_name, version=p.creator_version, type=AgentType.SOFTWARE)


def metadata_target(m: MetadataFile) -> str:
    """Where a submitted non-payload file goes in the package (see the module docstring)."""
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


def _other_mdtype(rel: str) -> str:
    return "" if md_type(rel) != "OTHER" else "SUBMITTED"


def _payload_mime(ident: FormatIdentification | None) -> str:
    if ident is not None and ident.chosen.mime:
        return ident.chosen.mime.split(",")[0].strip()
    return "application/octet-stream"
