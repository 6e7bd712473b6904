"""Safe unpacking of zip, tar and tar.gz submissions.

We never call ``extractall``: each member is checked and written by :class:`SafeWriter`, links are
never created on disk (a link inside the package becomes a copy of its target, a link leaving it is
refused), device files and FIFOs are refused, and the archive-bomb limits are enforced on declared
sizes first and on the bytes actually produced while streaming, since headers can lie.
"""

from __future__ import annotations

import gzip
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, cast

from preservation.errors import InvalidPackageError, UnsafePackageError
from preservation.findings import Severity
from preservation.names import FileName, readable
from preservation.package import Container, ReceivedFile, ReceivedTree
from preservation.safepath import SafeWriter, UnpackLimits, materialize_links, resolve_link

__all__ = ["UnpackLimits", "detect_container", "unpack_archive"]

LINK_TARGET_MAX = 4096
BLOCK = 1 << 20
ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
"""Compression methods zipfile reads (Deflate64, PPMd, AES's 99... raise NotImplementedError)."""
ZIP_METHOD_NAMES = {9: "Deflate64", 10: "PKWARE implode", 93: "Zstandard", 95: "XZ", 98: "PPMd", 99: "AES"}


def detect_container(path: Path) -> Container:
    """Zip, tar or tar.gz by content (magic bytes), never by the file name's extension.

    Raises:
        InvalidPackageError: ``package.unknown_container`` for anything else.
    """
    if path.is_dir():
        return Container.DIRECTORY
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Container.ZIP
    if head.startswith(b"\x1f\x8b"):
        try:
            with tarfile.open(path, mode="r:gz") as tf:
                tf.next()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InvalidPackageError(
                f"{path.name} is gzip-compressed but not a tar archive ({exc})",
                code="package.unknown_container",
                path=path.name,
            ) from exc
        return Container.TAR_GZ
    if len(head) >= 262 and head[257:262] == b"ustar":
        return Container.TAR
    raise InvalidPackageError(
        f"{path.name} is not a folder, zip, tar or tar.gz submission",
        code="package.unknown_container",
        path=path.name,
    )


@dataclass(frozen=True)
class _Member:
    raw: bytes
    kind: str  # file | dir | symlink | hardlink | special
    size: int
    mtime: float | None
    target: bytes = b""


def unpack_archive(
    archive: Path,
    destination: Path,
    limits: UnpackLimits,
    *,
    progress: Callable[[str], None] | None = None,
) -> ReceivedTree:
    """Extract ``archive`` into ``destination`` and describe what was received.

    Raises:
        UnsafePackageError: for every hostile construct (see module docstring); what was written
            before the refusal stays in ``destination`` (quarantine keeps evidence).
        InvalidPackageError: ``unpack.corrupt_archive`` for a damaged archive.
    """
    container = detect_container(archive)
    writer = SafeWriter(destination, limits, source_bytes=archive.stat().st_size)
    links: dict[tuple[bytes, ...], tuple[bytes, ...]] = {}
    try:
        if container is Container.ZIP:
            _unpack_zip(archive, writer, links, progress)
        else:
            _unpack_tar(archive, "r:gz" if container is Container.TAR_GZ else "r:", writer, links, progress)
    except NotImplementedError as exc:  # zipfile: a compression method it cannot read
        raise InvalidPackageError(
            f"{archive.name} uses a compression method we cannot read: {exc}",
            code="unpack.unsupported_compression",
            path=archive.name,
            params={"method": str(exc)},
        ) from exc
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError, ValueError) as exc:
        # ValueError: zipfile's own, e.g. UnicodeDecodeError for a name flagged UTF-8 that is not
        # (found by the fuzz run, tests/hostile/fuzz_readers.py), or a negative offset
        if isinstance(exc, PermissionError | FileExistsError):
            raise
        raise InvalidPackageError(
            f"{archive.name} is damaged: {exc}", code="unpack.corrupt_archive", path=archive.name
        ) from exc
    materialize_links(writer, links)
    _note_empty_dirs(writer)
    root, files = _unwrap(writer)
    return ReceivedTree(
        root=root,
        container=container,
        files=files,
        source_name=archive.name,
        findings=tuple(writer.findings),
    )


