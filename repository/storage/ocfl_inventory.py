"""OCFL 1.1 names, the 0003 storage layout, and inventories: building, reading, encoding.

Split from :mod:`repository.storage.ocfl` (which moves bytes) because these are the rules of the
format itself: what an inventory contains (OCFL 1.1 §3.5), how a sidecar looks (§3.5.6), where an
object lives in the storage root (extension 0003). Everything here is pure, except the two small
readers at the end, which fetch a metadata file through a :class:`Backend`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from repository.storage.backend import Backend, check_key
from repository.storage.errors import IntegrityError, NotFound, StorageError

ROOT_DECLARATION = ("0=ocfl_1.1", b"ocfl_1.1\n")
"""Storage root declaration (OCFL 1.1 §4.1, NAMASTE): file name and content."""
OBJECT_DECLARATION = ("0=ocfl_object_1.1", b"ocfl_object_1.1\n")
"""Object declaration (OCFL 1.1 §3.1)."""
INVENTORY = "inventory.json"
SIDECAR = "inventory.json.sha512"
INVENTORY_TYPE = "https://ocfl.io/1.1/spec/#inventory"
CONTENT_DIRECTORY = "content"
LAYOUT_FILE = "ocfl_layout.json"
LAYOUT_NAME = "0003-hash-and-id-n-tuple-storage-layout"
LAYOUT_DESCRIPTION = (
    "Extension 0003: Hashed Truncated N-tuple Trees with Object ID Encapsulating Directory "
    "for OCFL Storage Hierarchies (https://ocfl.github.io/extensions/0003-hash-and-id-n-tuple-storage-layout.html)"
)
LAYOUT_CONFIG: dict[str, Any] = {
    "extensionName": LAYOUT_NAME,
    "digestAlgorithm": "sha256",
    "tupleSize": 3,
    "numberOfTuples": 3,
}
"""The one layout configuration we write and accept. ocfl-py knows 0002 and 0003 only (E071 for
others), and 0003 keeps directories small at any scale while the id stays readable on disk."""
LAYOUT_CONFIG_KEY = f"extensions/{LAYOUT_NAME}/config.json"

FIXITY_HASHLIB = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "blake2b-512": "blake2b",
}
"""OCFL fixity algorithm names (OCFL 1.1 §3.5.4, extension 0001) -> hashlib names."""

_SAFE_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_HEAD = re.compile(r"v([1-9][0-9]*)")
_ANY_VERSION = re.compile(r"v0*([1-9][0-9]*)")


def object_path_0003(object_id: str, *, tuple_size: int = 3, number_of_tuples: int = 3) -> str:
    """The object's folder under the storage root, per extension 0003.

    sha256 of the UTF-8 id, lower-case hex, cut into ``number_of_tuples`` tuples of ``tuple_size``
    characters, then the encapsulation directory: the id with every character outside
    ``[A-Za-z0-9_-]`` percent-encoded (UTF-8 bytes, lower-case hex), truncated to 100 characters
    plus ``-<digest>`` when longer.
    """
    digest = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    tuples = [digest[i * tuple_size : (i + 1) * tuple_size] for i in range(number_of_tuples)]
    encoded = "".join(
        c if c in _SAFE_ID_CHARS else "".join(f"%{b:02x}" for b in c.encode("utf-8")) for c in object_id
    )
    if len(encoded) > 100:
        encoded = f"{encoded[:100]}-{digest}"
    return "/".join([*tuples, encoded])


def check_object_id(object_id: str) -> str:
    """An OCFL id is non-empty text (OCFL 1.1 §3.5.1); we also need it encodable as UTF-8."""
    problem = ""
    if not isinstance(object_id, str) or not object_id:
        problem = "must be non-empty text"
    else:
        try:
            object_id.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not valid Unicode"
    if problem:
        raise StorageError(
            f"OCFL object id {object_id!r} {problem}", code="ocfl.bad_object_id", key=repr(object_id)
        )
    return object_id


def check_component(value: str, what: str) -> str:
    """A deposit id (job id) must be exactly one safe key component."""
    check_key(value)
    if "/" in value:
        raise StorageError(
            f"{what} {value!r} must be one key component", code="storage.unsafe_key", key=value
        )
    return value


def rfc3339(moment: datetime) -> str:
    """OCFL 1.1 §3.5.3.1: ``created`` is RFC 3339 with a time zone; we write UTC, whole seconds."""
    if moment.tzinfo is None:
        raise ValueError("version time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_block(created: datetime, message: str, user_name: str, user_address: str) -> dict[str, Any]:
    """A version block without its state (OCFL 1.1 §3.5.3.1); ``address`` SHOULD be a URI (W009)."""
    user = {"name": user_name, "address": user_address} if user_address else {"name": user_name}
    return {"created": rfc3339(created), "message": message, "user": user}


def check_updatable(inventory: Mapping[str, Any], object_id: str) -> None:
    """We add versions only to objects shaped like ours: OCFL 1.1, sha512, unpadded version names.

    Raises:
        StorageError: ``ocfl.unsupported_object`` listing what differs.
    """
    problems = []
    if inventory.get("type") != INVENTORY_TYPE:
        problems.append(f"type {inventory.get('type')!r}")
    if inventory.get("digestAlgorithm") != "sha512":
        problems.append(f"digestAlgorithm {inventory.get('digestAlgorithm')!r}")
    if not _HEAD.fullmatch(str(inventory.get("head", ""))):
        problems.append(f"head {inventory.get('head')!r}")
    if problems:
        raise StorageError(
            f"cannot add a version to {object_id}: {', '.join(problems)}",
            code="ocfl.unsupported_object",
            key=object_id,
            params={"problems": problems},
        )


def head_number(inventory: Mapping[str, Any]) -> int:
    """The head version's number (zero-padded names of other tools are accepted for reading)."""
    match = _ANY_VERSION.fullmatch(str(inventory.get("head", "")))
    if not match:
        raise IntegrityError(
            f"inventory head {inventory.get('head')!r} is not a version",
            code="ocfl.inventory_invalid",
            key=str(inventory.get("id")),
        )
    return int(match.group(1))


