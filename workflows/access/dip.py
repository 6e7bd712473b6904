"""The DIP of TT 05/2025 Phụ lục V: who may see what, and the package that carries it.

A requester's copy is cloned from the original in DIP form (TT 05/2025 Chương VI Điều 32-33,
vn-standards.md §2.5). :func:`select_documents` decides which tài liệu of an AIP may leave (mức độ
tiếp cận and the list of tài liệu tiếp cận có điều kiện); :func:`request_to_description` turns the
phiếu yêu cầu into the DIP's ``EAD.xml``; :class:`DipWriter` writes the package from the catalog's
record of each released document and the verified payload files. :mod:`workflows.access.export` fetches
the AIP, calls these and ZIPs the result; the error type both use is defined here, the lower of
the two modules.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from preservation import xsd
from preservation.aip import folder_name
from preservation.csip import validate_package
from preservation.errors import ErrorKind, KholuuError
from preservation.events import Agent, Event, EventType, Outcome
from preservation.findings import Finding, Severity
from preservation.fixity import digest_file
from preservation.mets import Header, IdSource, Ref, representation_mets, root_mets, write
from preservation.premis import PremisDocument, PremisIntellectualEntity, premis_document
from preservation.tt05.archival import SCHEMA_NAMES, description_file_name
from preservation.tt05.ead import (
    ParsedDescription,
    check_description,
    schema_path,
    validate_xsd,
    write_description,
)
from preservation.tt05.mapping import map_code
from preservation.tt05.model import Description, DocumentKind, doc_code
from preservation.tt05.tables import Tables, Variant
from repository import __version__
from repository.catalog.models import Aip
from repository.catalog.records import AccessRestriction, Document, Dossier
from repository.settings import Settings
from workflows.jobs.envelope import SOFTWARE_NAME, Workflow, workflow_agent

#: TT 05/2025 (vn-standards.md §2.3): a DIP's METS names the E-ARK DIP profile.
DIP_PROFILE = "https://earkdip.dilcis.eu/profile/E-ARK-DIP.xml"
REQUEST_PATH = "metadata/descriptive/EAD.xml"
PREMIS_PATH = "metadata/preservation/PREMIS.xml"
XML_MIME = "application/xml"

#: Mức độ tiếp cận (TT 05 code list ``mode``): 01 Công khai, 02 Sử dụng có điều kiện, 03 Mật.
MODE_OPEN, MODE_CONDITIONAL, MODE_SECRET = "01", "02", "03"
MODES = (MODE_OPEN, MODE_CONDITIONAL, MODE_SECRET)

#: Phụ lục V gives a DIP table for EAD_doc only (doc_dip); photos and recordings keep their table.
_DIP_VARIANT = {
    DocumentKind.DOC: Variant.DOC_DIP,
    DocumentKind.PIC: Variant.PIC_SIP,
    DocumentKind.MEDIA: Variant.MEDIA_SIP,
}
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class ExportError(KholuuError):
    """An export that did not happen; no file was left under the target name.

    Args:
        code: message-catalog key (``export.*``, or ``fetch.*`` / ``catalog.*`` from retrieval).
        details: one dict per problem (``code``, ``message``, ``params``) or withheld document.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        kind: ErrorKind = ErrorKind.FAILED,
        path: str | None = None,
        params: Mapping[str, Any] | None = None,
        details: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message, code=code, kind=kind, path=path, params=params)
        self.details = [dict(d) for d in details]


@dataclass(frozen=True)
class AccessRequest:
    """A phiếu yêu cầu khai thác (TT 05/2025 Phụ lục V, DIP ``EAD.xml``), as the operator typed it.

    ``purpose`` and ``fee_object`` take the code or its label ("Công vụ", "cong vu");
    ``request_date`` DD/MM/YYYY or YYYY-MM-DD. ``approved_conditional`` is the number of the
    archive's decision approving access to the Sử dụng có điều kiện documents, if any.
    """

    request_id: str
    request_date: str
    purpose: str
    purpose_content: str = ""
    fee_object: str = ""
    topic: str = ""
    note: str = ""
    approved_conditional: str = ""


@dataclass(frozen=True)
class Withheld:
    """A document left out of a DIP: its code and why (``reason`` is a message code)."""

    code: str
    ordinal: int
    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "ordinal": self.ordinal,
            "reason": self.reason,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Selection:
    released: tuple[tuple[Dossier, Document], ...]
    withheld: tuple[Withheld, ...]


@dataclass(frozen=True)
class StoredFile:
    """A file of the exported AIP version as the catalog records it (``path`` inside the package)."""

    path: str
    sha256: str
    uuid: str | None
    representation: str | None
    mime: str | None


def software_agent() -> Agent:
    """The export's PREMIS agent: every dissemination event names it."""
    return workflow_agent(Workflow.EXPORT)


