"""The AIPs a storage location holds, read back without the catalog: listed, parsed, verified.

:class:`repository.storage.copyset.CopySet` works from what the catalog recorded; the catalog
rebuild (``kholuu rebuild-catalog``) has no catalog yet and must learn everything from storage.
This is its one door into storage, read-only: it lists the objects of a location, reads an
object's root inventory (checked against its sidecar, OCFL 1.1 §3.5.6) into typed versions and
files, reads a small file of a version (checked against the inventory's SHA-512 before the caller
sees a byte), and says whether another location holds the same object. OCFL names and keys stay
in this package; a workflow sees :class:`StoredObject`, :class:`StoredVersion` and
:class:`StoredFile` only.

An inventory that is not shaped as OCFL 1.1 says (a missing block, a version without a valid
``created`` time, content without the ``sha256`` fixity we always write) is
``ocfl.inventory_invalid``; a stored file that differs from the inventory is
``ocfl.digest_mismatch``; a content file that is gone is ``ocfl.missing_file``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError
from repository.storage.locations import Location
from repository.storage.ocfl_inventory import fixity_of, head_number, logical_state, version_number

__all__ = ["CopyMatch", "OtherCopy", "StoredFile", "StoredObject", "StoredObjects", "StoredVersion"]


@dataclass(frozen=True)
class StoredFile:
    """One file of a stored version, as its inventory records it (sizes as stored)."""

    path: str  # logical path in the version
    size: int
    sha256: str  # lower-case hex, from the inventory's sha256 fixity block
    sha512: str  # lower-case hex, the inventory's content digest
    content: str = field(repr=False, compare=False)  # where the bytes are (storage's business)


@dataclass(frozen=True)
class StoredVersion:
    """One OCFL version block (OCFL 1.1 §3.5.3.1) and its logical state."""

    number: int
    created: datetime
    message: str
    files: Mapping[str, StoredFile]  # logical path -> file


@dataclass(frozen=True)
class StoredObject:
    """One object as its location holds it, every version, read from a verified root inventory."""

    aip_id: str
    location: str
    object_path: str  # the object's folder relative to the storage root (the copy row records it)
    digest: str  # SHA-512 of the root inventory, confirmed by its sidecar
    versions: tuple[StoredVersion, ...]  # oldest first, numbered 1..head
    inventory: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def head(self) -> int:
        return self.versions[-1].number

    def version(self, number: int) -> StoredVersion:
        return self.versions[number - 1]


class CopyMatch(StrEnum):
    """How another location's copy of an object compares with the one read."""

    SAME = "same"  # the identical root inventory
    SAME_VERSIONS = "same versions"  # identical but for the versions' ``created`` times
    DIFFERENT = "different"  # other content, other versions, or a damaged inventory
    ABSENT = "absent"  # the location does not hold the object


@dataclass(frozen=True)
class OtherCopy:
    """Another location's copy of an object, compared (:meth:`StoredObjects.compare`)."""

    location: str
    match: CopyMatch
    object_path: str
    written_at: datetime | None = None  # its head version's time, when it holds the same versions
    digest: str = ""  # its root inventory's SHA-512, or ``damaged (<code>)``


