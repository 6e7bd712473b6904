"""Reading the TT 05/2025 descriptions out of a received E-ARK package.

A TT 05 package is an E-ARK CSIP package (vn-standards.md §2.3) whose ``metadata/descriptive/EAD.xml``
describes the hồ sơ (SIP_hoso/AIP_hoso) or the batch of loose documents (SIP_tailieu/AIP_tailieu),
and whose representations carry one ``metadata/descriptive/EAD_{doc|pic|media}_<name>.xml`` per tài
liệu. Which data file a description belongs to is not written anywhere we could read for certain
(open question 2), so ``<name>`` is matched to a data file of the same representation by its full
name or its name without extension, after NFC; a description or data file left over is reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from lxml import etree

from preservation.errors import InvalidPackageError
from preservation.findings import Finding, Severity
from preservation.names import nfc
from preservation.package import MetadataFile, MetadataRole, PackageKind, Submission
from preservation.tt05.archival import document_ordinal
from preservation.tt05.codes import (
    CodeProblem,
    characters_problem,
    dossier_code_problem,
    package_code_problem,
    shipped_code_rules,
)
from preservation.tt05.ead import ParsedDescription, parse_description
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import (
    PACKAGE_VARIANT,
    Description,
    DocumentKind,
    DocumentRecord,
    PackageType,
    RecordSet,
    RecordSource,
    Unmapped,
)
from preservation.tt05.tables import Tables, Variant

PACKAGE_DESCRIPTION = "metadata/descriptive/EAD.xml"
#: Written by :mod:`preservation.tt05.sip` when a package was converted from a legacy export.
LEGACY_REPORT = "documentation/legacy-mapping.json"

_KIND_PREFIX = {"ead_doc_": DocumentKind.DOC, "ead_pic_": DocumentKind.PIC, "ead_media_": DocumentKind.MEDIA}


@dataclass(frozen=True)
class Tt05Reading:
    """What the TT 05 step found: the records, every finding, and which metadata files held them."""

    records: RecordSet
    findings: tuple[Finding, ...]
    description_files: tuple[MetadataFile, ...]
    unknown: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Elements no table knows, per description path: kept in the catalog, not dropped."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


#: Namespaces of full EAD (EAD 2002, EAD3): finding aids that E-ARK tools (commons-ip, RODA) put
#: in ``metadata/descriptive/EAD.xml``. They are descriptive metadata we keep, not TT 05 records.
FULL_EAD_NAMESPACES = frozenset({"urn:isbn:1-931666-22-9", "http://ead3.archivists.org/schema/"})


def package_description(submission: Submission) -> MetadataFile | None:
    """The package-level ``EAD.xml`` when the submission is an E-ARK package that has one."""
    if submission.kind is not PackageKind.EARK_SIP:
        return None
    for m in submission.metadata:
        if m.representation is None and nfc(m.name.text).lower() == PACKAGE_DESCRIPTION.lower():
            return m
    return None


def _root_namespace(path: Path) -> str | None:
    """The namespace of the first element, read without loading the file (None when unreadable:
    the full parse then says what is wrong)."""
    try:
        with path.open("rb") as fh:
            for _, element in etree.iterparse(
                fh, events=("start",), resolve_entities=False, no_network=True, load_dtd=False
            ):
                return etree.QName(element).namespace
    except (etree.XMLSyntaxError, OSError):
        return None
    return None


def document_descriptions(submission: Submission) -> list[MetadataFile]:
    """The representations' ``EAD_doc_*`` / ``EAD_pic_*`` / ``EAD_media_*`` files."""
    return [
        m
        for m in sorted(submission.metadata, key=lambda x: x.name.raw)
        if m.representation is not None
        and m.role is MetadataRole.DESCRIPTIVE
        and document_kind(m.name.text) is not None
    ]


def is_tt05(submission: Submission) -> bool:
    """A TT 05 package has a flat ``EAD.xml`` (not a full EAD 2002/EAD3 finding aid) or TT 05
    document descriptions; a generic E-ARK SIP with a full EAD finding aid is not one."""
    top = package_description(submission)
    if top is not None:
        return _root_namespace(top.path) not in FULL_EAD_NAMESPACES
    return bool(document_descriptions(submission)) and submission.kind is PackageKind.EARK_SIP