def dip_event(
    request: AccessRequest,
    selection: Selection,
    aip_id: str,
    dip_id: str,
    now: datetime,
    *,
    full: bool = False,
) -> Event:
    """The dissemination event. The DIP carries it without the withheld documents (``full`` False):
    a requester must not learn what was kept back; the catalog copy (``full``) names them."""
    approval = request.approved_conditional.strip()
    released = ", ".join(document_code(d) for _, d in selection.released)
    lines = [f"access request {request.request_id}; released: {released}"]
    if approval:
        lines.append(f"conditional access (mức độ tiếp cận 02) approved by decision {approval}")
    if full and selection.withheld:
        lines.append("withheld: " + "; ".join(f"{w.code} ({w.reason})" for w in selection.withheld))
    return Event(
        type=EventType.DISSEMINATION,
        outcome=Outcome.SUCCESS,
        detail="DIP built for an access request (TT 05/2025 Phụ lục V): documents of mức độ tiếp cận "
        "01 not on the list of tài liệu tiếp cận có điều kiện"
        + (", and 02 documents under the archive's approval" if approval else ""),
        detail_code="dip.approved" if approval else "dip.public",
        detail_params={"request": request.request_id, "approval": approval or ""},
        outcome_detail="\n".join(lines),
        agents=(software_agent(),),
        objects=(aip_id, dip_id),
        datetime=now,
    )


# ----------------------------------------------------------------------------------- access rules


def document_code(document: Document) -> str:
    return document.doc_code or f"#{document.ordinal}"


def select_documents(session: Session, aip_id: str, *, approved: bool) -> Selection:
    """Which tài liệu of the AIP a requester may receive, and why each other one may not.

    Released: mức độ tiếp cận 01 (Công khai); 02 (Sử dụng có điều kiện) only when the archive
    approved the request (``approved``); never 03 (Mật). A document is never more open than its hồ
    sơ (the stricter of the two modes counts), and nothing on the list of tài liệu tiếp cận có
    điều kiện (an active :class:`AccessRestriction` on the document or its hồ sơ; Luật Lưu trữ
    2024 khoản 4 Điều 25, vn-standards.md §3.3) is released until that restriction is lifted.

    Raises:
        ExportError: ``catalog.not_found`` (no such AIP), ``export.no_records`` (the AIP carries
            no TT 05 descriptions, so there is nothing to decide on).
    """
    if session.get(Aip, aip_id) is None:
        raise ExportError(
            f"no AIP {aip_id}",
            code="catalog.not_found",
            kind=ErrorKind.NOT_FOUND,
            params={"kind": "AIP", "id": aip_id},
        )
    dossiers = _records(session, aip_id)
    if not dossiers:
        raise ExportError(
            f"AIP {aip_id} has no hồ sơ or tài liệu in the catalog; a DIP needs them",
            code="export.no_records",
            kind=ErrorKind.USAGE,
            params={"aip_id": aip_id},
        )
    on_dossier, on_document = _active_restrictions(session, dossiers)
    released: list[tuple[Dossier, Document]] = []
    withheld: list[Withheld] = []
    for dossier in dossiers:
        for document in dossier.documents:
            reason = _withheld(
                dossier, document, on_document.get(document.id), on_dossier.get(dossier.id), approved
            )
            if reason is None:
                released.append((dossier, document))
            else:
                withheld.append(reason)
    return Selection(tuple(released), tuple(withheld))


def _records(session: Session, aip_id: str) -> Sequence[Dossier]:
    return session.scalars(
        select(Dossier)
        .where(Dossier.aip_id == aip_id)
        .options(selectinload(Dossier.documents).selectinload(Document.files))
        .order_by(Dossier.id)
    ).all()


def _active_restrictions(
    session: Session, dossiers: Sequence[Dossier]
) -> tuple[dict[int, AccessRestriction], dict[int, AccessRestriction]]:
    """The restrictions not lifted (the list of tài liệu tiếp cận có điều kiện), by dossier id and
    by document id."""
    dossier_ids = [d.id for d in dossiers]
    document_ids = [doc.id for d in dossiers for doc in d.documents]
    active = session.scalars(
        select(AccessRestriction)
        .where(
            AccessRestriction.lifted_at.is_(None),
            or_(
                AccessRestriction.dossier_id.in_(dossier_ids), AccessRestriction.document_id.in_(document_ids)
            ),
        )
        .order_by(AccessRestriction.id)
    ).all()
    on_dossier = {r.dossier_id: r for r in active if r.dossier_id is not None}
    on_document = {r.document_id: r for r in active if r.document_id is not None}
    return on_dossier, on_document


