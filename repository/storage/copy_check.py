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
from typing import Any, Protocol

from preservation.errors import PreservationError
from preservation.findings import DamageKind, Finding, Severity
from preservation.mets_read import MetsReadError, read_mets
from preservation.premis_read import read_premis
from repository.storage.errors import IntegrityError, NotFound
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


def inspect_copy(store: OcflStore, aip_id: str, recorded: Sequence[Recorded], version: int) -> list[Finding]:
    """Every problem of one copy; an empty list is a good copy.

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
    for row in sorted(recorded, key=lambda r: (r.version, r.path)):
        block = inventory["versions"].get(f"v{row.version}")
        if block is None:
            message = f"version v{row.version} is in the catalog, not in storage"
            problems.append(_manifest(row.path, f"v{row.version}", "catalog.version_missing", message))
            continue
        digest = next((d for d, paths in block["state"].items() if row.path in paths), None)
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
    problems.extend(_mets_problems(store, aip_id, current))
    problems.extend(_premis_problems(store, aip_id, current))
    return one_per_path(problems)


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


def _mets_problems(store: OcflStore, aip_id: str, current: Mapping[str, Recorded]) -> list[Finding]:
    """The CHECKSUM each METS of the current version declares, against the catalog's SHA-256."""
    out: list[Finding] = []
    mets_files = [
        p for p in current if p == "METS.xml" or re.fullmatch(r"representations/[^/]+/METS\.xml", p)
    ]
    for mets_path in mets_files:
        try:
            with store.open_file(aip_id, mets_path) as fh:
                mets = read_mets(fh, mets_path)
        except (NotFound, IntegrityError, MetsReadError):
            continue  # a damaged or missing METS is already a corrupt/missing file finding
        for ref in mets.references:
            if not ref.checksum or not ref.href or ref.checksum_type != "SHA-256":
                continue
            if ref.target is None:
                message = f"references {ref.href}, outside the package"
                out.append(_manifest(ref.href, mets_path, "mets.reference_missing", message))
                continue
            row = current.get(ref.target)
            if row is None:
                message = f"references {ref.target}, which the AIP does not contain"
                out.append(_manifest(ref.target, mets_path, "mets.reference_missing", message))
            elif row.sha256 != ref.checksum:
                message = f"declares SHA-256 {ref.checksum} for {ref.target}, recorded {row.sha256}"
                out.append(_manifest(ref.target, mets_path, "mets.checksum_differs", message))
    return out


def _premis_problems(store: OcflStore, aip_id: str, current: Mapping[str, Recorded]) -> list[Finding]:
    """The fixity each PREMIS file object of the current version records, against the catalog."""
    out: list[Finding] = []
    pattern = re.compile(r"(representations/[^/]+/)?metadata/preservation/PREMIS[^/]*\.xml")
    for premis_path in [p for p in current if pattern.fullmatch(p)]:
        try:
            with store.open_file(aip_id, premis_path) as fh:
                records = read_premis(fh.read(), premis_path, validate=False)
        except (NotFound, IntegrityError, PreservationError):
            continue  # a damaged or missing PREMIS is already a corrupt/missing file finding
        for f in records.files:
            row = current.get(f.aip_path)
            if row is None:
                message = f"describes {f.aip_path}, which the AIP does not contain"
                out.append(_manifest(f.aip_path, premis_path, "premis.object_missing", message))
            elif (f.sha256.lower(), f.sha512.lower(), f.size) != (row.sha256, row.sha512, row.size):
                message = f"records fixity for {f.aip_path} that differs from the one recorded at ingest"
                out.append(_manifest(f.aip_path, premis_path, "premis.fixity_differs", message))
    return out