def version_number(name: str) -> int | None:
    """``v3`` (or ``v003``) -> 3; anything else -> None."""
    match = _ANY_VERSION.fullmatch(name)
    return int(match.group(1)) if match else None


def new_inventory(
    old: Mapping[str, Any] | None,
    *,
    object_id: str,
    head: str,
    content_directory: str,
    added: Mapping[str, tuple[str, str]],
    state: Mapping[str, list[str]],
    block: Mapping[str, Any],
) -> dict[str, Any]:
    """The inventory after adding version ``head`` (OCFL 1.1 §3.5).

    Args:
        old: the current root inventory, or None for a new object.
        added: sha512 -> (content path, sha256) of content stored for the first time in ``head``.
        state: digest (as spelled in the manifest) -> logical paths of the new version.
        block: created, message and user of the new version.

    Earlier versions, manifest entries and fixity blocks are kept as they are; new content gets a
    manifest entry and a ``sha256`` fixity entry (the digest the catalog and METS carry).
    """
    manifest: dict[str, list[str]] = {d: list(p) for d, p in ((old or {}).get("manifest") or {}).items()}
    fixity: dict[str, dict[str, list[str]]] = {
        alg: {d: list(p) for d, p in table.items()}
        for alg, table in ((old or {}).get("fixity") or {}).items()
    }
    sha256_block = fixity.setdefault("sha256", {})
    for sha512, (content_path, sha256) in added.items():
        manifest[sha512] = [content_path]
        sha256_block.setdefault(sha256, []).append(content_path)
    versions = dict((old or {}).get("versions") or {})
    versions[head] = {**block, "state": {d: sorted(p) for d, p in sorted(state.items())}}
    return {
        "id": object_id,
        "type": INVENTORY_TYPE,
        "digestAlgorithm": "sha512",
        "head": head,
        "contentDirectory": content_directory,
        "manifest": {d: sorted(p) for d, p in sorted(manifest.items())},
        "versions": versions,
        "fixity": {alg: {d: sorted(p) for d, p in sorted(t.items())} for alg, t in sorted(fixity.items())},
    }


