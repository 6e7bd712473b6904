"""Reading an OCFL storage root: the root itself (declared, laid out with extension 0003), the
objects in it, their inventories (checked against their sidecars), versions, files and exports.

The base of :class:`repository.storage.ocfl.OcflStore`, which adds the writing; apart so that the
many readers (audit, access, verification) are visibly separate from the commit protocol.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from preservation.findings import Finding
from preservation.fixity import Digests, MultiHasher, iter_blocks
from repository.storage import ocfl_verify
from repository.storage.backend import Backend, digest_key, join_key
from repository.storage.errors import IntegrityError, NotFound, StorageError
from repository.storage.ocfl_inventory import (
    INVENTORY,
    LAYOUT_CONFIG,
    LAYOUT_CONFIG_KEY,
    LAYOUT_DESCRIPTION,
    LAYOUT_FILE,
    LAYOUT_NAME,
    ROOT_DECLARATION,
    SIDECAR,
    check_object_id,
    fixity_of,
    json_bytes,
    logical_state,
    object_path_0003,
    read_json,
    read_sidecar,
    safe_parts,
    version_number,
)
from repository.storage.ocfl_source import (
    empty_folder,
)

ROOT_PREFIX = "ocfl-root"
"""Key folder of the OCFL storage root inside a backend."""
DEPOSIT_PREFIX = "deposit"
"""Key folder of our staging area, outside the OCFL root (which must hold only objects, OCFL 1.1 §4.2)."""


@dataclass(frozen=True)
class VersionInfo:
    """One OCFL version block (OCFL 1.1 §3.5.3.1)."""

    number: int
    created: datetime
    message: str
    user_name: str
    user_address: str


class OcflReader:
    """An OCFL 1.1 storage root over one :class:`Backend` (one storage location), read."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._root_checked = False

    # -- storage root ----------------------------------------------------------------------

    def initialize(self) -> None:
        """Create the storage root; idempotent (an existing root with our layout is accepted).

        Raises:
            StorageError: ``ocfl.root_not_ocfl`` if ``ocfl-root/`` holds other things and no
                OCFL 1.1 declaration; ``ocfl.layout_unsupported`` for a root with another layout.
        """
        declaration, text = ROOT_DECLARATION
        if self.backend.stat(join_key(ROOT_PREFIX, declaration)) is not None:
            self._check_root()
            return
        ours = {join_key(ROOT_PREFIX, LAYOUT_FILE), join_key(ROOT_PREFIX, LAYOUT_CONFIG_KEY)}
        foreign = next((k for k in self.backend.iter_keys(ROOT_PREFIX) if k not in ours), None)
        if foreign is not None:
            raise StorageError(
                f"{ROOT_PREFIX} is not empty and is not an OCFL 1.1 storage root (found {foreign})",
                code="ocfl.root_not_ocfl",
                key=foreign,
                location=self.backend.name,
            )
        self._write_bytes(join_key(ROOT_PREFIX, LAYOUT_CONFIG_KEY), json_bytes(LAYOUT_CONFIG))
        layout = {"extension": LAYOUT_NAME, "description": LAYOUT_DESCRIPTION}
        self._write_bytes(join_key(ROOT_PREFIX, LAYOUT_FILE), json_bytes(layout))
        self._write_bytes(join_key(ROOT_PREFIX, declaration), text)  # last: a root exists once declared
        self._root_checked = True

    def object_path(self, object_id: str) -> str:
        """The object's folder relative to the OCFL storage root (extension 0003)."""
        return object_path_0003(check_object_id(object_id))

    def exists(self, object_id: str) -> bool:
        """True when the object's root inventory exists (the object has been published)."""
        return self.backend.stat(self._key(object_id, INVENTORY)) is not None

    def list_objects(self) -> Iterator[str]:
        """Ids of every published object, read from their root inventories."""
        for object_path, complete in self._object_dirs():
            if complete:
                yield str(read_json(self.backend, join_key(ROOT_PREFIX, object_path, INVENTORY))[0]["id"])

    def incomplete_objects(self) -> list[str]:
        """Object folders (relative to the OCFL root) that hold keys but no root inventory.

        Only an interrupted publish leaves these; nothing in them was committed, and the OCFL root
        is invalid until they are removed (OCFL 1.1 E063). Remove them with :meth:`remove_object`
        (the id is the job's AIP id; the folder's last component is the percent-encoded id).
        """
        return [path for path, complete in self._object_dirs() if not complete]

    # -- reading ---------------------------------------------------------------------------

    def inventory(self, object_id: str) -> dict[str, Any]:
        """The parsed root inventory (OCFL 1.1 §3.5). Raises NotFound ``ocfl.object_not_found``."""
        return self._load_inventory(object_id, verify_sidecar=False)[0]

    def verified_inventory(self, object_id: str) -> tuple[dict[str, Any], str]:
        """The root inventory and its SHA-512, confirmed by the sidecar (OCFL 1.1 §3.5.6).

        Raises:
            NotFound: ``ocfl.object_not_found``.
            IntegrityError: ``ocfl.inventory_sidecar`` when the sidecar disagrees.
        """
        return self._load_inventory(object_id, verify_sidecar=True)

    def versions(self, object_id: str) -> list[VersionInfo]:
        """Every version block of the object, oldest first."""
        out = []
        for name, block in self.inventory(object_id)["versions"].items():
            user = block.get("user") or {}
            out.append(
                VersionInfo(
                    number=version_number(name) or 0,
                    created=datetime.fromisoformat(block["created"]),
                    message=str(block.get("message", "")),
                    user_name=str(user.get("name", "")),
                    user_address=str(user.get("address", "")),
                )
            )
        return sorted(out, key=lambda v: v.number)

    def version_state(self, object_id: str, version: int | None = None) -> dict[str, str]:
        """Logical path -> content path (relative to the object root) of a version (default: head)."""
        return logical_state(self.inventory(object_id), version, object_id)[0]

    def content_size(self, object_id: str, content_path: str) -> int | None:
        """Size in bytes of a content file (path relative to the object root), None if it is missing."""
        stat = self.backend.stat(self._key(object_id, content_path))
        return stat.size if stat is not None else None

    def open_content(self, object_id: str, content_path: str) -> BinaryIO:
        """A stream of one content file (path relative to the object root, as the inventory's
        manifest names it); the caller checks it against the inventory it already holds."""
        return self.backend.open_read(self._key(object_id, content_path))

    def open_file(self, object_id: str, logical_path: str, version: int | None = None) -> BinaryIO:
        """A stream of one file of a version. Raises NotFound ``ocfl.no_such_path``."""
        content_path = self.version_state(object_id, version).get(logical_path)
        if content_path is None:
            raise NotFound(
                f"object {object_id} has no {logical_path!r} in that version",
                code="ocfl.no_such_path",
                key=logical_path,
                location=self.backend.name,
                params={"object_id": object_id, "version": version},
            )
        return self.backend.open_read(self._key(object_id, content_path))

    def export_version(
        self, object_id: str, destination: Path, version: int | None = None
    ) -> dict[str, Digests]:
        """Write a version's logical state into ``destination``, verified file by file.

        Every file is streamed, hashed (sha256, sha512) and compared with the inventory's sha512
        and, where recorded, its sha256 fixity. Names are written byte for byte.

        Args:
            destination: a folder that does not exist or is empty.

        Returns:
            Logical path -> size, sha256 and sha512 of the exported file.

        Raises:
            IntegrityError: ``ocfl.digest_mismatch`` naming the logical path (nothing exported is
                left behind), ``ocfl.inventory_sidecar``.
            StorageError: ``ocfl.destination_not_empty``.
        """
        inventory = self._load_inventory(object_id, verify_sidecar=True)[0]
        state, sha512_of = logical_state(inventory, version, object_id)
        sha256_of = fixity_of(inventory, "sha256")
        if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
            raise StorageError(
                f"{destination} exists and is not an empty folder",
                code="ocfl.destination_not_empty",
                key=str(destination),
                location=self.backend.name,
            )
        created = not destination.exists()
        destination.mkdir(parents=True, exist_ok=True)
        out: dict[str, Digests] = {}
        try:
            for logical_path, content_path in sorted(state.items()):
                digests = self._export_file(
                    object_id, content_path, destination.joinpath(*safe_parts(logical_path))
                )
                for algorithm, wanted in (
                    ("sha512", sha512_of[logical_path]),
                    ("sha256", sha256_of.get(content_path)),
                ):
                    if wanted is not None and digests[algorithm] != wanted.lower():
                        raise IntegrityError(
                            f"{logical_path}: stored {algorithm} is {digests[algorithm]}, "
                            f"the inventory says {wanted.lower()}",
                            code="ocfl.digest_mismatch",
                            key=logical_path,
                            location=self.backend.name,
                            algorithm=algorithm,
                            expected=wanted.lower(),
                            found=digests[algorithm],
                            params={"object_id": object_id, "content_path": content_path},
                        )
                out[logical_path] = digests
        except BaseException:
            empty_folder(destination, remove=created)
            raise
        return out

    def verify_object(self, object_id: str, *, only: str | None = None) -> list[Finding]:
        """Re-read every file of the object and compare with its inventory; see
        :func:`repository.storage.ocfl_verify.verify_object` for the checks and codes."""
        return ocfl_verify.verify_object(
            self.backend,
            join_key(ROOT_PREFIX, self.object_path(object_id)),
            object_id,
            only=only,
        )

    def _write_bytes(self, key: str, data: bytes) -> None:
        """Small metadata files (declarations, inventories): atomic and read back like content."""
        self.backend.write_atomic(
            key, io.BytesIO(data), expected={"sha512": hashlib.sha512(data).hexdigest()}
        )

    def _export_file(self, object_id: str, content_path: str, target: Path) -> Digests:
        target.parent.mkdir(parents=True, exist_ok=True)
        hasher = MultiHasher(("sha256", "sha512"))
        with self.backend.open_read(self._key(object_id, content_path)) as stream, target.open("xb") as fh:
            for block in iter_blocks(stream):
                fh.write(block)
                hasher.update(block)
        return hasher.result()

    def _key(self, object_id: str, relative: str) -> str:
        return join_key(ROOT_PREFIX, self.object_path(object_id), relative)

    def _require_root(self) -> None:
        if not self._root_checked:
            if self.backend.stat(join_key(ROOT_PREFIX, ROOT_DECLARATION[0])) is None:
                raise StorageError(
                    f"no OCFL storage root in location {self.backend.name} (initialize it first)",
                    code="ocfl.not_initialized",
                    location=self.backend.name,
                )
            self._check_root()

    def _check_root(self) -> None:
        """Our root must declare OCFL 1.1 and use exactly our 0003 configuration."""
        declaration, text = ROOT_DECLARATION
        problems = []
        with self.backend.open_read(join_key(ROOT_PREFIX, declaration)) as fh:
            if fh.read(64) != text:
                problems.append(f"{declaration} does not contain {text!r}")
        try:
            layout = read_json(self.backend, join_key(ROOT_PREFIX, LAYOUT_FILE))[0]
            config = read_json(self.backend, join_key(ROOT_PREFIX, LAYOUT_CONFIG_KEY))[0]
        except NotFound as exc:
            problems.append(f"missing {exc.key}")
        else:
            if layout.get("extension") != LAYOUT_NAME or config != LAYOUT_CONFIG:
                problems.append(f"layout {layout.get('extension')!r} {config!r}, not {LAYOUT_CONFIG!r}")
        if problems:
            raise StorageError(
                f"the OCFL storage root of {self.backend.name} is not ours: {'; '.join(problems)}",
                code="ocfl.layout_unsupported",
                key=ROOT_PREFIX,
                location=self.backend.name,
                params={"problems": problems},
            )
        self._root_checked = True

    def _object_dirs(self) -> Iterator[tuple[str, bool]]:
        """(object path, has a root inventory) for every 0003 object folder holding any key.

        Keys come sorted, so the keys of one object folder are contiguous.
        """
        current: str | None = None
        complete = False
        for key in self.backend.iter_keys(ROOT_PREFIX):
            parts = key.split("/")[1:]
            if len(parts) < 5 or not all(
                len(p) == 3 and all(c in "0123456789abcdef" for c in p) for p in parts[:3]
            ):
                continue
            folder = "/".join(parts[:4])
            if folder != current:
                if current is not None:
                    yield current, complete
                current, complete = folder, False
            complete = complete or (len(parts) == 5 and parts[4] == INVENTORY)
        if current is not None:
            yield current, complete

    def _load_inventory(self, object_id: str, *, verify_sidecar: bool) -> tuple[dict[str, Any], str]:
        key = self._key(object_id, INVENTORY)
        try:
            inventory, digest = read_json(self.backend, key)
        except NotFound as exc:
            raise NotFound(
                f"no object {object_id}",
                code="ocfl.object_not_found",
                key=object_id,
                location=self.backend.name,
            ) from exc
        if verify_sidecar:
            recorded = read_sidecar(self.backend, self._key(object_id, SIDECAR))
            if recorded != digest:
                raise IntegrityError(
                    f"the root inventory of {object_id} has sha512 {digest}, its sidecar says {recorded}",
                    code="ocfl.inventory_sidecar",
                    key=key,
                    location=self.backend.name,
                    algorithm="sha512",
                    expected=recorded or "",
                    found=digest,
                )
        return inventory, digest

    def _stored_digest(self, object_key: str) -> str:
        try:
            return digest_key(self.backend, join_key(object_key, INVENTORY)).sha512
        except NotFound:
            return ""


__all__ = ["DEPOSIT_PREFIX", "ROOT_PREFIX", "OcflReader", "VersionInfo"]
