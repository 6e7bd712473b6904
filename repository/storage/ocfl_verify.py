"""Re-read one stored OCFL object and compare every byte with its inventory.

This is the audit of archival storage: every content file is streamed from the backend (never
copied to local disk first, contrast the Storage Service's ``fetch_local_path``) and hashed with
sha512 and every fixity algorithm we can compute, in one pass. Problems are collected as coded
findings, each with the OCFL 1.1 clause it breaks (style guide item 13). An unreachable backend
raises :class:`BackendUnavailable` instead: "could not check" is not "damaged" (item 15).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from preservation.findings import Finding, Severity
from preservation.fixity import SUPPORTED_ALGORITHMS, Digests
from repository.storage.backend import Backend, digest_key, join_key
from repository.storage.errors import IntegrityError, NotFound
from repository.storage.ocfl_inventory import (
    FIXITY_HASHLIB,
    INVENTORY,
    OBJECT_DECLARATION,
    SIDECAR,
    fixity_of,
    read_json,
    read_sidecar,
)

SPEC = "https://ocfl.io/1.1/spec/#"
VERIFY_WORKERS = min(8, 2 * (os.cpu_count() or 2))
"""Files read and hashed at once; each holds at most two 4 MiB blocks (one read while the other is
hashed: :func:`preservation.fixity.digest_stream_overlapped`), so memory stays bounded."""
BATCH_FILES = 64
"""At most this many files per task handed to a thread (a few large files still go one per task)."""
ALLOWED_FOLDERS = ("logs/", "extensions/")
"""Object-root folders whose files the inventory does not list (OCFL 1.1 §3.1, §3.3)."""


class _Findings:
    def __init__(self, object_id: str, location: str) -> None:
        self.object_id = object_id
        self.location = location
        self.items: list[Finding] = []

    def add(
        self,
        code: str,
        where: str,
        message: str,
        spec: str,
        *,
        severity: Severity = Severity.ERROR,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        full = {
            "object_id": self.object_id,
            "location": self.location,
            "path": where,
            "spec": SPEC + spec,
            **(params or {}),
        }
        self.items.append(Finding(code, severity, where, f"{self.object_id}: {where}: {message}", full))


def verify_object(
    backend: Backend, object_key: str, object_id: str, *, only: str | None = None
) -> list[Finding]:
    """Findings for the object stored under ``object_key``; ``where`` is relative to the object root.

    By default every content byte is hashed with SHA-512 (the OCFL content digest) and every
    algorithm of the ``fixity`` block. With ``only="sha256"`` each content file is hashed once, with
    SHA-256 where the fixity block records it (SHA-512 otherwise): one digest proves the bytes
    intact as well as two, and SHA-256 runs about three times faster than SHA-512 on these CPUs
    (SHA extensions), so a fixity audit is bounded by the storage, not by hashing.

    Codes: ``ocfl.missing_file`` (E063 root inventory, E003 declaration, E092 content file; W010
    version inventory, as a warning), ``ocfl.inventory_invalid`` (E033), ``ocfl.inventory_sidecar``
    (E058 missing, E060 wrong digest), ``ocfl.head_inventory_differs`` (E064),
    ``ocfl.digest_mismatch`` (E092 sha512, E093 fixity; params algorithm, expected, found) and
    ``ocfl.unexpected_file`` (E023).

    Raises:
        NotFound: ``ocfl.object_not_found`` when no key exists under ``object_key``.
        BackendUnavailable: the storage cannot be reached.
    """
    keys = {k[len(object_key) + 1 :] for k in backend.iter_keys(object_key)}
    if not keys:
        raise NotFound(
            f"no object {object_id}", code="ocfl.object_not_found", key=object_id, location=backend.name
        )
    found = _Findings(object_id, backend.name)
    if INVENTORY not in keys:
        found.add("ocfl.missing_file", INVENTORY, "root inventory is missing", "E063")
        return found.items
    try:
        inventory, digest = read_json(backend, join_key(object_key, INVENTORY))
        manifest = {str(d).lower(): [str(p) for p in paths] for d, paths in inventory["manifest"].items()}
        version_names = [str(v) for v in inventory["versions"]]
        head = str(inventory["head"])
    except (IntegrityError, KeyError, TypeError, AttributeError) as exc:
        found.add("ocfl.inventory_invalid", INVENTORY, f"root inventory unreadable: {exc}", "E033")
        return found.items
    expected = _check_inventories(backend, object_key, keys, version_names, head, digest, found)
    work = _content_to_hash(inventory, manifest, only)
    expected |= {content_path for content_path, _ in work}
    for (content_path, wanted), got in zip(work, _hash_all(backend, object_key, work, keys), strict=True):
        _report_content(content_path, wanted, got, found)
    for extra in sorted(keys - expected):
        if not extra.startswith(ALLOWED_FOLDERS):
            found.add("ocfl.unexpected_file", extra, "file not in the inventory", "E023")
    return found.items


def _check_inventories(
    backend: Backend,
    object_key: str,
    keys: set[str],
    version_names: list[str],
    head: str,
    digest: str,
    found: _Findings,
) -> set[str]:
    """Check the object declaration, the root inventory's sidecar (``digest``: the root
    inventory's SHA-512) and each version's inventory and sidecar; the keys these account for."""
    accounted = {OBJECT_DECLARATION[0], INVENTORY, SIDECAR}
    if OBJECT_DECLARATION[0] not in keys:
        found.add("ocfl.missing_file", OBJECT_DECLARATION[0], "object declaration is missing", "E003")
    _check_sidecar(backend, object_key, "", digest, keys, found)
    for vname in version_names:
        version_inventory = f"{vname}/{INVENTORY}"
        if version_inventory not in keys:
            found.add(
                "ocfl.missing_file",
                version_inventory,
                "version inventory is missing",
                "W010",
                severity=Severity.WARNING,
            )
            continue
        accounted |= {version_inventory, f"{vname}/{SIDECAR}"}
        version_digest = digest_key(backend, join_key(object_key, version_inventory)).sha512
        _check_sidecar(backend, object_key, vname, version_digest, keys, found)
        if vname == head and version_digest != digest:
            found.add(
                "ocfl.head_inventory_differs", version_inventory, "differs from the root inventory", "E064"
            )
    return accounted


def _content_to_hash(
    inventory: Any, manifest: dict[str, list[str]], only: str | None
) -> list[tuple[str, dict[str, str]]]:
    """(content path, algorithm -> digest it must have) for every content file, in manifest order."""
    fixity = {
        FIXITY_HASHLIB[alg]: fixity_of(inventory, alg)
        for alg in (inventory.get("fixity") or {})
        if FIXITY_HASHLIB.get(alg) in SUPPORTED_ALGORITHMS
    }
    work: list[tuple[str, dict[str, str]]] = []
    for sha512, paths in sorted(manifest.items()):
        for content_path in paths:
            wanted = {"sha512": sha512} | {
                alg: table[content_path].lower() for alg, table in fixity.items() if content_path in table
            }
            if only is not None and only in wanted:
                wanted = {only: wanted[only]}
            work.append((content_path, wanted))
    return work


def _hash_all(
    backend: Backend, object_key: str, work: list[tuple[str, dict[str, str]]], keys: set[str]
) -> list[Digests | str]:
    """Each work item's digests (or why there are none), in the order of ``work``.

    Reading and hashing release the GIL: files are checked in parallel so that every core hashes
    and the audit runs at the speed of the storage, not of one core's SHA-512 + SHA-256.
    Files go to the threads in batches: handing a thread one small file costs more (lock and GIL
    hand-offs, ~80 µs measured here) than hashing a 64 KiB file, so thousands of small files
    one by one ran at half the speed of a single thread (bench/bench_audit.py local, small).
    """
    size = max(1, min(BATCH_FILES, len(work) // (VERIFY_WORKERS * 4)))
    batches = [work[i : i + size] for i in range(0, len(work), size)]
    with ThreadPoolExecutor(max_workers=VERIFY_WORKERS) as pool:
        done = pool.map(
            lambda batch: [_digest_content(backend, object_key, item, keys) for item in batch], batches
        )
        return [d for batch in done for d in batch]


def _digest_content(
    backend: Backend, object_key: str, item: tuple[str, dict[str, str]], keys: set[str]
) -> Digests | str:
    """The file's digests, or why there are none ("missing", "vanished")."""
    content_path, wanted = item
    if content_path not in keys:
        return "missing"
    try:
        return digest_key(backend, join_key(object_key, content_path), tuple(wanted))
    except NotFound:
        return "vanished"