def logical_state(
    inventory: Mapping[str, Any], version: int | None, object_id: str
) -> tuple[dict[str, str], dict[str, str]]:
    """(logical path -> content path, logical path -> lower-case sha512) of one version (default head).

    Raises:
        NotFound: ``ocfl.no_such_version``.
    """
    number = version if version is not None else head_number(inventory)
    names = {version_number(name): name for name in inventory["versions"]}
    block = inventory["versions"].get(names.get(number, ""))
    if block is None:
        raise NotFound(
            f"object {object_id} has no version {number}",
            code="ocfl.no_such_version",
            key=object_id,
            params={
                "object_id": object_id,
                "version": number,
                "versions": sorted(n for n in names if n is not None),
            },
        )
    manifest = {d.lower(): paths for d, paths in inventory["manifest"].items()}
    content: dict[str, str] = {}
    sha512: dict[str, str] = {}
    for digest, logical_paths in block["state"].items():
        for logical_path in logical_paths:
            content[logical_path] = manifest[digest.lower()][0]
            sha512[logical_path] = digest.lower()
    return content, sha512


def fixity_of(inventory: Mapping[str, Any], algorithm: str) -> dict[str, str]:
    """Content path -> digest from one fixity block (OCFL 1.1 §3.5.4)."""
    table = (inventory.get("fixity") or {}).get(algorithm) or {}
    return {path: digest for digest, paths in table.items() for path in paths}


def safe_parts(logical_path: str) -> list[str]:
    """Logical path components, refusing any that would leave an export folder (OCFL 1.1 E099)."""
    parts = logical_path.split("/")
    if any(p in ("", ".", "..") or "\x00" in p for p in parts):
        raise StorageError(
            f"unsafe logical path {logical_path!r}", code="ocfl.bad_logical_path", key=logical_path
        )
    return parts


def json_bytes(data: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON with names as themselves (not ``\\u`` escapes), readable by people and tools."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def sidecar_bytes(digest: str) -> bytes:
    """OCFL 1.1 §3.5.6: the digest, whitespace, ``inventory.json`` (one space, as ocfl-py writes)."""
    return f"{digest} {INVENTORY}\n".encode("ascii")


def read_json(backend: Backend, key: str) -> tuple[dict[str, Any], str]:
    """A small JSON file and the sha512 of its bytes. Inventories are metadata: read whole.

    Raises:
        NotFound: the key is absent.
        IntegrityError: ``ocfl.inventory_invalid`` when it is not a UTF-8 JSON object.
    """
    with backend.open_read(key) as fh:
        raw = fh.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntegrityError(
            f"{key} is not valid UTF-8 JSON: {exc}",
            code="ocfl.inventory_invalid",
            key=key,
            location=backend.name,
        ) from exc
    if not isinstance(data, dict):
        raise IntegrityError(
            f"{key} is not a JSON object", code="ocfl.inventory_invalid", key=key, location=backend.name
        )
    return data, hashlib.sha512(raw).hexdigest()


def read_sidecar(backend: Backend, key: str) -> str | None:
    """The digest recorded in an inventory sidecar; None if absent, "" if malformed."""
    try:
        with backend.open_read(key) as fh:
            line = fh.read(1024).decode("utf-8", "replace")
    except NotFound:
        return None
    fields = line.split()
    return fields[0].lower() if len(fields) == 2 and fields[1] == INVENTORY else ""
