"""Local file-system backend: keys are paths under a root folder, byte for byte.

A key ``a/b c/Tập tin.txt`` is the file ``<root>/a/b c/Tập tin.txt`` with exactly the code points
of the key (no Unicode normalisation), so an NFD name stays NFD on disk and any tool reading the
folder sees what was preserved. Directories are an implementation detail: they are created on
write and removed when they become empty, so the folder looks like the key space an object store
would show (an empty directory would also make an OCFL storage root invalid, OCFL 1.1 E073).

Durability (style guide item 7): a write goes to ``.<name>.tmp-<uuid>`` in the target's directory
(created with O_EXCL, so two writers never share a temporary file), is fsynced, dropped from the
page cache and read back from disk, compared, and only then renamed over the key with
``os.replace``; the directory is fsynced after the rename. Files are streamed in 1 MiB blocks.

The root must exist: if it does not (an unmounted disk, a missing network share), every operation
raises :class:`BackendUnavailable` instead of quietly writing onto the mount point.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import stat
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar

from preservation.fixity import BLOCK_SIZE, Digests, digest_file
from repository.storage.backend import (
    KeyStat,
    check_key,
    check_move,
    check_prefix,
    compare_digests,
    compare_readback,
    write_hasher,
)
from repository.storage.errors import BackendUnavailable, NotFound, StorageError

_UNAVAILABLE_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "EIO",
        "ENOTCONN",
        "ESTALE",
        "ETIMEDOUT",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "ENETUNREACH",
        "ENODEV",
        "ENXIO",
        "ENOMEDIUM",
        "ESHUTDOWN",
    )
    if hasattr(errno, name)
)
_ERRNO_CODES = {
    errno.ENOSPC: "storage.no_space",
    errno.EDQUOT: "storage.no_space",
    errno.EROFS: "storage.read_only",
    errno.EACCES: "storage.permission_denied",
    errno.EPERM: "storage.permission_denied",
    errno.ENAMETOOLONG: "storage.name_too_long",
    errno.ENOTDIR: "storage.key_conflict",
    errno.EEXIST: "storage.key_conflict",
    errno.EISDIR: "storage.key_conflict",
}
_TEMP_MARK = ".tmp-"
_P = ParamSpec("_P")
_R = TypeVar("_R")
_MAX_NAME_BYTES = 255 - len(".") - len(_TEMP_MARK) - 32


class LocalBackend:
    """:class:`repository.storage.backend.Backend` over a folder of the local file system.

    Args:
        root: the folder that holds every key of this location. It must exist (see ``create``).
        name: the storage location's name, carried by every error as ``location``.
        create: create ``root`` (and parents) now; used once, when a location is set up.
    """

    def __init__(self, root: Path, name: str, *, create: bool = False) -> None:
        self.root = Path(os.path.abspath(root))
        self.name = name
        if create:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._error(exc, "") from exc

    def __repr__(self) -> str:
        return f"LocalBackend({str(self.root)!r}, name={self.name!r})"

    # -- reading ---------------------------------------------------------------------------

    def open_read(self, key: str) -> BinaryIO:
        # A plain string path: an audit opens thousands of small files, and building a pathlib
        # Path for each cost as much as hashing one (bench/bench_audit.py local, small). The key
        # is checked first, so joining it with "/" cannot leave the root.
        check_key(key, location=self.name)
        self._check_root()
        try:
            return open(f"{self.root}/{key}", "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(f"no key {key}", key=key, location=self.name) from exc
        except OSError as exc:
            raise self._error(exc, key) from exc

    def stat(self, key: str) -> KeyStat | None:
        path = self._path(key)
        try:
            st = os.stat(path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._error(exc, key) from exc
        if not _is_regular(st.st_mode):
            return None
        return KeyStat(key=key, size=st.st_size, modified=datetime.fromtimestamp(st.st_mtime, tz=UTC))

    def iter_keys(self, prefix: str) -> Iterator[str]:
        prefix = check_prefix(prefix, location=self.name)
        self._check_root()
        base = self.root.joinpath(*prefix.split("/")) if prefix else self.root
        yield from self._walk(base, prefix + "/" if prefix else "")

    def server_checksum(self, key: str) -> str | None:
        """A local disk keeps no checksum of its own."""
        check_key(key, location=self.name)
        return None

    # -- writing ---------------------------------------------------------------------------

    def write_atomic(
        self, key: str, source: BinaryIO, *, expected: Mapping[str, str] | None = None
    ) -> Digests:
        target = self._path(key)
        hasher = write_hasher(expected, key=key, location=self.name)
        created: list[Path] = []
        temp: Path | None = None
        try:
            temp, fd = self._io(key, self._create_temp, target, created)
            with os.fdopen(fd, "wb") as out:
                while True:
                    block = source.read(BLOCK_SIZE)  # the caller's stream: its errors propagate as they are
                    if not block:
                        break
                    hasher.update(block)
                    self._io(key, out.write, block)
                self._io(key, out.flush)
                self._io(key, os.fsync, out.fileno())
                _drop_page_cache(out.fileno())
            written = hasher.result()
            if expected:
                compare_digests(written, expected, key=key, location=self.name)
            stored = self._io(key, digest_file, temp, tuple(written.values))
            compare_readback(stored, written, key=key, location=self.name)
            self._io(key, os.replace, temp, target)
            temp = None
            _fsync_dir(target.parent)
        except BaseException:
            if temp is not None:
                _unlink_quietly(temp)
            _prune_created(created)
            raise
        return written

    def write_files(self, items: Sequence[tuple[str, Path, Mapping[str, str] | None]]) -> list[Digests]:
        """Write several local files as keys with :meth:`write_atomic`'s guarantees, durable with
        one file-system sync for the batch instead of one fsync per file and per folder.

        Each file is streamed to its temporary name while hashed and compared with its
        ``expected`` digests; then the file system is synced once (``syncfs``), every temporary
        file is dropped from the page cache and read back from disk and compared, renamed over
        its key, and the renames are made durable with a second sync. A failure removes every
        temporary file of the batch; keys renamed before it stay (the caller's deposit is
        private and removed on failure, as with single writes).

        Returns:
            The digests of each item, in order.
        """
        temps: list[tuple[str, Path, Path, Digests]] = []
        created: list[Path] = []
        try:
            for key, source, expected in items:
                target = self._path(key)
                hasher = write_hasher(expected, key=key, location=self.name)
                temp, fd = self._io(key, self._create_temp, target, created)
                temps.append((key, temp, target, Digests(0, {})))
                with os.fdopen(fd, "wb") as out, source.open("rb") as stream:
                    while block := stream.read(BLOCK_SIZE):
                        hasher.update(block)
                        self._io(key, out.write, block)
                written = hasher.result()
                if expected:
                    compare_digests(written, expected, key=key, location=self.name)
                temps[-1] = (key, temp, target, written)
            if temps:
                self._io(temps[0][0], sync_file_system, self.root)
            for key, temp, _target, written in temps:
                fd = self._io(key, os.open, temp, os.O_RDONLY)
                try:
                    _drop_page_cache(fd)
                finally:
                    os.close(fd)
                stored = self._io(key, digest_file, temp, tuple(written.values))
                compare_readback(stored, written, key=key, location=self.name)
            for key, temp, target, _written in temps:
                self._io(key, os.replace, temp, target)
            if temps:
                self._io(temps[0][0], sync_file_system, self.root)
        except BaseException:
            for _key, temp, _target, _written in temps:
                _unlink_quietly(temp)
            _prune_created(created)
            raise
        return [written for _key, _temp, _target, written in temps]

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            raise self._error(exc, key) from exc
        _fsync_dir(path.parent)
        self._prune_parents(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        prefix = check_prefix(prefix, location=self.name, allow_root=False)
        self._check_root()
        base = self.root.joinpath(*prefix.split("/"))
        if not base.is_dir() or base.is_symlink():
            self._prune_parents(base.parent)  # empty folders left by a crash before any key was written
            return 0
        count = 0
        try:
            for dirpath, dirnames, filenames in os.walk(base, topdown=False):
                for name in filenames:
                    os.unlink(os.path.join(dirpath, name))
                    count += 1
                for name in dirnames:
                    sub = os.path.join(dirpath, name)
                    if os.path.islink(sub):
                        os.unlink(sub)
                    else:
                        os.rmdir(sub)
            base.rmdir()
        except OSError as exc:
            raise self._error(exc, prefix) from exc
        self._prune_parents(base.parent)
        return count

    def move_prefix(self, src: str, dst: str, *, last: Sequence[str] = ()) -> None:
        src, dst = check_move(src, dst, location=self.name)
        last = [check_key(k, location=self.name) for k in last]
        self._check_root()
        src_path = self.root.joinpath(*src.split("/"))
        dst_path = self.root.joinpath(*dst.split("/"))
        if not src_path.is_dir():
            raise NotFound(f"nothing under {src}", key=src, location=self.name)
        for rel in last:
            if not src_path.joinpath(*rel.split("/")).is_file():
                raise NotFound(f"no key {src}/{rel} to move last", key=f"{src}/{rel}", location=self.name)
        if not os.path.lexists(dst_path) and self._move_whole(src_path, dst_path, dst):
            return
        conflicts = [
            rel
            for rel in self._walk(src_path, "")
            if rel not in last and os.path.lexists(dst_path.joinpath(*rel.split("/")))
        ]
        if conflicts:
            raise StorageError(
                f"{len(conflicts)} key(s) already exist under {dst}, e.g. {dst}/{conflicts[0]}",
                code="storage.exists",
                key=f"{dst}/{conflicts[0]}",
                location=self.name,
                params={"count": len(conflicts)},
            )
        try:
            self._merge(src_path, dst_path, "", frozenset(last))
            for rel in last:
                final = dst_path.joinpath(*rel.split("/"))
                self._rename(src_path.joinpath(*rel.split("/")), final, replace=True)
                _fsync_dir(final.parent)
        except FileExistsError as exc:  # appeared after the conflict check: never overwritten
            raise StorageError(
                f"{exc.filename} appeared while moving {src} to {dst}",
                code="storage.exists",
                key=dst,
                location=self.name,
            ) from exc
        except OSError as exc:
            raise self._error(exc, dst) from exc
        self._remove_empty_tree(src_path)
        self._prune_parents(src_path.parent)

    # -- internals -------------------------------------------------------------------------

    def _rename(self, src: Path, dst: Path, *, replace: bool) -> None:
        """The single step every move goes through (tests wrap it to observe the order).

        Without ``replace`` a file is hard-linked then unlinked, so an existing ``dst`` is never
        overwritten even by a concurrent writer (``os.rename`` would silently replace it).
        """
        if replace:
            os.replace(src, dst)
            return
        if src.is_dir() and not src.is_symlink():
            if os.path.lexists(dst):
                raise FileExistsError(errno.EEXIST, "exists", str(dst))
            os.rename(src, dst)
            return
        try:
            os.link(src, dst, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
                raise
            if os.path.lexists(dst):  # file system without hard links: check, then rename
                raise FileExistsError(errno.EEXIST, "exists", str(dst)) from exc
            os.rename(src, dst)
            return
        os.unlink(src)

    def _move_whole(self, src_path: Path, dst_path: Path, dst: str) -> bool:
        """Rename the folder in one step (atomic); False if ``dst`` appeared meanwhile."""
        created: list[Path] = []
        try:
            self._makedirs(dst_path.parent, created)
            self._rename(src_path, dst_path, replace=False)
        except OSError as exc:
            _prune_created(created)
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                return False
            raise self._error(exc, dst) from exc
        _fsync_dir(dst_path.parent)
        _fsync_dir(src_path.parent)
        self._prune_parents(src_path.parent)
        return True

    def _merge(self, src: Path, dst: Path, rel: str, last: frozenset[str]) -> None:
        """Move the tree ``src`` into the existing ``dst``, whole sub-folders where possible."""
        self._makedirs(dst, [])
        with os.scandir(src) as entries:
            ordered = sorted(entries, key=_sort_name)
        for entry in ordered:
            entry_rel = rel + entry.name
            target = dst / entry.name
            if entry.is_dir(follow_symlinks=False):
                holds_last = any(k.startswith(entry_rel + "/") for k in last)
                if not holds_last and not os.path.lexists(target):
                    self._rename(Path(entry.path), target, replace=False)
                else:
                    self._merge(Path(entry.path), target, entry_rel + "/", last)
            elif entry_rel not in last:
                self._rename(Path(entry.path), target, replace=False)
        _fsync_dir(dst)

    def _walk(self, folder: Path, prefix: str) -> Iterator[str]:
        """Keys under ``folder`` in code-point order: a sub-folder sorts as ``name/``."""
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_sort_name)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._error(exc, prefix.rstrip("/")) from exc
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), f"{prefix}{entry.name}/")
            elif entry.is_file(follow_symlinks=False):
                yield prefix + entry.name

    def _create_temp(self, target: Path, created: list[Path]) -> tuple[Path, int]:
        """Create the temporary file next to ``target`` with O_EXCL, creating folders as needed."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        attempts = 5
        for attempt in range(attempts):
            temp = target.parent / _temp_name(target.name)
            try:
                self._makedirs(target.parent, created)
                return temp, os.open(temp, flags, 0o666)
            except FileNotFoundError:
                # Another writer's delete pruned an empty ancestor (``deposit/`` of a job that
                # just ended) between our check and our mkdir or open: make the path again.
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _makedirs(self, folder: Path, created: list[Path]) -> None:
        missing: list[Path] = []
        current = folder
        while current != self.root and not current.is_dir():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                path.mkdir()
                created.append(path)
            except FileExistsError:
                if not path.is_dir():
                    raise
            _fsync_dir(path.parent)  # the new entry itself must survive a power cut

    def _prune_parents(self, folder: Path) -> None:
        """Remove ``folder`` and its ancestors while they are empty, never the root."""
        current = folder
        while current != self.root and self.root in current.parents:
            try:
                current.rmdir()
            except FileNotFoundError:
                pass  # already gone: its parent may still be an empty leftover
            except OSError:
                return
            current = current.parent

    def _remove_empty_tree(self, folder: Path) -> None:
        for dirpath, _dirnames, _filenames in os.walk(folder, topdown=False):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass

    def _path(self, key: str) -> Path:
        check_key(key, location=self.name)
        self._check_root()
        return self.root.joinpath(*key.split("/"))

    def _check_root(self) -> None:
        if not self.root.is_dir():
            raise BackendUnavailable(
                f"storage root {self.root} is missing or not a folder (not mounted?)",
                location=self.name,
                params={"root": str(self.root)},
            )

    def _io(self, key: str, func: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Call ``func``, turning an OSError into a StorageError about ``key``."""
        try:
            return func(*args, **kwargs)
        except OSError as exc:
            raise self._error(exc, key) from exc

    def _error(self, exc: OSError, key: str) -> StorageError:
        name = errno.errorcode.get(exc.errno or 0, "") if exc.errno else ""
        params = {"errno": name, "reason": exc.strerror or str(exc)}
        if exc.errno in _UNAVAILABLE_ERRNOS or not self.root.is_dir():
            return BackendUnavailable(
                f"storage {self.name} unavailable: {exc}", key=key or None, location=self.name, params=params
            )
        code = _ERRNO_CODES.get(exc.errno or 0, "storage.io_error")
        return StorageError(
            f"{exc.strerror or exc} ({name})", code=code, key=key or None, location=self.name, params=params
        )


def _sort_name(entry: os.DirEntry[str]) -> str:
    return entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _temp_name(name: str) -> str:
    short = name.encode("utf-8", "surrogateescape")[:_MAX_NAME_BYTES].decode("utf-8", "ignore")
    return f".{short}{_TEMP_MARK}{uuid.uuid4().hex}"


def _drop_page_cache(fd: int) -> None:
    """Ask the kernel to forget the cached pages so the read-back really reads the disk."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass


def sync_file_system(path: Path) -> None:
    """Make every written byte and name on the file system holding ``path`` durable: Linux
    ``syncfs(2)``, one call for a whole batch of files; ``sync()`` where it is missing."""
    syncfs = _syncfs()
    if syncfs is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(path))
    finally:
        os.close(fd)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return function


def _fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable (POSIX: fsync the directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the data itself was fsynced
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _prune_created(created: list[Path]) -> None:
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            return