def _report_content(content_path: str, wanted: dict[str, str], got: Digests | str, found: _Findings) -> None:
    if got == "missing":
        found.add("ocfl.missing_file", content_path, "content file is missing", "E092")
        return
    if got == "vanished" or isinstance(got, str):
        found.add("ocfl.missing_file", content_path, "content file vanished while being read", "E092")
        return
    for algorithm, value in wanted.items():
        if got[algorithm] != value:
            found.add(
                "ocfl.digest_mismatch",
                content_path,
                f"{algorithm} is {got[algorithm]}, inventory says {value}",
                "E092" if algorithm == "sha512" else "E093",
                params={"algorithm": algorithm, "expected": value, "found": got[algorithm]},
            )


def _check_sidecar(
    backend: Backend, object_key: str, vdir: str, digest: str, keys: set[str], found: _Findings
) -> None:
    sidecar = f"{vdir}/{SIDECAR}" if vdir else SIDECAR
    if sidecar not in keys:
        found.add("ocfl.inventory_sidecar", sidecar, "inventory sidecar is missing", "E058")
        return
    recorded = read_sidecar(backend, join_key(object_key, sidecar))
    if recorded != digest:
        found.add(
            "ocfl.inventory_sidecar",
            sidecar,
            f"records {recorded!r}, the inventory's sha512 is {digest}",
            "E060",
            params={"algorithm": "sha512", "expected": recorded, "found": digest},
        )
