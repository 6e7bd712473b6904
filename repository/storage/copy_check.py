"""Check one stored copy of an AIP against what the catalog recorded: the findings of :class:`CopySet`.

A copy (one AIP in one location) is streamed key by key from the backend, in bounded memory and
never through a temporary copy of the package, and checked against:

* the OCFL inventory (sha512 of every content file, the SHA-256 ``fixity`` block, inventory
  sidecars, missing and unexpected files: :func:`repository.storage.ocfl_verify.verify_object`);
* what the catalog recorded (:class:`Recorded`: the SHA-256 and SHA-512 of every file of every
  version);
* the package's own manifests (the CHECKSUM of every file the root and representation METS of the
  current version reference, and the fixity each PREMIS file object records).

Every problem is one :class:`~preservation.findings.Finding` with a :class:`DamageKind`; ``where``
is the path relative to the object root (a content path for damaged bytes, a logical path for a
contradiction between records, ``""`` for the whole object).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from preservation.errors import PreservationError
from preservation.findings import DamageKind, Finding, Severity
from preservation.mets_read import MetsReadError, read_mets
from preservation.premis_fixity import iter_file_fixity
from repository.storage.errors import IntegrityError, NotFound
from repository.storage.manifest_verdicts import ManifestVerdicts
from repository.storage.ocfl import OcflStore
from repository.storage.ocfl_inventory import INVENTORY, SIDECAR, fixity_of

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"

KIND_OF_CODE = {
    "ocfl.digest_mismatch": DamageKind.CORRUPT,
    "ocfl.inventory_sidecar": DamageKind.CORRUPT,
    "ocfl.head_inventory_differs": DamageKind.CORRUPT,
    "ocfl.inventory_invalid": DamageKind.CORRUPT,
    "ocfl.missing_file": DamageKind.MISSING,
    "ocfl.object_not_found": DamageKind.MISSING,
    "ocfl.unexpected_file": DamageKind.UNEXPECTED,
}


@dataclass(frozen=True)
class Recorded:
    """What the catalog recorded for one file of one version (digests in lower-case hex)."""

    version: int
    path: str
    sha256: str
    sha512: str
    size: int

    @classmethod
    def of(cls, row: FileRow) -> Recorded:
        """From a catalog file row (anything with its columns: the catalog's ``File``)."""
        return cls(row.version, row.aip_path, row.sha256, row.sha512, row.size)


class FileRow(Protocol):
    """The columns of a catalog file row that a check needs."""

    @property
    def version(self) -> int: ...

    @property
    def aip_path(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def sha512(self) -> str: ...

    @property
    def size(self) -> int: ...


def damage(code: str, where: str, message: str, kind: DamageKind, **params: Any) -> Finding:
    """One finding about a stored copy."""
    return Finding(code, Severity.ERROR, where, message, params, kind)


def inspect_copy(
    store: OcflStore,
    aip_id: str,
    recorded: Sequence[Recorded],
    version: int,
    verdicts: ManifestVerdicts | None = None,
) -> list[Finding]:
    """Every problem of one copy; an empty list is a good copy.

    ``verdicts``: METS and PREMIS files already found to agree with these catalog rows, byte for
    byte, are not parsed again (:mod:`repository.storage.manifest_verdicts`); their bytes are still
    read and hashed with every other file.

    Raises:
        NotFound: ``ocfl.object_not_found`` (the object is gone).
        StorageError: the copy could not be read (a location down, access refused).
    """
    found = store.verify_object(aip_id, only="sha256")  # bytes hashed once; SHA-512 compared as records below
    problems = [_ocfl_finding(f) for f in found if f.severity is Severity.ERROR]
    if any(p.where in (INVENTORY, SIDECAR) for p in problems):
        return one_per_path(problems)  # the inventory itself is damaged: nothing else can be trusted here
    inventory = store.inventory(aip_id)
    sha256_of = fixity_of(inventory, "sha256")
    states: dict[int, dict[str, str] | None] = {}  # version -> logical path -> digest, built once each
    for row in sorted(recorded, key=lambda r: (r.version, r.path)):
        if row.version not in states:
            states[row.version] = _state(inventory, f"v{row.version}")
        state = states[row.version]
        if state is None:
            message = f"version v{row.version} is in the catalog, not in storage"
            problems.append(_manifest(row.path, f"v{row.version}", "catalog.version_missing", message))
            continue
        digest = state.get(row.path)
        if digest is None:
            message = f"{row.path} of v{row.version} is in the catalog, not in storage"
            problems.append(_manifest(row.path, f"v{row.version}", "catalog.file_missing", message))
        elif digest.lower() != row.sha512:
            message = f"sha512 of {row.path} in the inventory is not the one recorded at ingest"
            problems.append(_manifest(row.path, f"v{row.version}", "catalog.digest_differs", message))
        else:
            content = inventory["manifest"].get(digest, [None])[0]
            stored = sha256_of.get(content) if content else None
            if stored is not None and stored.lower() != row.sha256:
                message = (
                    f"the SHA-256 fixity of {row.path} in the inventory is not the one recorded at ingest"
                )
                problems.append(_manifest(row.path, f"v{row.version}", "catalog.digest_differs", message))
    stored_version = {
        (row.version, row.path) for row in recorded
    }  # a stored version with a file the catalog lacks is a contradiction too
    for number in sorted({row.version for row in recorded}):
        block = inventory["versions"].get(f"v{number}")
        for paths in (block or {}).get("state", {}).values():
            for path in paths:
                if (number, path) not in stored_version:
                    message = f"{path} of v{number} is in storage, not in the catalog"
                    problems.append(_manifest(path, f"v{number}", "catalog.file_unknown", message))
    current = {row.path: row for row in recorded if row.version == version}
    manifests = _Manifests(store, aip_id, inventory, current, problems, verdicts)
    problems.extend(_mets_problems(manifests))
    problems.extend(_premis_problems(manifests))
    return one_per_path(problems)


def _state(inventory: Mapping[str, Any], version: str) -> dict[str, str] | None:
    """Logical path -> digest of one version's state (OCFL 1.1 §3.5.3.1), None if no such version.

    Looked up once per catalog row: a dictionary, not a scan of the state for every row (which made
    the audit of a 4,000-file AIP quadratic, issue 14)."""
    block = inventory["versions"].get(version)
    if block is None:
        return None
    return {path: digest for digest, paths in block["state"].items() for path in paths}


def finding_dict(f: Finding) -> dict[str, Any]:
    """A finding about a copy as the reports print it (audit and verify: the same keys)."""
    out: dict[str, Any] = {"path": f.where, "kind": str(f.kind or DamageKind.CORRUPT), "code": f.code}
    out["message"] = f.message
    for key in ("expected", "found"):
        if key in f.params:
            out[key] = f.params[key]
    return out


def missing_object(exc: NotFound) -> Finding:
    """The whole object (or its root inventory) is gone: damage, not "could not check"."""
    return damage(exc.code, "", str(exc), DamageKind.MISSING)


def one_per_path(problems: list[Finding]) -> list[Finding]:
    """One finding per damaged path (a digest and a sidecar check may both fail), messages joined;
    record contradictions stay apart by code, since each names a different record."""
    merged: dict[tuple[str, str, str], Finding] = {}
    for p in problems:
        key = (str(p.kind), p.where, p.code if p.kind is DamageKind.MANIFEST else "")
        if key in merged:
            first = merged[key]
            merged[key] = Finding(
                first.code,
                first.severity,
                first.where,
                f"{first.message}; {p.message}",
                first.params,
                first.kind,
            )
        else:
            merged[key] = p
    return list(merged.values())


def _ocfl_finding(f: Finding) -> Finding:
    params = {k: f.params[k] for k in ("expected", "found") if k in f.params}
    return damage(f.code, f.where, f.message, KIND_OF_CODE.get(f.code, DamageKind.CORRUPT), **params)


def _manifest(path: str, where: str, code: str, message: str) -> Finding:
    return damage(code, path, f"{where}: {message}", DamageKind.MANIFEST)


class _Manifests:
    """The head version's METS and PREMIS files: opened by the content path the inventory already
    read names (not by reading the inventory again for each), and passed over when ``verdicts``
    says these very bytes already agreed with these catalog rows."""

    def __init__(
        self,
        store: OcflStore,
        aip_id: str,
        inventory: Mapping[str, Any],
        current: Mapping[str, Recorded],
        problems: Sequence[Finding],
        verdicts: ManifestVerdicts | None,
    ) -> None:
        self.store = store
        self.aip_id = aip_id
        self.current = current
        self.verdicts = verdicts if verdicts is not None and verdicts.folder is not None else None
        self._manifest: Mapping[str, list[str]] = inventory["manifest"]
        self._head = _state(inventory, str(inventory.get("head", ""))) or {}
        self._damaged = {p.where for p in problems}
        self._catalog = (
            ManifestVerdicts.catalog_digest((r.path, r.sha256, r.sha512, r.size) for r in current.values())
            if self.verdicts is not None
            else ""
        )

    def paths(self, pattern: str) -> list[str]:
        """The current version's logical paths that fully match ``pattern``."""
        matcher = re.compile(pattern)
        return [p for p in self.current if matcher.fullmatch(p)]

    def open(self, path: str) -> BinaryIO:
        content = self._content(path)
        if content is None:  # not in the head state: NotFound, as for any missing file
            return self.store.open_file(self.aip_id, path)
        return self.store.open_content(self.aip_id, content)

    def already_agreed(self, kind: str, path: str) -> str | None:
        """None when the file must be parsed; else its verdict key, or "" when it agreed before."""
        if self.verdicts is None:
            return None
        content = self._content(path)
        if content is None or content in self._damaged or path in self._damaged:
            return None  # damaged bytes or records: parsed, and reported, every time
        row = self.current[path]
        key = ManifestVerdicts.key(kind, path, f"{row.sha256}:{row.sha512}", self._catalog)
        return "" if self.verdicts.agreed(key) else key

    def agreed(self, key: str | None) -> None:
        if key and self.verdicts is not None:
            self.verdicts.remember(key)

    def _content(self, path: str) -> str | None:
        digest = self._head.get(path)
        paths = self._manifest.get(digest, []) if digest else []
        return paths[0] if paths else None


def _mets_problems(manifests: _Manifests) -> list[Finding]:
    """The CHECKSUM each METS of the current version declares, against the catalog's SHA-256."""
    out: list[Finding] = []
    current = manifests.current
    for mets_path in manifests.paths(r"METS\.xml|representations/[^/]+/METS\.xml"):
        key = manifests.already_agreed("mets", mets_path)
        if key == "":
            continue
        try:
            with manifests.open(mets_path) as fh:
                mets = read_mets(fh, mets_path)
        except (NotFound, IntegrityError, MetsReadError):
            continue  # a damaged or missing METS is already a corrupt/missing file finding
        found: list[Finding] = []
        for ref in mets.references:
            if not ref.checksum or not ref.href or ref.checksum_type != "SHA-256":
                continue
            if ref.target is None:
                message = f"references {ref.href}, outside the package"
                found.append(_manifest(ref.href, mets_path, "mets.reference_missing", message))
                continue
            row = current.get(ref.target)
            if row is None:
                message = f"references {ref.target}, which the AIP does not contain"
                found.append(_manifest(ref.target, mets_path, "mets.reference_missing", message))
            elif row.sha256 != ref.checksum:
                message = f"declares SHA-256 {ref.checksum} for {ref.target}, recorded {row.sha256}"
                found.append(_manifest(ref.target, mets_path, "mets.checksum_differs", message))
        out.extend(found)
        if not found:
            manifests.agreed(key)
    return out


def _premis_problems(manifests: _Manifests) -> list[Finding]:
    """The fixity each PREMIS file object of the current version records, against the catalog.

    Read as a stream (:func:`preservation.premis_fixity.iter_file_fixity`): a document that turns
    out not to be one we wrote adds no finding, as before, and is a corrupt file finding anyway."""
    out: list[Finding] = []
    current = manifests.current
    for premis_path in manifests.paths(r"(representations/[^/]+/)?metadata/preservation/PREMIS[^/]*\.xml"):
        key = manifests.already_agreed("premis", premis_path)
        if key == "":
            continue
        found: list[Finding] = []
        try:
            with manifests.open(premis_path) as fh:
                for f in iter_file_fixity(fh, premis_path):
                    row = current.get(f.aip_path)
                    if row is None:
                        message = f"describes {f.aip_path}, which the AIP does not contain"
                        found.append(_manifest(f.aip_path, premis_path, "premis.object_missing", message))
                    elif (f.sha256, f.sha512, f.size) != (row.sha256, row.sha512, row.size):
                        message = (
                            f"records fixity for {f.aip_path} that differs from the one recorded at ingest"
                        )
                        found.append(_manifest(f.aip_path, premis_path, "premis.fixity_differs", message))
        except (NotFound, IntegrityError, PreservationError):
            continue  # a damaged or missing PREMIS is already a corrupt/missing file finding
        out.extend(found)
        if not found:
            manifests.agreed(key)
    return out
