"""The source folder of a new OCFL version, checked before anything is stored: every file found
with a logical path OCFL and every backend can hold, the paths and digests the caller expects, and
the quiet clean-up of what a failed write leaves behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from preservation.fixity import Digests
from repository.storage.errors import IntegrityError, StorageError


def scan_source(source: Path) -> list[tuple[str, Path]]:
    """(logical path, file) for every regular file under ``source``, sorted by logical path.

    Raises:
        StorageError: ``ocfl.source_missing``; ``ocfl.bad_logical_path`` for a name that is not
            UTF-8 (OCFL logical paths are UTF-8 text); ``ocfl.unsupported_source_entry`` for links,
            devices and the like (an AIP holds files).
    """
    if not source.is_dir():
        raise StorageError(
            f"source folder {source} does not exist", code="ocfl.source_missing", key=str(source)
        )
    out: list[tuple[str, Path]] = []
    pending = [(source, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                logical = prefix + entry.name
                try:
                    logical.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise StorageError(
                        f"file name {logical!r} is not valid UTF-8", code="ocfl.bad_logical_path", key=logical
                    ) from exc
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), logical + "/"))
                elif entry.is_file(follow_symlinks=False):
                    out.append((logical, Path(entry.path)))
                else:
                    raise StorageError(
                        f"{logical} is neither a regular file nor a folder",
                        code="ocfl.unsupported_source_entry",
                        key=logical,
                    )
    return sorted(out)


def check_expected_paths(files: list[tuple[str, Path]], expected: Mapping[str, Digests]) -> None:
    present = {lp for lp, _ in files}
    for path in sorted(present ^ set(expected)):
        only_in = "source" if path in present else "expected"
        raise IntegrityError(
            f"{path} is only in the {'source folder' if only_in == 'source' else 'expected manifest'}",
            code="ocfl.source_mismatch",
            key=path,
            params={"only_in": only_in},
        )


def compare_source(logical_path: str, found: Digests, wanted: Digests | None, code: str) -> None:
    if wanted is None:
        return
    checks = [("size", str(wanted.size), str(found.size))] + [
        (alg, value.lower(), found.values[alg]) for alg, value in wanted.values.items() if alg in found.values
    ]
    for algorithm, value, got in checks:
        if value != got:
            raise IntegrityError(
                f"{logical_path}: {algorithm} is {got}, expected {value}",
                code=code,
                key=logical_path,
                algorithm=algorithm,
                expected=value,
                found=got,
            )


def empty_folder(folder: Path, *, remove: bool) -> None:
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def quietly(cleanup: Callable[..., object], *args: Any) -> None:
    """Run a clean-up step on a failure path without hiding the original error."""
    try:
        cleanup(*args)
    except StorageError:
        pass


__all__ = ["check_expected_paths", "compare_source", "empty_folder", "quietly", "scan_source"]