def document_kind(name: str) -> DocumentKind | None:
    """``EAD_doc_x.xml`` → doc, ``EAD_pic_…`` → pic, ``EAD_media_…`` → media; None for other files."""
    base = PurePosixPath(name).name.lower()
    if not base.endswith(".xml"):
        return None
    return next((k for p, k in _KIND_PREFIX.items() if base.startswith(p)), None)


def package_type(submission: Submission, parsed: ParsedDescription) -> PackageType:
    """SIP or AIP from the METS header; hồ sơ or tài liệu from what ``EAD.xml`` holds (a
    SIP_tailieu's description has ``source`` and no retention, Phụ lục IV)."""
    oais = dict(submission.info).get("OAISPACKAGETYPE", "SIP").upper()
    # the names present in the file, whichever table they belong to (parsing with the hồ sơ table
    # files a SIP_tailieu's ``source`` under ``unknown``)
    names = {*parsed.description.values, *parsed.unknown, *parsed.empty, *parsed.repeated}
    loose = "source" in names and "maintenance" not in names
    if oais == "AIP":
        return PackageType.AIP_TAILIEU if loose else PackageType.AIP_HOSO
    if oais == "DIP":
        return PackageType.DIP
    return PackageType.SIP_TAILIEU if loose else PackageType.SIP_HOSO


def _document_variant(kind: DocumentKind, ptype: PackageType) -> Variant:
    if kind is DocumentKind.PIC:
        return Variant.PIC_SIP
    if kind is DocumentKind.MEDIA:
        return Variant.MEDIA_SIP
    if ptype in (PackageType.AIP_HOSO, PackageType.AIP_TAILIEU):
        return Variant.DOC_AIP
    if ptype is PackageType.DIP:
        return Variant.DOC_DIP
    return Variant.DOC_SIP


def read_records(submission: Submission, tables: Tables, *, intake: bool) -> Tt05Reading | None:
    """Parse and check every TT 05 description of ``submission``; None when it is not a TT 05 package.

    Every problem is a finding (the caller refuses the package when any is an error), so an agency
    gets the whole list in one answer, each naming file, element and rule.

    Raises:
        InvalidPackageError: a description file that is not flat, well-formed XML (``tt05.not_xml``).
    """
    if not is_tt05(submission):
        return None
    top = package_description(submission)
    if top is None:
        return _without_package_description(submission)
    ptype, parsed = _parse_package_description(submission, top)
    findings: list[Finding] = list(check_description(parsed, tables, intake=intake))
    unknown: dict[str, Mapping[str, str]] = {}
    if parsed.unknown_values:
        unknown[top.name.text] = parsed.unknown_values
    payload = _payload_by_representation(submission)
    docs = _read_documents(submission, ptype, payload, tables, intake=intake)
    findings.extend(docs.findings)
    unknown.update(docs.unknown)
    findings.extend(_files_without_description(payload, docs.records))
    if ptype.is_dossier and not docs.records:
        findings.append(
            Finding(
                code="description.no_documents",
                severity=Severity.ERROR,
                where=top.name.text,
                message="a hồ sơ package must describe at least one tài liệu (EAD_doc/EAD_pic/EAD_media)",
                params={"file": top.name.text},
            )
        )
    findings.extend(_package_checks(ptype, top.name.text, parsed.description, docs.records))
    findings.extend(_total_mismatch(top.name.text, parsed.description, docs.records))
    source, unmapped = _legacy(submission)
    records = RecordSet(
        package_type=ptype,
        package=parsed.description,
        documents=tuple(docs.records),
        source=source,
        unmapped=unmapped,
    )
    return Tt05Reading(
        records=records, findings=tuple(findings), description_files=(top, *docs.files), unknown=unknown
    )


def _without_package_description(submission: Submission) -> Tt05Reading:
    """Document descriptions without the package's ``EAD.xml``: one error and nothing else, since
    neither the package type nor the document variants can be known."""
    where = document_descriptions(submission)[0].name.text
    finding = Finding(
        code="description.missing_package_description",
        severity=Severity.ERROR,
        where=PACKAGE_DESCRIPTION,
        message=f"the package carries TT 05 document descriptions ({where}…) but no {PACKAGE_DESCRIPTION}",
        params={"file": PACKAGE_DESCRIPTION, "example": where},
    )
    empty = RecordSet(PackageType.SIP_HOSO, Description(Variant.HOSO_SIP, PACKAGE_DESCRIPTION, {}), ())
    return Tt05Reading(records=empty, findings=(finding,), description_files=())


