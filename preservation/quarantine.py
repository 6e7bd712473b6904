"""Receiving a submission into quarantine: copy a folder, or copy and unpack an archive.

Nothing of a submission is read in place: ingest works on a private copy, made in one streamed
pass that also computes SHA-256 and SHA-512, so the digests we record are of exactly the bytes we
then scan, identify and package. Folders get the same hostile-content checks as archives: links
leaving the folder, device files and FIFOs are refused; links inside become copies of their target.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from preservation.errors import InvalidPackageError, UnsafePackageError
from preservation.fixity import copy_and_digest
from preservation.names import FileName, readable
from preservation.package import Container, ReceivedTree
from preservation.safepath import SafeWriter, UnpackLimits, materialize_links, resolve_link
from preservation.unpack import detect_container, unpack_archive

__all__ = ["copy_tree", "receive"]


def receive(
    source: Path,
    destination: Path,
    limits: UnpackLimits,
    *,
    progress: Callable[[str], None] | None = None,
) -> ReceivedTree:
    """Copy ``source`` into ``destination``: a folder into ``content/``; an archive into
    ``archive/<name>`` (hashed on the way) and then unpacked into ``content/``.

    Raises:
        InvalidPackageError: ``package.not_found``, ``package.unknown_container``, a damaged archive.
        UnsafePackageError: hostile content (see :mod:`preservation.safepath`).
    """
    if not source.exists() and not source.is_symlink():
        raise InvalidPackageError(
            f"submission not found: {source}", code="package.not_found", path=str(source)
        )
    container = detect_container(source)
    destination.mkdir(parents=True, exist_ok=True, mode=0o750)
    if container is Container.DIRECTORY:
        return copy_tree(source, destination / "content", limits, progress=progress)
    archive_dir = destination / "archive"
    archive_dir.mkdir(exist_ok=True, mode=0o750)
    copy = archive_dir / source.name
    with source.open("rb") as src, copy.open("xb") as dst:
        copy_and_digest(src, dst)
    os.chmod(copy, 0o440)
    return unpack_archive(copy, destination / "content", limits, progress=progress)


def copy_tree(
    source: Path,
    destination: Path,
    limits: UnpackLimits,
    *,
    progress: Callable[[str], None] | None = None,
) -> ReceivedTree:
    """Copy the folder ``source`` into ``destination`` with the checks of an archive extraction.

    Names are read as bytes (``os.scandir`` on a bytes path), so they are kept exactly.
    """
    if source.is_symlink():
        raise UnsafePackageError(
            f"the submission {source} is itself a link; give the real folder",
            code="unpack.link_escapes",
            path=source.name,
            params={"target": os.readlink(source)},
        )
    writer = SafeWriter(destination, limits)
    links: dict[tuple[bytes, ...], tuple[bytes, ...]] = {}
    root = os.fsencode(source)
    _walk(root, b"", writer, links, progress)
    materialize_links(writer, links)
    return ReceivedTree(
        root=destination,
        container=Container.DIRECTORY,
        files=writer.sorted_files(),
        source_name=source.name,
        findings=tuple(writer.findings),
    )


def _walk(
    root: bytes,
    rel: bytes,
    writer: SafeWriter,
    links: dict[tuple[bytes, ...], tuple[bytes, ...]],
    progress: Callable[[str], None] | None,
) -> None:
    here = os.path.join(root, rel) if rel else root
    with os.scandir(here) as it:
        entries = sorted(it, key=lambda e: e.name)
    if rel and not entries:
        parts = writer.claim(rel, "dir")
        writer.make_dir(parts)
        writer.warn("unpack.empty_directory", readable(rel), "empty folder: it holds no file to keep")
    for entry in entries:
        name = entry.name if isinstance(entry.name, bytes) else os.fsencode(entry.name)
        child = rel + b"/" + name if rel else name
        where = readable(child)
        st = entry.stat(follow_symlinks=False)
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            parts = writer.claim(child, "file")
            target = os.readlink(entry.path)
            target_b = target if isinstance(target, bytes) else os.fsencode(target)
            resolved = resolve_link(parts, target_b)
            real = os.path.realpath(entry.path)
            root_real = os.path.realpath(root)
            if os.path.commonpath([real, root_real]) != root_real:
                raise UnsafePackageError(
                    f"link {where!r} points outside the submission",
                    code="unpack.link_escapes",
                    path=where,
                    params={"target": readable(target_b)},
                )
            links[parts] = resolved
        elif stat.S_ISDIR(mode):
            parts = writer.claim(child, "dir")
            writer.make_dir(parts)
            _walk(root, child, writer, links, progress)
            os.utime(writer.disk_path(parts), (st.st_mtime, st.st_mtime))
        elif stat.S_ISREG(mode):
            parts = writer.claim(child, "file")
            with open(entry.path, "rb") as fh:
                writer.write_file(parts, fh, mtime=st.st_mtime)
            if progress is not None:
                progress(FileName(b"/".join(parts)).text)
        else:
            raise UnsafePackageError(
                f"{where!r} is a device file, FIFO or socket", code="unpack.special_file", path=where
            )
