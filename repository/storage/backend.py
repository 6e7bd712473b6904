"""The byte-level storage seam: one small interface over local disk and (later) S3.

Everything above this module (OCFL objects, audits, retrieval) talks to storage only through
:class:`Backend`, by *key*: text with ``/`` separators, relative to the backend's root. The
interface is shaped by what an object store can do, so that S3 fits without pretending (style
guide item 18): there are no directories (a "prefix" is a key folder), no rename of a folder
(``move_prefix`` may copy and delete key by key; the local disk does better with one rename), and
every write of preservation data is atomic and read back before it becomes visible (item 7).

Keys are names of preserved files, so they are kept byte for byte: NFD Vietnamese, spaces and
``%`` are legal and never normalised. What is refused is what cannot mean the same thing on every
backend: ``..`` and ``.`` components, a leading ``/``, empty components, NUL and text that is not
valid Unicode (lone surrogates from undecodable file names).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from preservation.fixity import Digests, MultiHasher, digest_stream_overlapped
from repository.storage.errors import IntegrityError, StorageError

WRITE_ALGORITHMS: tuple[str, ...] = ("sha256", "sha512", "md5")
"""Digests every ``write_atomic`` computes on the way in: SHA-256 (what packages and the catalog
carry), SHA-512 (OCFL's content digest) and MD5 (what S3 reports as ETag / Content-MD5)."""


@dataclass(frozen=True)
class KeyStat:
    """What a backend knows about one stored key without reading it."""

    key: str
    size: int
    modified: datetime


@runtime_checkable
class Backend(Protocol):
    """A byte store addressed by ``/``-separated text keys (see the module docstring).

    Implementations: :class:`repository.storage.local.LocalBackend` (and later ``s3.py``). The
    reusable contract test suite ``tests/storage/backend_contract.py`` states the behaviour every
    implementation must show.
    """

    name: str
    """The storage location's name; errors carry it as ``location``."""

    def open_read(self, key: str) -> BinaryIO:
        """A readable binary stream (a context manager) of the key's bytes.

        Raises:
            NotFound: the key does not exist.
            BackendUnavailable: the storage cannot be reached.
        """
        ...

    def write_atomic(
        self, key: str, source: BinaryIO, *, expected: Mapping[str, str] | None = None
    ) -> Digests:
        """Store ``source`` under ``key`` so that readers see either nothing or every byte.

        The bytes are streamed to a temporary key while being hashed (:data:`WRITE_ALGORITHMS`,
        plus any algorithm named in ``expected``), made durable, read back and compared, and only
        then made visible under ``key`` in one step (an existing key is replaced). Errors raised
        by ``source`` itself propagate unchanged.

        Args:
            key: where the bytes go.
            source: a binary stream, read in blocks until EOF.
            expected: algorithm -> hex digest the bytes must have (e.g. from a manifest).

        Returns:
            The size and digests of what was stored.

        Raises:
            IntegrityError: read-back or ``expected`` mismatch; nothing is visible under ``key``
                and no temporary data is left.
        """
        ...

    def stat(self, key: str) -> KeyStat | None:
        """Size and modification time of ``key``, or None when it does not exist."""
        ...

    def iter_keys(self, prefix: str) -> Iterator[str]:
        """Every key under the key folder ``prefix`` (``""`` for all), recursively, sorted by
        code point (the UTF-8 byte order S3 lists in)."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under the (non-empty) key folder ``prefix``; returns how many."""
        ...

    def move_prefix(self, src: str, dst: str, *, last: Sequence[str] = ()) -> None:
        """Make every key under ``src`` visible under ``dst`` instead.

        Keys named in ``last`` (relative to ``src``) are moved after all the others, in the given
        order, and are the only keys allowed to replace an existing key under ``dst``: they are
        the commit point (OCFL 1.1 §3.5.7: the root inventory is the last thing written, and an
        update replaces it). Any other key already under ``dst`` is a conflict: StorageError with
        code ``storage.exists`` before anything moves.

        Raises:
            NotFound: nothing under ``src``, or a key in ``last`` is not under ``src``.
            StorageError: ``storage.exists`` on a conflict.
        """
        ...

    def server_checksum(self, key: str) -> str | None:
        """A digest the server computed itself (``"<algorithm>:<hex>"``), or None if it keeps none."""
        ...


def check_key(key: str, *, location: str | None = None) -> str:
    """Return ``key`` unchanged if it is a safe key, else raise ``storage.unsafe_key``.

    Safe means: non-empty text, valid Unicode, no NUL, no leading ``/``, and no empty, ``.`` or
    ``..`` component. Nothing is normalised: the key is the file's name, byte for byte.
    """
    problem = _key_problem(key)
    if problem:
        raise StorageError(
            f"unsafe storage key {key!r}: {problem}",
            code="storage.unsafe_key",
            key=key if isinstance(key, str) else repr(key),
            location=location,
            params={"reason": problem},
        )
    return key


def check_prefix(prefix: str, *, location: str | None = None, allow_root: bool = True) -> str:
    """Normalise a key folder: strip one trailing ``/``; ``""`` means the whole backend.

    Raises:
        StorageError: ``storage.unsafe_key`` for an unsafe prefix, or an empty one where the
            whole backend is not allowed (``delete_prefix("")``).
    """
    stripped = prefix[:-1] if prefix.endswith("/") else prefix
    if stripped == "":
        if allow_root:
            return ""
        raise StorageError(
            "refusing to act on the whole backend (empty prefix)",
            code="storage.unsafe_key",
            key=prefix,
            location=location,
            params={"reason": "empty prefix"},
        )
    return check_key(stripped, location=location)


def check_move(src: str, dst: str, *, location: str | None) -> tuple[str, str]:
    """Normalised (src, dst) key folders of a ``move_prefix``; refuses empty and overlapping ones."""
    src = check_prefix(src, location=location, allow_root=False)
    dst = check_prefix(dst, location=location, allow_root=False)
    if src == dst or dst.startswith(src + "/") or src.startswith(dst + "/"):
        raise StorageError(
            f"cannot move {src} to {dst}: one is inside the other",
            code="storage.overlap",
            key=src,
            location=location,
            params={"destination": dst},
        )
    return src, dst


def join_key(*parts: str) -> str:
    """Join key parts with ``/``, skipping empty parts."""
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def compare_digests(
    found: Digests,
    expected: Mapping[str, str],
    *,
    key: str,
    location: str | None,
    what: str = "expected",
    code: str = "storage.digest_mismatch",
) -> None:
    """Raise IntegrityError on the first algorithm whose digest differs (case-insensitive hex).

    Args:
        found: what was computed from the bytes.
        expected: algorithm -> hex the bytes should have.
        key: the key, for the error.
        location: the backend name, for the error.
        what: where ``expected`` came from, for the message ("expected", "written").
        code: the error code (``storage.digest_mismatch``, ``storage.readback_mismatch``).

    Raises:
        IntegrityError: naming the key, algorithm and both values.
        StorageError: ``storage.unsupported_algorithm`` if ``found`` lacks an expected algorithm.
    """
    for algorithm, value in expected.items():
        got = found.values.get(algorithm)
        if got is None:
            raise StorageError(
                f"cannot check {algorithm} for {key}: not computed",
                code="storage.unsupported_algorithm",
                key=key,
                location=location,
                params={"algorithm": algorithm},
            )
        if got.lower() != value.lower():
            raise IntegrityError(
                f"{algorithm} of {key} is {got}, {what} {value.lower()}",
                code=code,
                key=key,
                location=location,
                algorithm=algorithm,
                expected=value.lower(),
                found=got,
                params={"what": what},
            )


def write_hasher(expected: Mapping[str, str] | None, *, key: str, location: str | None) -> MultiHasher:
    """The hasher a ``write_atomic`` feeds: :data:`WRITE_ALGORITHMS` plus any algorithm the caller
    expects. Raises ``storage.unsupported_algorithm`` for an algorithm we cannot compute."""
    algorithms = tuple(WRITE_ALGORITHMS) + tuple(a for a in (expected or {}) if a not in WRITE_ALGORITHMS)
    try:
        return MultiHasher(algorithms)
    except ValueError as exc:
        raise StorageError(
            str(exc),
            code="storage.unsupported_algorithm",
            key=key,
            location=location,
            params={"algorithm": ", ".join(algorithms)},
        ) from exc


def compare_readback(stored: Digests, written: Digests, *, key: str, location: str | None) -> None:
    """Raise ``storage.readback_mismatch`` when what was read back differs from what was written
    (size first, then every digest computed on the way in)."""
    if stored.size != written.size:
        raise IntegrityError(
            f"read back {stored.size} bytes of {key}, wrote {written.size}",
            code="storage.readback_mismatch",
            key=key,
            location=location,
            algorithm="size",
            expected=str(written.size),
            found=str(stored.size),
        )
    compare_digests(
        stored, written.values, key=key, location=location, what="written", code="storage.readback_mismatch"
    )


DIGEST_BLOCK_SIZE = 4 << 20
"""Read size when a stored key is re-read for its digests. With several files read at once, 4 MiB
reads keep each stream sequential for longer than 1 MiB ones: an audit of large files went from
~87 % to ~94 % of the ``cat`` read floor (bench/bench_audit.py local, median of alternated rounds);
memory stays bounded (one block per file in flight)."""


def digest_key(backend: Backend, key: str, algorithms: Sequence[str] = ("sha512",)) -> Digests:
    """Stream a stored key once and return its size and digests (audits read streams, never a
    local copy: style guide item 18)."""
    with backend.open_read(key) as fh:
        return digest_stream_overlapped(fh, algorithms, block_size=DIGEST_BLOCK_SIZE)


def _key_problem(key: object) -> str:
    if not isinstance(key, str) or key == "":
        return "empty"
    if "\x00" in key:
        return "contains NUL"
    if key.startswith("/"):
        return "absolute (leading '/')"
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid Unicode text"
    for part in key.split("/"):
        if part == "":
            return "empty path component"
        if part in (".", ".."):
            return f"'{part}' path component"
    return ""


def write_files(
    backend: Backend, items: Sequence[tuple[str, Path, Mapping[str, str] | None]]
) -> list[Digests]:
    """Write local files under keys, each as :meth:`Backend.write_atomic` does; in one batch
    where the backend can make a batch durable at once (the local disk: one ``syncfs`` instead
    of an fsync per file and folder), else one after the other.

    Returns:
        The digests of each item, in order.
    """
    batched: Callable[[Sequence[tuple[str, Path, Mapping[str, str] | None]]], list[Digests]] | None = getattr(
        backend, "write_files", None
    )
    if batched is not None:
        return batched(items)
    out: list[Digests] = []
    for key, path, expected in items:
        with path.open("rb") as stream:
            out.append(backend.write_atomic(key, stream, expected=expected))
    return out