def _parse_package_description(
    submission: Submission, top: MetadataFile
) -> tuple[PackageType, ParsedDescription]:
    """The package type needs a first parse (with the hồ sơ table) to see which elements are there;
    the description is then parsed again with its own variant's table when that differs."""
    first = parse_description(top.path, Variant.HOSO_SIP, top.name.text)
    ptype = package_type(submission, first)
    variant = PACKAGE_VARIANT[ptype]
    parsed = first if variant is Variant.HOSO_SIP else parse_description(top.path, variant, top.name.text)
    return ptype, parsed


def _payload_by_representation(submission: Submission) -> dict[str, dict[str, str]]:
    """Per representation: NFC name → name as received (descriptions are matched after NFC)."""
    payload_by_rep: dict[str, dict[str, str]] = {}
    for p in submission.payload:
        payload_by_rep.setdefault(p.representation, {})[nfc(p.name.text)] = p.name.text
    return payload_by_rep


class _Documents(NamedTuple):
    records: list[DocumentRecord]
    findings: list[Finding]
    files: list[MetadataFile]
    unknown: dict[str, Mapping[str, str]]


def _read_documents(
    submission: Submission,
    ptype: PackageType,
    payload: Mapping[str, Mapping[str, str]],
    tables: Tables,
    *,
    intake: bool,
) -> _Documents:
    """Every document description, parsed, checked and matched to its data files."""
    out = _Documents([], [], [], {})
    for m in sorted(submission.metadata, key=lambda x: x.name.raw):
        kind = document_kind(m.name.text)
        if kind is None or m.representation is None or m.role is not MetadataRole.DESCRIPTIVE:
            continue
        out.files.append(m)
        doc = parse_description(m.path, _document_variant(kind, ptype), m.name.text)
        out.findings.extend(check_description(doc, tables, intake=intake))
        if doc.unknown_values:
            out.unknown[m.name.text] = doc.unknown_values
        files = _match(m.name.text, kind, payload.get(m.representation, {}))
        if not files:
            out.findings.append(
                Finding(
                    code="description.document_without_file",
                    severity=Severity.ERROR,
                    where=m.name.text,
                    message="no data file of the representation matches this document description's name",
                    params={"file": m.name.text, "representation": m.representation},
                )
            )
        out.records.append(
            DocumentRecord(
                kind=kind,
                description=doc.description,
                data_files=tuple(files),
                representation=m.representation,
            )
        )
    return out


def _files_without_description(
    payload: Mapping[str, Mapping[str, str]], documents: Sequence[DocumentRecord]
) -> list[Finding]:
    """A data file no description names is kept, with a warning: the agency may have forgotten one."""
    claimed = {(d.representation, f) for d in documents for f in d.data_files}
    return [
        Finding(
            code="description.file_without_description",
            severity=Severity.WARNING,
            where=f"representations/{rep}/data/{name}",
            message="no EAD_doc/EAD_pic/EAD_media description names this data file",
            params={"file": f"representations/{rep}/data/{nfc_name}"},
        )
        for rep, names in payload.items()
        for nfc_name, name in names.items()
        if (rep, name) not in claimed
    ]


def _total_mismatch(where: str, package: Description, documents: Sequence[DocumentRecord]) -> list[Finding]:
    total = package.get("totalDoc")
    if not (total.isdigit() and documents and int(total) != len(documents)):
        return []
    return [
        Finding(
            code="description.total_mismatch",
            severity=Severity.WARNING,
            where=f"{where}#totalDoc",
            message=f"totalDoc says {total} documents, the package describes {len(documents)}",
            params={"file": where, "declared": total, "found": len(documents)},
        )
    ]


def check_records(records: RecordSet, tables: Tables, *, intake: bool) -> list[Finding]:
    """The checks ingest makes, on records that are not files yet (a legacy export mapped onto
    TT 05): every description against its table, and the rules across files."""
    findings: list[Finding] = []
    for desc in [records.package, *(d.description for d in records.documents)]:
        findings.extend(check_description(ParsedDescription(desc, (), (), ()), tables, intake=intake))
    findings.extend(
        _package_checks(records.package_type, records.package.path, records.package, list(records.documents))
    )
    return findings