def restricted_content(session: Session, aip_id: str) -> tuple[Withheld, ...]:
    """What of the AIP may leave whole only under a decision: hồ sơ and tài liệu of mức độ tiếp
    cận 03 (Mật), and those on the list of tài liệu tiếp cận có điều kiện (an active
    :class:`AccessRestriction`; Luật Lưu trữ 2024 khoản 4 Điều 25, vn-standards.md §3.3).

    A transfer package (tt05-aip, bagit) carries every record of the AIP, so the rule is per
    record, not per document as for a DIP: a Mật or listed hồ sơ is named once (its documents go
    with it), a document only when it is restricted itself. An AIP without TT 05 records has
    nothing to report (``()``); mức độ tiếp cận 02 alone needs no decision to go to another archive.
    """
    found: list[Withheld] = []
    dossiers = _records(session, aip_id)
    on_dossier, on_document = _active_restrictions(session, dossiers)
    for dossier in dossiers:
        listed = on_dossier.get(dossier.id)
        if dossier.mode == MODE_SECRET or listed is not None:
            found.append(_restricted(dossier.code, 0, dossier.mode, listed))
            continue
        for document in dossier.documents:
            listed = on_document.get(document.id)
            if document.mode == MODE_SECRET or listed is not None:
                found.append(_restricted(document_code(document), document.ordinal, document.mode, listed))
    return tuple(found)


def _restricted(code: str, ordinal: int, mode: str, listed: AccessRestriction | None) -> Withheld:
    if mode == MODE_SECRET:
        return Withheld(code, ordinal, "export.restricted_secret", {"code": code, "mode": mode})
    assert listed is not None
    return Withheld(
        code,
        ordinal,
        "export.restricted_listed",
        {
            "code": code,
            "decision": listed.decision_number,
            "decision_date": listed.decision_date.isoformat(),
        },
    )


def _withheld(
    dossier: Dossier,
    document: Document,
    own: AccessRestriction | None,
    inherited: AccessRestriction | None,
    approved: bool,
) -> Withheld | None:
    code = document_code(document)
    mode = document.mode or dossier.mode
    if mode not in MODES:
        return Withheld(
            code, document.ordinal, "export.withheld_no_mode", {"code": code, "mode": mode or "—"}
        )
    if dossier.mode in MODES:
        mode = max(mode, dossier.mode)
    if mode == MODE_SECRET:
        return Withheld(code, document.ordinal, "export.withheld_secret", {"code": code, "mode": mode})
    restriction = own or inherited
    if restriction is not None:
        target = code if own is not None else dossier.code
        return Withheld(
            code,
            document.ordinal,
            "export.withheld_restricted",
            {
                "code": code,
                "target": target,
                "decision": restriction.decision_number,
                "decision_date": restriction.decision_date.isoformat(),
            },
        )
    if mode == MODE_CONDITIONAL and not approved:
        return Withheld(code, document.ordinal, "export.withheld_conditional", {"code": code, "mode": mode})
    return None


# -------------------------------------------------------------------------------- access request


def request_to_description(request: AccessRequest, tables: Tables) -> Description:
    """The DIP's ``EAD.xml`` (variant dip_request), checked against its element table.

    Raises:
        ExportError: ``export.bad_request`` (usage) listing every broken rule of the table.
    """
    purpose = request.purpose.strip()
    fee = request.fee_object.strip()
    values = {
        "requestID": request.request_id,
        "requestDate": _tt05_day(request.request_date),
        "purpose": map_code(tables.codelist("purpose"), purpose) or purpose if purpose else "",
        "purposeContent": request.purpose_content,
        "feeObjectType": map_code(tables.codelist("feeObjectType"), fee) or fee if fee else "",
        "researchTopic": request.topic,
        "description": request.note,
    }
    description = Description(
        variant=Variant.DIP_REQUEST,
        path=REQUEST_PATH,
        values={k: unicodedata.normalize("NFC", v.strip()) for k, v in values.items() if v.strip()},
    )
    errors = _errors(check_description(ParsedDescription(description), tables))
    if errors:
        raise ExportError(
            f"the access request breaks {len(errors)} rule(s) of TT 05/2025 Phụ lục V: {errors[0].message}",
            code="export.bad_request",
            kind=ErrorKind.USAGE,
            params={"count": len(errors)},
            details=[_finding_dict(f) for f in errors],
        )
    return description


def _tt05_day(text: str) -> str:
    """YYYY-MM-DD → DD/MM/YYYY (TT 05 dates); anything else is left for the checker to judge."""
    match = _ISO_DAY.fullmatch(text.strip())
    return f"{match[3]}/{match[2]}/{match[1]}" if match else text


def _errors(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "where": f.where, "message": f.message, "params": dict(f.params)}


# ------------------------------------------------------------------------------------------- DIP


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
        by_uuid = {f.uuid: f for f in files.values() if f.uuid}
        self._description(request, self.folder / REQUEST_PATH)
        variants = {request.variant}
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
                stored.append((link.path, f))
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
            documentation=[],
            schemas=schema_refs,
            representations=rep_refs,
        )
        self._xml(tree, "METS.xml")
        self._ref("METS.xml")  # keeps its digest for the ZIP step
        problems = _errors(validate_package(self.folder, expected_type="DIP", verify_checksums=False))
        if problems:
            raise _invalid("export.dip_invalid", problems)
        return self.folder, dict(self.digests)

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
        findings = _errors(validate_xsd(path, description.variant, where=rel))
        findings += _errors(check_description(ParsedDescription(description), self.tables))
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
        details=[_finding_dict(f) for f in findings],
    )
