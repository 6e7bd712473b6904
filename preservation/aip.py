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
from preservation.aip_layout import XML_MIME, md_type, metadata_target, mime_type, other_mdtype, payload_mime
from preservation.characteristics import Characterization
from preservation.errors import ChecksumMismatchError, InvalidPackageError, SchemaValidationError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.facts import FACTS_MDTYPE, FACTS_PATH, PackageFacts, facts_json
from preservation.fixity import Digests, copy_and_digest, digest_file
from preservation.formats import FormatIdentification
from preservation.mets import Header, IdSource, Ref, representation_mets, root_mets, write
from preservation.package import MetadataRole, PayloadFile, Submission
from preservation.premis import (
    PremisDocument,
    PremisFile,
    PremisIntellectualEntity,
    PremisRepresentation,
    premis_document,
)

PACKAGE_PREMIS = "metadata/preservation/PREMIS.xml"


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
    link_files: bool = False
    """Whether the submission's files may be hard-linked into the package instead of copied: true
    when they sit in a folder private to the job (the ingest's quarantine) with the digests they
    were given on arrival, so nothing can change them before storage hashes them again."""
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
    """One AIP being written.

    Every file enters the package through :meth:`_copy` or :meth:`_write_xml`, which claim its path
    (two files on one path refuse the package) and record its digests and date in ``manifest`` /
    ``created``; a METS reference (:meth:`_ref`) can only be made from that record, so METS never
    states a checksum the bytes on disk do not have. A new kind of content (derived files, another
    representation) is one more copy step in :meth:`build` plus the references to it.
    """

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
        self.payload_paths: dict[str, str] = {}
        """Payload uuid → path in the package, filled as the payload is copied."""
        self.metadata_paths: dict[str, str] = {}
        """Submitted metadata name → path in the package, filled as the metadata is copied."""

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
        """Put ``source`` at ``rel``: a hard link when the file's digests are known (a file of
        the job's private quarantine, hashed as it was copied there, and hashed again when
        storage writes and reads it back against this manifest), else a copy hashed on the way.
        A 5 GB video is then not copied and hashed once more only to be stored (issue 14)."""
        target = self._claim(rel)
        got: Digests | None = None
        if expected is not None and {"sha256", "sha512"} <= expected.values.keys() and self.inp.link_files:
            try:
                os.link(source, target, follow_symlinks=False)
            except OSError:
                got = None  # another file system, or links refused: copy
            else:
                size = target.stat().st_size
                got = expected if size == expected.size else Digests(size, {"sha256": "", "sha512": ""})
        if got is None:
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
        """The package in the order that keeps every reference true: the files first, then the
        representations' PREMIS and METS that point at them, the package PREMIS (which names the
        representations), and the package METS last, when every file it lists has its digest."""
        self._copy_payload()
        self._copy_metadata()
        self._copy_schemas()
        reps = {
            name: PremisRepresentation(str(uuid_mod.uuid4()), name, self.inp.aip_id)
            for name in self.inp.submission.representations
        }
        file_events, package_events = self._events_by_representation(reps)
        rep_mets = [(name, self._representation(name, rep, file_events[name])) for name, rep in reps.items()]
        creation = self._creation_event(len(reps))
        self._write_package_premis(list(reps.values()), [*package_events, creation])
        if self.inp.facts is not None:
            self._write_facts(self.inp.facts, self.metadata_paths)
        self._write_root_mets(rep_mets)
        return BuiltAip(
            aip_id=self.inp.aip_id,
            folder=self.folder,
            objid=self.objid,
            manifest=dict(sorted(self.manifest.items())),
            payload_paths=self.payload_paths,
            metadata_paths=self.metadata_paths,
            creation_event=creation,
        )

    def _copy_payload(self) -> None:
        for f in self.inp.submission.payload:
            rel = f"representations/{f.representation}/data/{f.name.text}"
            self._copy(f.path, rel, f.digests, f.name.text)
            self.payload_paths[f.uuid] = rel

    def _copy_metadata(self) -> None:
        for m in self.inp.submission.metadata:
            rel = metadata_target(m)
            self._copy(m.path, rel, m.digests, m.name.text)
            self.metadata_paths[m.name.text] = rel

    def _copy_schemas(self) -> None:
        """Every schema METS and PREMIS use, and those the package's own metadata needs, so the
        package validates without a network (CSIP: schemas/)."""
        for schema_file in xsd.schema_files():
            self._copy(schema_file, f"schemas/{schema_file.name}", None, schema_file.name)
        for name, schema_file in self.inp.extra_schemas:
            self._copy(schema_file, f"schemas/{name}", None, name)

    def _events_by_representation(
        self, reps: Mapping[str, PremisRepresentation]
    ) -> tuple[dict[str, list[Event]], list[Event]]:
        """An event about one payload file goes into its representation's PREMIS; every other
        event (the package, several files) into the package PREMIS."""
        payload = {f.uuid: f for f in self.inp.submission.payload}
        file_events: dict[str, list[Event]] = {name: [] for name in reps}
        package_events: list[Event] = []
        for event in self.inp.events:
            if len(event.objects) == 1 and event.objects[0] in payload:
                file_events[payload[event.objects[0]].representation].append(event)
            else:
                package_events.append(event)
        return file_events, package_events

    def _creation_event(self, representations: int) -> Event:
        return Event(
            type=EventType.INFORMATION_PACKAGE_CREATION,
            outcome=Outcome.SUCCESS,
            detail="AIP built from the submission in the E-ARK CSIP 2.0.4 structure of TT 05/2025/TT-BNV "
            "(METS 1.12, PREMIS 3, SHA-256 on every file)",
            detail_code="ingest.aip_built",
            outcome_detail=(
                f"{len(self.inp.submission.payload)} payload files in {representations} representation(s); "
                f"package {self.objid}"
            ),
            agents=(self._software(),),
            objects=(self.inp.aip_id,),
            datetime=datetime.now(UTC),
        )

    def _write_package_premis(self, reps: list[PremisRepresentation], events: list[Event]) -> None:
        premis_root = premis_document(
            PremisDocument(
                entity=PremisIntellectualEntity(self.inp.aip_id, self.inp.label),
                representations=reps,
                files=[],
                events=events,
                agents=[*self.inp.agents, self._software()],
                timezone=self.zone,
            )
        )
        self._write_xml(premis_root, PACKAGE_PREMIS, "premis")

    # ------------------------------------------------------------------ package METS

    def _write_root_mets(self, rep_mets: list[tuple[str, Ref]]) -> None:
        tree = root_mets(
            self._header(self.objid, self.inp.label),
            ids=self.ids,
            descriptive=self._submitted_refs(MetadataRole.DESCRIPTIVE),
            digiprov=self._digiprov_refs(),
            source=self._source_refs(),
            documentation=[
                self._ref(rel, mimetype=mime_type(rel))
                for rel in self._package_level(MetadataRole.DOCUMENTATION)
            ],
            schemas=[self._ref(rel) for rel in sorted(self.manifest) if rel.startswith("schemas/")],
            representations=rep_mets,
        )
        self._write_xml(tree, "METS.xml", "mets")

    def _package_level(self, role: MetadataRole) -> list[str]:
        """Package paths of the submitted metadata of ``role`` that belongs to no representation."""
        return [
            rel
            for name, rel in self.metadata_paths.items()
            if self._role(name) is role and not self._rep(name)
        ]

    def _submitted_refs(self, role: MetadataRole) -> list[Ref]:
        return [
            self._ref(rel, mimetype=mime_type(rel), mdtype=md_type(rel), other=other_mdtype(rel))
            for rel in self._package_level(role)
        ]

    def _digiprov_refs(self) -> list[Ref]:
        """Our PREMIS first, then the facts file (when written), then submitted preservation metadata."""
        digiprov = [self._ref(PACKAGE_PREMIS, mdtype="PREMIS")]
        if FACTS_PATH in self.manifest:
            digiprov.append(self._ref(FACTS_PATH, mimetype="application/json", other=FACTS_MDTYPE))
        return digiprov + self._submitted_refs(MetadataRole.PRESERVATION)

    def _source_refs(self) -> list[Ref]:
        """The SIP's packaging files (whichever representation they came with) and other metadata."""
        return [
            self._ref(
                rel,
                mimetype=mime_type(rel),
                other="SUBMISSION" if self._role(name) is MetadataRole.SUBMISSION else "OTHER",
            )
            for name, rel in self.metadata_paths.items()
            if self._role(name) is MetadataRole.SUBMISSION
            or (self._role(name) is MetadataRole.OTHER and not self._rep(name))
        ]

    # ------------------------------------------------------------------ representations

    def _representation(self, name: str, rep: PremisRepresentation, events: list[Event]) -> Ref:
        """Write the PREMIS and the METS of one representation; return the reference to its METS."""
        base = f"representations/{name}/"
        files = [f for f in self.inp.submission.payload if f.representation == name]
        premis_rel = f"{base}metadata/preservation/PREMIS_{name}.xml"
        tree = premis_document(
            PremisDocument(
                entity=None,
                representations=[rep],
                files=[self._premis_file(f, self.payload_paths[f.uuid], rep.uuid) for f in files],
                events=events,
                agents=[a for e in events for a in e.agents],
                timezone=self.zone,
            )
        )
        self._write_xml(tree, premis_rel, "premis")
        # submitted files of this representation (its SIP METS is package-level submission metadata)
        rep_meta = [
            (
                self._role(meta_name),
                self._ref(
                    rel, base=base, mimetype=mime_type(rel), mdtype=md_type(rel), other=other_mdtype(rel)
                ),
            )
            for meta_name, rel in self.metadata_paths.items()
            if self._rep(meta_name) == name and self._role(meta_name) is not MetadataRole.SUBMISSION
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
            data=[self._data_ref(f, base) for f in files],
        )
        rel = f"{base}METS.xml"
        self._write_xml(tree, rel, "mets")
        return self._ref(rel)

    def _data_ref(self, f: PayloadFile, base: str) -> Ref:
        rel = self.payload_paths[f.uuid]
        return Ref(
            id=f"ID-{f.uuid}",
            href=rel[len(base) :],
            size=f.size,
            sha256=f.digests.sha256,
            mimetype=payload_mime(self.inp.formats.get(f.uuid)),
            created=self.created[rel],
        )

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
