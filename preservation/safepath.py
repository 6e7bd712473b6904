"""Writing submitted files into quarantine without ever writing outside it.

Shared by the folder copy (:mod:`preservation.quarantine`) and the archive extractor
(:mod:`preservation.unpack`). Every name is checked component by component (no ``..``, no absolute
paths, no control characters, depth and length limits), every directory is created by us (so no
symlink we did not make can redirect a write), files are opened with ``O_EXCL | O_NOFOLLOW``, and
sizes are counted while the bytes stream through, because archive headers can lie.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from preservation.errors import UnsafePackageError
from preservation.findings import Finding, Severity
from preservation.fixity import BLOCK_SIZE, MultiHasher
from preservation.names import FileName, check_component, nfc, readable, resolve_relative
from preservation.package import ReceivedFile

FILE_MODE = 0o640
DIR_MODE = 0o750


@dataclass(frozen=True)
class UnpackLimits:
    """Limits against archive bombs and hostile packages, counted while extracting.

    Attributes:
        max_files: entries in one submission.
        max_total_bytes: uncompressed bytes of the whole submission.
        max_file_bytes: bytes of one file.
        max_ratio: uncompressed bytes / archive file bytes (the zip-bomb signature).
        ratio_floor_bytes: the ratio is enforced only once this many bytes were extracted, so that a
            small, very compressible text file (a 2 KB zip of a 1 MB log) is not refused.
        max_depth: path components.
        max_path_bytes: bytes of one relative path.
    """

    max_files: int = 100_000
    max_total_bytes: int = 1 << 40
    max_file_bytes: int = 1 << 40
    max_ratio: float = 250.0
    ratio_floor_bytes: int = 64 << 20
    max_depth: int = 64
    max_path_bytes: int = 4096


def split_name(raw: bytes, *, where: str) -> tuple[bytes, ...]:
    """Split a submitted relative path into checked components.

    Raises:
        UnsafePackageError: ``unpack.absolute_path`` for ``/x``, ``C:x``, ``\\\\server``;
            ``unpack.path_traversal`` for any ``..``; component errors from ``check_component``.
    """
    if raw.startswith((b"/", b"\\")) or (len(raw) >= 2 and raw[1:2] == b":" and raw[:1].isalpha()):
        raise UnsafePackageError(
            f"absolute path {readable(raw)!r} in the submission",
            code="unpack.absolute_path",
            path=readable(raw),
        )
    parts = [p for p in raw.split(b"/") if p not in (b"", b".")]
    # ``\`` separates folders for every Windows tool: ``..\..\x`` climbs out there (issue 11 item 21)
    if any(p == b".." or b".." in p.split(b"\\") for p in parts):
        raise UnsafePackageError(
            f"path {readable(raw)!r} climbs out of the submission with '..'",
            code="unpack.path_traversal",
            path=readable(raw),
        )
    for p in parts:
        check_component(p, where=where)
    return tuple(parts)


@dataclass
class SafeWriter:
    """Writes files under ``root``; refuses names or sizes a hostile package would use."""

    root: Path
    limits: UnpackLimits
    source_bytes: int | None = None  # size of the archive, for the ratio check (None: folder copy)
    files: list[ReceivedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    total: int = 0
    _by_key: dict[tuple[bytes, ...], str] = field(default_factory=dict)  # exact names seen -> kind
    _by_nfc: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    _by_text: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    _by_case: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    _dirs_made: set[tuple[str, ...]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)

    # ------------------------------------------------------------------ names

    def claim(self, raw: bytes, kind: str) -> tuple[bytes, ...]:
        """Check a name and reserve it. ``kind`` is ``file`` or ``dir`` (a dir may be seen twice)."""
        where = readable(raw)
        parts = split_name(raw, where=where)
        if not parts:
            return parts
        if len(parts) > self.limits.max_depth:
            raise UnsafePackageError(
                f"{where!r} is {len(parts)} folders deep (limit {self.limits.max_depth})",
                code="unpack.too_deep",
                path=where,
                params={"limit": self.limits.max_depth, "value": len(parts)},
            )
        if len(b"/".join(parts)) > self.limits.max_path_bytes:
            raise UnsafePackageError(
                f"path of {len(raw)} bytes (limit {self.limits.max_path_bytes})",
                code="unpack.name_too_long",
                path=where,
                params={"limit": self.limits.max_path_bytes, "value": len(raw)},
            )
        # every parent is implicitly a directory
        for i in range(1, len(parts)):
            self._reserve(parts[:i], "dir")
        self._reserve(parts, kind)
        return parts

    def _reserve(self, parts: tuple[bytes, ...], kind: str) -> None:
        where = readable(b"/".join(parts))
        seen = self._by_key.get(parts)
        if seen is not None:
            if seen == "dir" and kind == "dir":
                return
            raise UnsafePackageError(
                f"{where!r} appears more than once in the submission",
                code="unpack.duplicate_entry",
                path=where,
            )
        # Checked in this order so that each clash gets its true reason (issue 11 item 10): the
        # same stored text first (a name that is not UTF-8 is stored percent-escaped and may meet a
        # literal name with that text), then Unicode normalization, then upper/lower case.
        joined = b"/".join(parts)
        key_text = tuple(readable(p) for p in parts)
        key_nfc = tuple(nfc(t) for t in key_text)
        key_case = tuple(n.casefold() for n in key_nfc)
        checks = (
            (
                self._by_text,
                key_text,
                "unpack.name_collision",
                "map to the same stored name (a name that is not UTF-8 is stored percent-escaped)",
            ),
            (
                self._by_nfc,
                key_nfc,
                "unpack.normalization_collision",
                "differ only by Unicode normalization (NFC/NFD); no Windows or macOS user could restore both",
            ),
            (
                self._by_case,
                key_case,
                "unpack.case_collision",
                "differ only by upper/lower case; no Windows or macOS user could restore both",
            ),
        )
        for table, key, code, reason in checks:
            other = table.get(key)
            if other is not None and other != joined:
                raise UnsafePackageError(
                    f"{where!r} and {readable(other)!r} {reason}",
                    code=code,
                    path=where,
                    params={"other": readable(other)},
                )
        self._by_key[parts] = kind
        for table, key, _, _ in checks:
            table[key] = joined

    def kind_of(self, parts: tuple[bytes, ...]) -> str | None:
        return self._by_key.get(parts)

    def disk_path(self, parts: tuple[bytes, ...]) -> Path:
        return self.root.joinpath(*(readable(p) for p in parts))

    # ------------------------------------------------------------------ writing

    def make_dir(self, parts: tuple[bytes, ...], mtime: float | None = None) -> None:
        for i in range(1, len(parts) + 1):
            key = tuple(readable(p) for p in parts[:i])
            if key in self._dirs_made:
                continue
            path = self.root.joinpath(*key)
            try:
                os.mkdir(path, DIR_MODE)
            except FileExistsError:
                st = os.lstat(path)
                if not stat.S_ISDIR(st.st_mode):
                    raise UnsafePackageError(
                        f"{'/'.join(key)!r} is both a file and a folder",
                        code="unpack.duplicate_entry",
                        path="/".join(key),
                    ) from None
            self._dirs_made.add(key)
        if mtime is not None and parts:
            os.utime(self.disk_path(parts), (mtime, mtime))

    def write_file(
        self, parts: tuple[bytes, ...], stream: IO[bytes], *, mtime: float | None = None
    ) -> ReceivedFile:
        """Stream ``stream`` into the file named ``parts``, hashing and counting on the way."""
        name = FileName(b"/".join(parts))
        if len(self.files) + 1 > self.limits.max_files:
            self.bomb("max_files", len(self.files) + 1, name.text)
        self.make_dir(parts[:-1])
        path = self.disk_path(parts)
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        )
        fd = os.open(path, flags, FILE_MODE)
        hasher = MultiHasher()
        written = 0
        with os.fdopen(fd, "wb") as out:
            while True:
                block = stream.read(BLOCK_SIZE)
                if not block:
                    break
                written += len(block)
                self.total += len(block)
                if written > self.limits.max_file_bytes:
                    self.bomb("max_file_bytes", written, name.text)
                self._check_total(name.text)
                out.write(block)
                hasher.update(block)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        received = ReceivedFile(name=name, path=path, digests=hasher.result())
        self.files.append(received)
        return received

    def _check_total(self, where: str) -> None:
        if self.total > self.limits.max_total_bytes:
            self.bomb("max_total_bytes", self.total, where)
        if self.source_bytes is not None and self.total > self.limits.ratio_floor_bytes:
            ratio = self.total / max(self.source_bytes, 1)
            if ratio > self.limits.max_ratio:
                self.bomb("max_ratio", round(ratio, 1), where)

    def bomb(self, limit: str, value: float, where: str) -> None:
        allowed = getattr(self.limits, limit)
        raise UnsafePackageError(
            f"archive bomb guard: {limit} exceeded ({value} > {allowed}) at {where!r}",
            code="unpack.bomb",
            path=where,
            params={"limit": limit, "value": value, "allowed": allowed},
        )

    def warn(self, code: str, where: str, message: str, severity: Severity = Severity.WARNING) -> None:
        self.findings.append(Finding(code=code, severity=severity, where=where, message=message))

    def sorted_files(self) -> tuple[ReceivedFile, ...]:
        return tuple(sorted(self.files, key=lambda f: f.name.raw))


def resolve_link(
    link_parts: tuple[bytes, ...], target: bytes, *, relative_to_root: bool = False
) -> tuple[bytes, ...]:
    """Resolve a link target lexically inside the submission.

    Args:
        link_parts: the link's own name.
        target: the raw target (symlink text, or a tar hardlink's archive name).
        relative_to_root: tar hardlink targets are archive names, not relative to the link.

    Raises:
        UnsafePackageError: ``unpack.link_escapes`` when the target is absolute or leaves the root.
    """
    resolved = resolve_relative(() if relative_to_root else link_parts[:-1], target)
    if resolved is None:
        where = readable(b"/".join(link_parts))
        raise UnsafePackageError(
            f"link {where!r} points outside the submission ({readable(target)!r})",
            code="unpack.link_escapes",
            path=where,
            params={"target": readable(target)},
        )
    return resolved


def materialize_links(writer: SafeWriter, links: dict[tuple[bytes, ...], tuple[bytes, ...]]) -> None:
    """Turn links that point to a file inside the submission into regular copies of that file.

    A link is not a record; its target is. Keeping the bytes under the link's name preserves what the
    submitter saw in that place, and the warning finding keeps the fact that it was a link.

    Raises:
        UnsafePackageError: ``unpack.link_to_directory`` (copying a folder could loop or explode).
    """
    by_parts = {tuple(f.name.raw.split(b"/")): f for f in writer.files}
    for link, target in sorted(links.items()):
        where = readable(b"/".join(link))
        seen: set[tuple[bytes, ...]] = set()
        current = target
        while current in links and current not in seen:
            seen.add(current)
            current = links[current]
        if writer.kind_of(current) == "dir" or not current:
            raise UnsafePackageError(
                f"link {where!r} points to a folder ({readable(b'/'.join(current))!r})",
                code="unpack.link_to_directory",
                path=where,
                params={"target": readable(b"/".join(current))},
            )
        source = by_parts.get(current)
        if source is None:
            writer.warn(
                "unpack.link_dangling",
                where,
                f"link to {readable(b'/'.join(target))!r}, which is not in the submission: not kept",
            )
            continue
        with source.path.open("rb") as fh:
            writer.write_file(link, fh)
        writer.warn(
            "unpack.link_materialised",
            where,
            f"link to {readable(b'/'.join(current))!r} stored as a copy of that file",
        )