def _handle(
    writer: SafeWriter,
    links: dict[tuple[bytes, ...], tuple[bytes, ...]],
    member: _Member,
    opener: Callable[[], AbstractContextManager[IO[bytes]]],
    progress: Callable[[str], None] | None,
) -> None:
    where = readable(member.raw)
    if member.kind == "special":
        raise UnsafePackageError(
            f"{where!r} is a device file, FIFO or socket", code="unpack.special_file", path=where
        )
    if member.kind == "dir":
        parts = writer.claim(member.raw, "dir")
        writer.make_dir(parts, None)
        return
    parts = writer.claim(member.raw, "file")
    if not parts:
        return
    if member.kind in ("symlink", "hardlink"):
        links[parts] = resolve_link(parts, member.target, relative_to_root=member.kind == "hardlink")
        return
    if member.size > writer.limits.max_file_bytes:
        writer.bomb("max_file_bytes", member.size, where)
    with opener() as stream:
        writer.write_file(parts, stream, mtime=member.mtime)
    if progress is not None:
        progress(FileName(b"/".join(parts)).text)


def _zip_members(zf: zipfile.ZipFile) -> Iterator[tuple[_Member, zipfile.ZipInfo]]:
    for info in zf.infolist():
        if not info.filename:  # zipfile's is_dir() raises IndexError on it (found by the fuzz run)
            raise UnsafePackageError(
                "an entry with an empty name", code="unpack.bad_component", path=readable(b"")
            )
        raw = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        mode = (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else 0
        fmt = stat.S_IFMT(mode)
        mtime = _zip_mtime(info)
        if info.is_dir() or fmt == stat.S_IFDIR:
            yield _Member(raw, "dir", 0, mtime), info
        elif fmt == stat.S_IFLNK:
            target = zf.read(info)[:LINK_TARGET_MAX] if info.file_size <= LINK_TARGET_MAX else b""
            yield _Member(raw, "symlink", 0, mtime, target), info
        elif fmt in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
            yield _Member(raw, "special", 0, mtime), info
        else:
            yield _Member(raw, "file", info.file_size, mtime), info


def _zip_mtime(info: zipfile.ZipInfo) -> float | None:
    import datetime as dt

    try:
        return dt.datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return None


def _unpack_zip(
    archive: Path,
    writer: SafeWriter,
    links: dict[tuple[bytes, ...], tuple[bytes, ...]],
    progress: Callable[[str], None] | None,
) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > writer.limits.max_files:
            writer.bomb("max_files", len(infos), archive.name)
        declared = sum(i.file_size for i in infos)
        if declared > writer.limits.max_total_bytes:
            writer.bomb("max_total_bytes", declared, archive.name)
        if (
            declared > writer.limits.ratio_floor_bytes
            and declared / max(writer.source_bytes or 1, 1) > writer.limits.max_ratio
        ):
            writer.bomb("max_ratio", round(declared / max(writer.source_bytes or 1, 1), 1), archive.name)
        for member, info in _zip_members(zf):
            if info.compress_type not in ZIP_METHODS and member.kind == "file":
                method = ZIP_METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
                raise InvalidPackageError(
                    f"{readable(member.raw)!r} is compressed with {method}, which we cannot read",
                    code="unpack.unsupported_compression",
                    path=readable(member.raw),
                    params={"method": method},
                )
            if info.flag_bits & 0x1:
                raise UnsafePackageError(
                    f"{readable(member.raw)!r} is encrypted; we cannot scan or preserve what we cannot read",
                    code="unpack.encrypted",
                    path=readable(member.raw),
                )
            _handle(writer, links, member, partial(_zip_open, zf, info), progress)


@contextmanager
def _zip_open(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[IO[bytes]]:
    with zf.open(info) as fh:
        yield fh


def _unpack_tar(
    archive: Path,
    mode: str,
    writer: SafeWriter,
    links: dict[tuple[bytes, ...], tuple[bytes, ...]],
    progress: Callable[[str], None] | None,
) -> None:
    with ExitStack() as stack:
        raw: IO[bytes] = stack.enter_context(
            cast(IO[bytes], gzip.GzipFile(archive, "rb") if mode == "r:gz" else archive.open("rb"))
        )
        watched = _Watched(raw)
        tf = stack.enter_context(
            tarfile.open(fileobj=watched, mode="r:", encoding="utf-8", errors="surrogateescape")  # type: ignore[call-overload]
        )
        for count, info in enumerate(tf, start=1):
            if count > writer.limits.max_files:
                writer.bomb("max_files", count, archive.name)
            raw_name = info.name.encode("utf-8", "surrogateescape")
            mtime = float(info.mtime) if info.mtime else None
            if info.isdir():
                member = _Member(raw_name, "dir", 0, mtime)
            elif info.issym():
                member = _Member(
                    raw_name, "symlink", 0, mtime, info.linkname.encode("utf-8", "surrogateescape")
                )
            elif info.islnk():
                member = _Member(
                    raw_name, "hardlink", 0, mtime, info.linkname.encode("utf-8", "surrogateescape")
                )
            elif info.isreg():
                member = _Member(raw_name, "file", info.size, mtime)
            else:
                member = _Member(raw_name, "special", 0, mtime)
            _handle(writer, links, member, partial(_tar_open, tf, info), progress)
        _check_tar_end(tf, watched, archive.name)


class _Watched:
    """The archive's stream as tarfile reads it, keeping the last block read and where it began:
    after the last member, that is the header tarfile stopped at."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.last = b""
        self.last_at = 0

    def read(self, size: int = -1) -> bytes:
        self.last_at = self.raw.tell()
        self.last = self.raw.read(size)
        return self.last

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()


def _check_tar_end(tf: tarfile.TarFile, watched: _Watched, name: str) -> None:
    """Refuse a tar whose members stop before its data does.

    tarfile ends the listing quietly at the first header after the first one that it cannot read
    (a bad checksum, a header cut short), so a damaged tar looked like a smaller, complete package
    and the members after the damage were dropped without a word. What follows the last member
    must be the end-of-archive blocks: zeros up to the end of the file. Read in blocks, forward
    only (a gzip stream is never rewound).
    """
    offset = tf.offset
    pending = watched.last if watched.last_at == offset else b""
    if not pending and watched.tell() != offset:
        watched.seek(offset)
    while True:
        if pending.strip(b"\0"):
            at = offset + len(pending) - len(pending.lstrip(b"\0"))
            raise InvalidPackageError(
                f"{name} has data at byte {at} that no member header describes",
                code="unpack.data_after_end",
                path=name,
                params={"offset": at},
            )
        offset += len(pending)
        pending = watched.raw.read(BLOCK)
        if not pending:
            return


@contextmanager
def _tar_open(tf: tarfile.TarFile, info: tarfile.TarInfo) -> Iterator[IO[bytes]]:
    fh = tf.extractfile(info)
    if fh is None:
        raise InvalidPackageError(
            f"cannot read {info.name!r} from the archive", code="unpack.corrupt_archive", path=info.name
        )
    with fh:
        yield fh


def _note_empty_dirs(writer: SafeWriter) -> None:
    dirs = {k for k, v in writer._by_key.items() if v == "dir"}
    parents = {k[:i] for k in writer._by_key for i in range(1, len(k))}
    for d in sorted(dirs - parents):
        where = readable(b"/".join(d))
        writer.warn("unpack.empty_directory", where, "empty folder: it holds no file to keep", Severity.INFO)


def _unwrap(writer: SafeWriter) -> tuple[Path, tuple[ReceivedFile, ...]]:
    """An archive whose content sits under one top-level folder is read from inside that folder."""
    tops = {k[0] for k in writer._by_key}
    files = writer.sorted_files()
    if len(tops) != 1 or not files:
        return writer.root, files
    (top,) = tops
    if writer.kind_of((top,)) != "dir":
        return writer.root, files
    prefix = top + b"/"
    root = writer.disk_path((top,))
    unwrapped = tuple(
        ReceivedFile(name=FileName(f.name.raw[len(prefix) :]), path=f.path, digests=f.digests) for f in files
    )
    return root, unwrapped