class StoredObjects:
    """The objects stored in one location, read-only."""

    def __init__(self, location: Location) -> None:
        self.location = location

    @property
    def name(self) -> str:
        return self.location.name

    def ids(self) -> list[str]:
        """Every published object's id, sorted. Raises StorageError when the location cannot be listed."""
        return sorted(self.location.store.list_objects())

    def read(self, aip_id: str) -> StoredObject:
        """Every version of the object, from its root inventory checked against the sidecar, with
        the stored size of every content file.

        Raises:
            NotFound: ``ocfl.object_not_found``, or ``ocfl.missing_file`` for a content file.
            IntegrityError: ``ocfl.inventory_sidecar``; ``ocfl.inventory_invalid`` when the
                inventory is not shaped as OCFL 1.1 says or is about another object.
            BackendUnavailable: the location cannot be read now.
        """
        store = self.location.store
        inventory, digest = store.verified_inventory(aip_id)
        try:
            versions = _versions(inventory, aip_id)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise self._invalid(aip_id, repr(exc)) from exc
        except _Malformed as exc:
            raise self._invalid(aip_id, str(exc)) from None
        sizes: dict[str, int] = {}
        for version in versions:
            for content, _ in version.files.values():
                if content not in sizes:
                    size = store.content_size(aip_id, content)
                    if size is None:
                        raise self._missing(f"content file {content} of {aip_id} is missing", content)
                    sizes[content] = size
        return StoredObject(
            aip_id=aip_id,
            location=self.name,
            object_path=store.object_path(aip_id),
            digest=digest,
            versions=tuple(
                StoredVersion(
                    v.number,
                    v.created,
                    v.message,
                    {
                        p: StoredFile(p, sizes[c], sha256, v.sha512[p], c)
                        for p, (c, sha256) in v.files.items()
                    },
                )
                for v in versions
            ),
            inventory=inventory,
        )

    def read_file(self, obj: StoredObject, version: int, path: str) -> bytes:
        """The whole of one (small) file of a version, checked against the inventory's SHA-512.

        Raises:
            NotFound: ``ocfl.no_such_path``: ``path`` is not in that version.
            IntegrityError: ``ocfl.digest_mismatch``.
        """
        stored = obj.version(version).files.get(path)
        if stored is None:
            message = f"object {obj.aip_id} has no {path!r} in v{version}"
            raise self._missing(
                message, path, code="ocfl.no_such_path", object_id=obj.aip_id, version=version
            )
        with self.location.store.open_content(obj.aip_id, stored.content) as fh:
            data = fh.read()
        found = hashlib.sha512(data).hexdigest()
        if found != stored.sha512:
            raise IntegrityError(
                f"{path} of {obj.aip_id} v{version}: stored sha512 is {found}, "
                f"the inventory says {stored.sha512}",
                code="ocfl.digest_mismatch",
                key=path,
                location=self.name,
                algorithm="sha512",
                expected=stored.sha512,
                found=found,
                params={"object_id": obj.aip_id, "version": version},
            )
        return data

    def compare(self, obj: StoredObject) -> OtherCopy:
        """Whether this location holds the same object as ``obj`` (read from another location).

        The same object means the same root inventory. Each location's inventory is written
        separately, so the versions' ``created`` times may differ by a second or so: an inventory
        that differs only there holds the same versions (:attr:`CopyMatch.SAME_VERSIONS`).

        Raises:
            BackendUnavailable: the location cannot be read now (it says nothing about the copy).
        """
        path = self.location.store.object_path(obj.aip_id)
        try:
            inventory, digest = self.location.store.verified_inventory(obj.aip_id)
        except BackendUnavailable:
            raise
        except NotFound:
            return OtherCopy(self.name, CopyMatch.ABSENT, path)
        except StorageError as exc:
            return OtherCopy(self.name, CopyMatch.DIFFERENT, path, digest=f"damaged ({exc.code})")
        if digest == obj.digest:
            match = CopyMatch.SAME
        elif _timeless(inventory) == _timeless(obj.inventory):
            match = CopyMatch.SAME_VERSIONS
        else:
            return OtherCopy(self.name, CopyMatch.DIFFERENT, path, digest=digest)
        written = datetime.fromisoformat(inventory["versions"][inventory["head"]]["created"])
        return OtherCopy(self.name, match, path, written_at=written, digest=digest)

    def _missing(self, message: str, key: str, *, code: str = "ocfl.missing_file", **params: Any) -> NotFound:
        return NotFound(message, code=code, key=key, location=self.name, params=params)

    def _invalid(self, aip_id: str, problem: str) -> IntegrityError:
        return IntegrityError(
            f"the inventory of {aip_id} is malformed: {problem}",
            code="ocfl.inventory_invalid",
            key=aip_id,
            location=self.name,
        )


class _Malformed(Exception):
    """An inventory that parses but contradicts OCFL 1.1 or its object (turned into IntegrityError)."""


@dataclass(frozen=True)
class _Parsed:
    number: int
    created: datetime
    message: str
    files: dict[str, tuple[str, str]]  # logical path -> (content path, sha256)
    sha512: dict[str, str]  # logical path -> sha512


def _versions(inventory: Mapping[str, Any], aip_id: str) -> list[_Parsed]:
    if inventory.get("id") != aip_id:
        raise _Malformed(f"inventory id is {inventory.get('id')!r}")
    names = {version_number(name): name for name in inventory["versions"]}
    sha256_of = fixity_of(inventory, "sha256")
    out: list[_Parsed] = []
    for number in range(1, head_number(inventory) + 1):
        block = inventory["versions"].get(names.get(number, "")) or {}
        try:
            created = datetime.fromisoformat(str(block.get("created")))
        except ValueError:
            raise _Malformed(f"version v{number} has no valid created time") from None
        content_of, sha512_of = logical_state(inventory, number, aip_id)
        files: dict[str, tuple[str, str]] = {}
        for path, content in content_of.items():
            if content not in sha256_of:
                raise _Malformed(f"no sha256 fixity for {content}")
            files[path] = (content, sha256_of[content].lower())
        out.append(_Parsed(number, created, str(block.get("message", "")), files, sha512_of))
    return out


def _timeless(inventory: Mapping[str, Any]) -> dict[str, Any]:
    versions = inventory.get("versions") or {}
    return {
        **inventory,
        "versions": {
            name: {k: v for k, v in block.items() if k != "created"} for name, block in versions.items()
        },
    }