def _package_checks(
    ptype: PackageType, where: str, package: Description, documents: list[DocumentRecord]
) -> list[Finding]:
    """Rules across files, found before anything is built or stored: a DIP is for readers, not for
    ingest; every tài liệu needs its own số thứ tự in the hồ sơ (the AIP's docOrdinal); a docCode
    should be the dossier's code + the STT (vn-standards.md §1.1)."""
    out: list[Finding] = []
    if ptype is PackageType.DIP:
        out.append(
            Finding(
                code="description.dip_not_ingestible",
                severity=Severity.ERROR,
                where=where,
                message="a DIP (dissemination package) is made for a reader and cannot be ingested",
                params={"file": where},
            )
        )
        return out
    seen: dict[int, str] = {}
    for position, doc in enumerate(documents, start=1):
        ordinal = document_ordinal(doc.description, position)
        if ordinal in seen:
            out.append(
                Finding(
                    code="description.duplicate_ordinal",
                    severity=Severity.ERROR,
                    where=doc.description.path,
                    message=f"số thứ tự {ordinal} is also the number of {seen[ordinal]}",
                    params={"file": doc.description.path, "ordinal": ordinal, "other": seen[ordinal]},
                )
            )
        seen.setdefault(ordinal, doc.description.path)
    rules = shipped_code_rules()
    key = "fileCode" if package.get("fileCode") else "arcFileCode"
    file_code = package.get(key)
    if file_code:
        if package.variant is Variant.HOSO_SIP:
            problem = dossier_code_problem(file_code, rules)
        elif package.variant is Variant.TAILIEU_SIP:
            problem = package_code_problem(file_code, rules)
        else:  # an AIP's code starts with the code of the archive that made it: characters only
            problem = characters_problem(file_code, rules)
        if problem is not None:
            out.append(_code_finding(problem, f"{package.path}#{key}", package.path, file_code))
    for doc in documents:
        code = doc.description.get("docCode")
        if not code:
            continue
        problem = characters_problem(code, rules)
        if problem is not None:
            out.append(_code_finding(problem, f"{doc.description.path}#docCode", doc.description.path, code))
        elif ptype.is_dossier and file_code and not code.startswith(f"{file_code}."):
            # a SIP_tailieu's code names the submission, not a hồ sơ: its documents keep their own
            out.append(
                Finding(
                    code="description.doc_code_prefix",
                    severity=rules.doc_code_prefix,
                    where=f"{doc.description.path}#docCode",
                    message=f"docCode {code} does not start with the dossier code {file_code}",
                    params={"file": doc.description.path, "value": code, "file_code": file_code},
                )
            )
    return out


def _code_finding(problem: CodeProblem, where: str, file: str, value: str) -> Finding:
    """A code that breaks ``config/tt05/codes.toml`` refuses the package (issue 11 item 22)."""
    code = "description.code_structure"
    if problem.kind == "characters":
        code = "description.code_characters"
    elif problem.kind == "year":
        code = "description.code_year"
    return Finding(
        code=code,
        severity=Severity.ERROR,
        where=where,
        message=f"code {value!r}: {problem.kind}: {problem.detail}",
        params={"file": file, "value": value, **problem.params},
    )


def _match(description_name: str, kind: DocumentKind, payload: Mapping[str, str]) -> list[str]:
    base = nfc(PurePosixPath(description_name).name)
    prefix = next(p for p, k in _KIND_PREFIX.items() if k is kind)
    key = base[len(prefix) : -len(".xml")]
    exact = [name for nfc_name, name in payload.items() if nfc_name == key]
    if exact:
        return exact
    by_stem = [name for nfc_name, name in payload.items() if PurePosixPath(nfc_name).stem == key]
    if by_stem:
        return sorted(by_stem)
    by_tail = [name for nfc_name, name in payload.items() if PurePosixPath(nfc_name).name == key]
    return by_tail


def _legacy(submission: Submission) -> tuple[RecordSource, tuple[Unmapped, ...]]:
    """A package we converted from a legacy export says so in its mapping report."""
    report = next(
        (m for m in submission.metadata if nfc(m.name.text) == LEGACY_REPORT and m.representation is None),
        None,
    )
    if report is None:
        return RecordSource.TT05, ()
    try:
        data = json.loads(report.path.read_text(encoding="utf-8"))
        source = RecordSource(data["source"])
        unmapped = tuple(
            Unmapped(where=u["where"], field=u["field"], value=u["value"], reason=u["reason"])
            for u in data.get("unmapped", [])
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidPackageError(
            f"{LEGACY_REPORT} is not a Kho Lưu legacy mapping report: {exc}",
            code="description.bad_legacy_report",
            path=LEGACY_REPORT,
            params={"problem": str(exc)},
        ) from exc
    return source, unmapped
