"""AIPs as OCFL 1.1 objects over any byte backend (https://ocfl.io/1.1/spec/).

A storage location's backend holds two key folders:

* ``ocfl-root/``: an OCFL 1.1 storage root (``0=ocfl_1.1``, ``ocfl_layout.json``) laid out with
  extension 0003 (hashed n-tuple trees with the object id as encapsulating directory; sha256,
  3 tuples of 3), so any OCFL tool (ocfl-py, ocfl-java, rocfl) can read every AIP without us.
* ``deposit/``: our private staging area. A new version is assembled and read back there, so an
  OCFL validator walking the root never sees a half-written object.

A version is published with ``move_prefix(..., last=[inventory.json, inventory.json.sha512])``:
the root inventory is the commit point (OCFL 1.1 §7.1 implementation notes: update the root
inventory last). On local disk a new object appears in one directory rename. Whatever a crash
leaves behind is found by :meth:`OcflStore.incomplete_objects` (no root inventory) and repaired
by :meth:`OcflStore.recover_object` (a version folder newer than the head, or a stale sidecar).
Concurrent writers of the *same* object are not coordinated here (the workflow runs one job per
AIP); a root inventory that changed under a writer is refused (``ocfl.concurrent_update``).

Reading (the root, inventories, versions, exports) is in :mod:`repository.storage.ocfl_reader`, the
checks of a version's source folder in :mod:`repository.storage.ocfl_source`; this module writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from preservation.fixity import Digests, digest_file
from repository.storage.backend import digest_key, join_key, write_files
from repository.storage.errors import IntegrityError, NotFound, StorageError
from repository.storage.ocfl_inventory import (
    CONTENT_DIRECTORY,
    INVENTORY,
    OBJECT_DECLARATION,
    SIDECAR,
    check_component,
    check_updatable,
    head_number,
    json_bytes,
    new_inventory,
    object_path_0003,
    read_json,
    read_sidecar,
    sidecar_bytes,
    version_block,
    version_number,
)
from repository.storage.ocfl_reader import DEPOSIT_PREFIX, ROOT_PREFIX, OcflReader, VersionInfo
from repository.storage.ocfl_source import (
    check_expected_paths,
    compare_source,
    quietly,
    scan_source,
)

STAGE_BATCH_FILES = 256
"""Files written to the deposit per batch (one durable sync each on a local disk)."""
STAGE_BATCH_BYTES = 256 * 1024 * 1024
"""Bytes per batch: a batch of large files is synced before the page cache fills with it."""


@dataclass
class _Staged:
    """One file of a version being staged: its logical path and source, where it goes in the
    deposit (None: its content is already in the object), the digests it must have, and the
    digests it has once written (or known)."""

    logical_path: str
    source: Path
    content_path: str | None
    digests: Digests | None
    wanted: Digests | None
    code: str


__all__ = ["DEPOSIT_PREFIX", "ROOT_PREFIX", "OcflStore", "PutResult", "VersionInfo", "object_path_0003"]


@dataclass(frozen=True)
class PutResult:
    """What :meth:`OcflStore.put_version` published.

    Attributes:
        object_path: the object's folder relative to the OCFL storage root (extension 0003).
        state: logical path -> size, sha256 and sha512 of every file of the new version.
    """

    object_id: str
    version: int
    object_path: str
    state: dict[str, Digests]


class OcflStore(OcflReader):
    """OCFL 1.1 storage root + deposit area over one :class:`Backend` (one storage location)."""

    # -- writing ---------------------------------------------------------------------------

    def put_version(
        self,
        object_id: str,
        source: Path,
        *,
        deposit_id: str,
        message: str,
        user_name: str,
        user_address: str,
        created: datetime | None = None,
        expected: Mapping[str, Digests] | None = None,
        on_file: Callable[[str], None] | None = None,
    ) -> PutResult:
        """Publish the content of the folder ``source`` as the object's next version.

        A new object gets v1; an existing one v(n+1), whose content is deduplicated by sha512
        against every earlier version (OCFL 1.1 §3.7 forward delta): unchanged files are not
        copied again and earlier versions are not touched. Every file is written to
        ``deposit/<deposit_id>/`` and read back, then the version is moved into the root with
        the root inventory last; the deposit is removed afterwards (and on failure). Running it
        again after a crash with the same arguments is safe.

        Args:
            source: local folder; logical paths are its relative file paths, names kept byte for
                byte. Empty folders cannot be represented in OCFL and are not stored.
            deposit_id: names the staging folder (the job id); one key component.
            created: version time (default now); must be timezone-aware; stored as UTC seconds.
            expected: logical path -> Digests the files must have (the AIP manifest). It must
                list exactly the files of ``source``.
            on_file: told each logical path once it is staged (a progress bar; the crash tests'
                ``in storage@N``).

        Raises:
            IntegrityError: ``ocfl.source_mismatch`` (source differs from ``expected``),
                ``ocfl.source_changed`` (a file changed while being stored),
                ``ocfl.inventory_sidecar`` (the current inventory is damaged), read-back failures.
            StorageError: ``ocfl.not_initialized``, ``ocfl.unsupported_object``,
                ``ocfl.concurrent_update``, ``ocfl.bad_logical_path``, backend errors.
        """
        self._require_root()
        object_path = self.object_path(object_id)
        check_component(deposit_id, "deposit id")
        block = version_block(created or datetime.now(UTC), message, user_name, user_address)
        files = scan_source(source)
        if expected is not None:
            check_expected_paths(files, expected)
        object_key = join_key(ROOT_PREFIX, object_path)
        deposit = join_key(DEPOSIT_PREFIX, deposit_id)
        old: dict[str, Any] | None = None
        old_digest = ""
        if self.exists(object_id):
            old, old_digest = self._load_inventory(object_id, verify_sidecar=True)
            check_updatable(old, object_id)
        elif next(iter(self.backend.iter_keys(object_key)), None) is not None:
            self.backend.delete_prefix(object_key)  # leftovers of an interrupted first publish
        head = f"v{head_number(old) + 1 if old else 1}"
        content_dir = str(old.get("contentDirectory", CONTENT_DIRECTORY)) if old else CONTENT_DIRECTORY
        self.backend.delete_prefix(deposit)
        try:
            added, state, result = self._stage(
                files, old, deposit, f"{head}/{content_dir}", expected, on_file
            )
            inventory = new_inventory(
                old, object_id=object_id, head=head, content_directory=content_dir,
                added=added, state=state, block=block,
            )  # fmt: skip
            if old is None:
                self._write_bytes(join_key(deposit, OBJECT_DECLARATION[0]), OBJECT_DECLARATION[1])
            raw = json_bytes(inventory)
            for folder in (join_key(deposit, head), deposit):
                self._write_bytes(join_key(folder, INVENTORY), raw)
                self._write_bytes(join_key(folder, SIDECAR), sidecar_bytes(hashlib.sha512(raw).hexdigest()))
            if old is not None and self._stored_digest(object_key) != old_digest:
                raise StorageError(
                    f"object {object_id} changed while version {head} was being written",
                    code="ocfl.concurrent_update",
                    key=object_key,
                    location=self.backend.name,
                )
            self._publish(deposit, object_key, head, old_digest if old else None)
        except BaseException:
            quietly(self.backend.delete_prefix, deposit)
            raise
        self.backend.delete_prefix(deposit)
        return PutResult(object_id=object_id, version=int(head[1:]), object_path=object_path, state=result)

    def replicate_from(self, source: OcflStore, object_id: str, *, deposit_id: str) -> int:
        """Make this location's copy of an object equal to ``source``'s, key for key.

        This is how a queued copy lands after its location was down, and how a new location is
        filled: the object's files are streamed from the other location (never through a local
        temp copy), each content file checked against the source inventory's sha512 on the way
        in, staged in the deposit, and published with the root inventory last, exactly as
        :meth:`put_version` does. Versions this copy already holds are not rewritten; they must
        carry the same version blocks as the source, or the copies have diverged and nothing is
        changed.

        Returns:
            The head version number both copies now have.

        Raises:
            IntegrityError: a source file does not match its inventory (``storage.digest_mismatch``)
                or the source inventory is damaged (``ocfl.inventory_sidecar``): use another source.
            StorageError: ``ocfl.replica_diverged`` when this copy has versions the source lacks
                or different ones.
        """
        self._require_root()
        inventory, digest = source._load_inventory(object_id, verify_sidecar=True)
        head = head_number(inventory)
        object_key = join_key(ROOT_PREFIX, self.object_path(object_id))
        source_key = join_key(ROOT_PREFIX, source.object_path(object_id))
        old_digest: str | None = None
        if self.exists(object_id):
            self.recover_object(object_id)
            mine, old_digest = self._load_inventory(object_id, verify_sidecar=True)
            if old_digest == digest:
                return head
            theirs = inventory["versions"]
            if head_number(mine) > head or any(
                theirs.get(v) != block for v, block in mine["versions"].items()
            ):
                raise StorageError(
                    f"the copy of {object_id} in {self.backend.name} differs from the one in "
                    f"{source.backend.name}: versions {sorted(mine['versions'])} vs {sorted(theirs)}",
                    code="ocfl.replica_diverged",
                    key=object_id,
                    location=self.backend.name,
                    params={"source": source.backend.name},
                )
        elif next(iter(self.backend.iter_keys(object_key)), None) is not None:
            self.backend.delete_prefix(object_key)  # leftovers of an interrupted first copy
        have = {k[len(object_key) + 1 :] for k in self.backend.iter_keys(object_key)}
        sha512_of = {path: d for d, paths in inventory["manifest"].items() for path in paths}
        deposit = join_key(DEPOSIT_PREFIX, check_component(deposit_id, "deposit id"))
        self.backend.delete_prefix(deposit)
        try:
            versions = {f"v{n}" for n in range(1, head + 1)} if head else set()
            for key in source.backend.iter_keys(source_key):
                relative = key[len(source_key) + 1 :]
                if relative in (INVENTORY, SIDECAR) or relative in have:
                    continue
                wanted = sha512_of.get(relative)
                top = relative.split("/", 1)[0]
                if wanted is None and relative.endswith(f"/{INVENTORY}") and top in versions:
                    wanted = (
                        read_sidecar(source.backend, join_key(source_key, top, SIDECAR)) or "missing sidecar"
                    )
                elif wanted is None and relative.endswith(f"/{SIDECAR}") and top in versions:
                    wanted = None  # a sidecar is checked through its inventory above
                elif wanted is None and relative != OBJECT_DECLARATION[0]:
                    continue  # not part of the committed object (debris of an interrupted write)
                with source.backend.open_read(key) as stream:
                    self.backend.write_atomic(
                        join_key(deposit, relative), stream, expected={"sha512": wanted} if wanted else None
                    )
            with source.backend.open_read(join_key(source_key, INVENTORY)) as stream:
                self.backend.write_atomic(join_key(deposit, INVENTORY), stream, expected={"sha512": digest})
            self._write_bytes(join_key(deposit, SIDECAR), sidecar_bytes(digest))
            self._publish(deposit, object_key, f"v{head}", old_digest)
        except BaseException:
            quietly(self.backend.delete_prefix, deposit)
            raise
        self.backend.delete_prefix(deposit)
        return head

    def discard_deposit(self, deposit_id: str) -> None:
        """Remove a deposit (staging) folder, e.g. left by a crashed job. Missing is fine."""
        self.backend.delete_prefix(join_key(DEPOSIT_PREFIX, check_component(deposit_id, "deposit id")))

    def remove_object(self, object_id: str) -> None:
        """Delete an object entirely. Only to roll back an object that was published (or half
        published) but never registered in the catalog; preserved objects are never deleted."""
        self.backend.delete_prefix(join_key(ROOT_PREFIX, self.object_path(object_id)))

    def withdraw_version(self, object_id: str, version: int) -> None:
        """Undo the publish of ``version`` (the head), which the catalog never registered.

        Version 1: the object is removed (:meth:`remove_object`). A later version: the previous
        version's inventory (checked against its sidecar) becomes the root inventory again, then
        the version folder is removed; an interruption in between leaves what
        :meth:`recover_object` finishes (a stale root sidecar, a version folder above the head).
        Nothing happens where the head is not ``version`` (it was never published there).
        """
        if version == 1:
            self.remove_object(object_id)
            return
        object_key = join_key(ROOT_PREFIX, self.object_path(object_id))
        try:
            inventory, _ = self._load_inventory(object_id, verify_sidecar=False)
        except NotFound:
            return
        if head_number(inventory) != version:
            return
        previous = join_key(object_key, f"v{version - 1}")
        digest = read_sidecar(self.backend, join_key(previous, SIDECAR))
        with self.backend.open_read(join_key(previous, INVENTORY)) as stream:
            self.backend.write_atomic(
                join_key(object_key, INVENTORY), stream, expected={"sha512": digest} if digest else None
            )
        restored = digest_key(self.backend, join_key(object_key, INVENTORY)).sha512
        self._write_bytes(join_key(object_key, SIDECAR), sidecar_bytes(restored))
        self.backend.delete_prefix(join_key(object_key, f"v{version}"))

    def recover_object(self, object_id: str) -> list[str]:
        """Finish or undo an interrupted update of an existing object; returns what was done.

        * the root inventory was replaced but not its sidecar: the version *was* committed, so
          the sidecar is rewritten, if the head version's own sidecar proves the inventory is
          the one we wrote (otherwise it is damage, left for :meth:`verify_object` to report);
        * version folders newer than the head were never committed: they are deleted.
        """
        if not self.exists(object_id):
            return []
        object_key = join_key(ROOT_PREFIX, self.object_path(object_id))
        inventory, digest = read_json(self.backend, join_key(object_key, INVENTORY))
        head = head_number(inventory)
        done: list[str] = []
        stale = read_sidecar(self.backend, join_key(object_key, SIDECAR)) != digest
        if stale and read_sidecar(self.backend, join_key(object_key, f"v{head}", SIDECAR)) == digest:
            self._write_bytes(join_key(object_key, SIDECAR), sidecar_bytes(digest))
            done.append(f"rewrote {SIDECAR} of committed version v{head}")
        newer = set()
        for key in self.backend.iter_keys(object_key):
            first = key[len(object_key) + 1 :].split("/", 1)[0]
            number = version_number(first)
            if number is not None and number > head:
                newer.add(first)
        for vdir in sorted(newer):
            self.backend.delete_prefix(join_key(object_key, vdir))
            done.append(f"removed uncommitted {vdir}")
        return done

    # -- internals -------------------------------------------------------------------------

    def _stage(
        self,
        files: list[tuple[str, Path]],
        old: Mapping[str, Any] | None,
        deposit: str,
        content_folder: str,
        expected: Mapping[str, Digests] | None,
        on_file: Callable[[str], None] | None = None,
    ) -> tuple[dict[str, tuple[str, str]], dict[str, list[str]], dict[str, Digests]]:
        """Write new content into the deposit: (added sha512 -> (content path, sha256), state, digests).

        Files go to the backend in batches (:data:`STAGE_BATCH_FILES` files or
        :data:`STAGE_BATCH_BYTES` bytes, whichever comes first), so that a local disk makes a
        whole batch durable at once; memory is bounded by the batch, not the version."""
        spelled = {d.lower(): d for d in (old or {}).get("manifest", {})}  # as spelled in the manifest
        added: dict[str, tuple[str, str]] = {}
        state: dict[str, list[str]] = {}
        result: dict[str, Digests] = {}
        batch: list[_Staged] = []
        batch_bytes = 0

        def flush() -> None:
            self._write_batch(deposit, batch)
            for item in batch:
                digests = item.digests
                assert digests is not None
                if item.content_path is not None:
                    if digests.sha512 in spelled:  # the same bytes as an earlier file of this version
                        self.backend.delete(join_key(deposit, item.content_path))
                    else:
                        spelled[digests.sha512] = digests.sha512
                        added[digests.sha512] = (item.content_path, digests.sha256)
                state.setdefault(spelled[digests.sha512], []).append(item.logical_path)
                result[item.logical_path] = Digests(
                    digests.size, {"sha256": digests.sha256, "sha512": digests.sha512}
                )
                if on_file is not None:  # once the file's batch is written and verified
                    on_file(item.logical_path)
            batch.clear()

        for logical_path, path in files:
            wanted = expected.get(logical_path) if expected is not None else None
            known: Digests | None = None
            if old is not None:  # hash first: most files of a new version are usually unchanged
                known = digest_file(path, ("sha256", "sha512"))
                compare_source(logical_path, known, wanted, "ocfl.source_mismatch")
            if known is not None and known.sha512 in spelled:
                batch.append(_Staged(logical_path, path, None, known, wanted, ""))
            else:
                code = "ocfl.source_changed" if known is not None else "ocfl.source_mismatch"
                content_path = f"{content_folder}/{logical_path}"
                batch.append(_Staged(logical_path, path, content_path, None, known or wanted, code))
                batch_bytes += wanted.size if wanted is not None else path.stat().st_size
            if len(batch) >= STAGE_BATCH_FILES or batch_bytes >= STAGE_BATCH_BYTES:
                flush()
                batch_bytes = 0
        flush()
        return added, state, result

    def _write_batch(self, deposit: str, batch: list[_Staged]) -> None:
        """Stream the batch's new files into the deposit, setting each one's digests; a
        mismatch names the logical path and its ``code``."""
        writes = [item for item in batch if item.content_path is not None]
        by_key = {join_key(deposit, item.content_path or ""): item for item in writes}
        try:
            digests = write_files(
                self.backend,
                [
                    (key, item.source, dict(item.wanted.values) if item.wanted else None)
                    for key, item in by_key.items()
                ],
            )
        except IntegrityError as exc:
            item = by_key.get(exc.key or "")
            if exc.code != "storage.digest_mismatch" or item is None:
                raise
            raise IntegrityError(
                f"{item.logical_path}: does not have the expected {exc.algorithm} "
                f"(expected {exc.expected}, read {exc.found})",
                code=item.code,
                key=item.logical_path,
                location=self.backend.name,
                algorithm=exc.algorithm,
                expected=exc.expected,
                found=exc.found,
            ) from exc
        for item, got in zip(writes, digests, strict=True):
            compare_source(item.logical_path, got, item.wanted, item.code)
            item.digests = got

    def _publish(self, deposit: str, object_key: str, head: str, old_digest: str | None) -> None:
        """Move the deposit into the root, root inventory last; undo what was not committed."""
        try:
            self.backend.move_prefix(deposit, object_key, last=[INVENTORY, SIDECAR])
        except BaseException:
            if old_digest is None:
                if self.backend.stat(join_key(object_key, INVENTORY)) is None:
                    quietly(self.backend.delete_prefix, object_key)
            elif self._stored_digest(object_key) == old_digest:
                quietly(self.backend.delete_prefix, join_key(object_key, head))
            raise
