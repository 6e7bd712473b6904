"""Writing an export's ZIP and publishing it: streamed, hashed again, renamed only with its event.

Every form of export (``tt05-aip``, ``tt05-dip``, ``bagit``) ends here. Each file is hashed again
while it is streamed into the ZIP, so what leaves is what the catalog holds; the ZIP is written
under a temporary name beside the target and gets its final name only once it is complete and its
event committed (style guide item 7): an interrupted export leaves no ZIP under the final name.
"""

from __future__ import annotations

import os
import uuid
import zipfile
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import ErrorKind
from preservation.events import Event
from preservation.fixity import MultiHasher, iter_blocks
from preservation.names import portable_path_problem
from repository.catalog import store
from workflows.access.errors import ExportError
from workflows.jobs.runner import kill_point

_ZIP64_FROM = 1 << 30  # stream files of 1 GiB and more with ZIP64 sizes from the start


def check_target(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise ExportError(
            f"{out} already exists; an export never overwrites a file",
            code="export.out_exists",
            kind=ErrorKind.USAGE,
            path=str(out),
            params={"path": str(out)},
        )
    out.parent.mkdir(parents=True, exist_ok=True)


def tree(root: Path) -> list[str]:
    """Every file under ``root`` as a relative POSIX path, names exactly as on disk."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


def zip_and_publish(
    source: Path,
    expected: Mapping[str, str],
    strict: bool,
    out: Path,
    sessions: sessionmaker[Session],
    aip_id: str,
    event: Event,
    now: datetime,
    zone: tzinfo,
    audit: Callable[[Session], object] | None = None,
) -> tuple[int, int]:
    """ZIP ``source`` (as the top folder) under a temporary name beside ``out``, then record the
    event and rename in one step: the ZIP gets its final name only with its event committed.
    ``audit`` writes the export's row of the staff audit log in that same transaction."""
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.part")
    published = False
    try:
        with temp.open("xb") as fh:
            files, size = write_zip(fh, source, expected, strict, now.astimezone(zone))
            fh.flush()
            os.fsync(fh.fileno())
        kill_point("export: zip written")  # crash tests (KHOLUU_KILL_AT): complete, not published
        with sessions.begin() as session:
            store.add_events(session, [event], aip_id=aip_id)
            if audit is not None:
                audit(session)
            check_target(out)
            os.replace(temp, out)
            published = True
        _fsync_dir(out.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        if published:  # the commit failed after the rename: no export without its event
            out.unlink(missing_ok=True)
        raise
    return files, size


def write_zip(
    fh: Any, source: Path, expected: Mapping[str, str], strict: bool, stamp: datetime
) -> tuple[int, int]:
    """Stream every file into the ZIP block by block, hashing on the way (never a whole file in
    memory); a file whose SHA-256 differs from ``expected`` stops the export."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    seen: set[str] = set()
    size = 0
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for rel in tree(source):
            path = source / rel
            if path.is_symlink() or not path.is_file():
                raise ExportError(
                    f"{rel} is not a regular file", code="export.not_regular", path=rel, params={"path": rel}
                )
            entry = f"{source.name}/{rel}"
            problem = portable_path_problem(entry)
            if problem is not None:  # never a zip-slip or an unrestorable name for the recipient
                raise ExportError(
                    f"{rel} cannot be a ZIP entry for another system: {problem}",
                    code="export.unsafe_name",
                    path=rel,
                    params={"path": rel, "problem": problem},
                )
            info = zipfile.ZipInfo(entry, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            hasher = MultiHasher(("sha256",))
            with (
                path.open("rb") as src,
                zf.open(info, "w", force_zip64=path.stat().st_size >= _ZIP64_FROM) as dst,
            ):
                for block in iter_blocks(src):
                    dst.write(block)
                    hasher.update(block)
            found = hasher.result()
            wanted = expected.get(rel)
            if wanted is None and strict:
                raise ExportError(
                    f"{rel} is not part of what is exported",
                    code="export.unexpected_file",
                    path=rel,
                    params={"path": rel},
                )
            if wanted is not None and found.sha256 != wanted.lower():
                raise ExportError(
                    f"{rel}: SHA-256 {found.sha256} while writing the ZIP, the catalog says {wanted.lower()}",
                    code="export.digest_mismatch",
                    path=rel,
                    params={"path": rel, "expected": wanted.lower(), "found": found.sha256},
                )
            seen.add(rel)
            size += found.size
    missing = sorted(set(expected) - seen)
    if missing:
        raise ExportError(
            f"{missing[0]} is missing from the export",
            code="export.file_missing",
            path=missing[0],
            params={"path": missing[0], "count": len(missing)},
        )
    return len(seen), size


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
