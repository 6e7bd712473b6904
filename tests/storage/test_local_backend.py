"""The local file-system backend: the backend contract, plus what only a local disk can show
(one-rename moves, temporary files next to the target, byte-identical names, no empty folders,
an unmounted root) and the backend registry."""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repository.storage import local as local_module
from repository.storage.errors import BackendUnavailable, IntegrityError, StorageError
from repository.storage.local import LocalBackend
from repository.storage.registry import BackendRegistry, create_backend, default_registry
from tests.storage.backend_contract import BackendContract, FailingSource, payload, put, read

TEMP_NAME = re.compile(r"\..+\.tmp-[0-9a-f]{32}")


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "store", "primary", create=True)


@pytest.fixture
def record_moves(backend: LocalBackend, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every rename ``move_prefix`` makes, as the destination key (folder or file)."""
    steps: list[str] = []
    real: Callable[..., None] = backend._rename

    def recording(src: Path, dst: Path, *, replace: bool) -> None:
        real(src, dst, replace=replace)
        steps.append(dst.relative_to(backend.root).as_posix())

    monkeypatch.setattr(backend, "_rename", recording)
    return steps


class TestLocalBackendContract(BackendContract):
    """The shared contract, on a local folder."""


def all_entries(root: Path) -> list[str]:
    """Every file and folder under ``root`` (what the disk really holds, temporary files included)."""
    return sorted(p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in root.rglob("*"))


def test_new_folder_appears_in_one_rename(backend: LocalBackend, record_moves: list[str]) -> None:
    for i in range(5):
        put(backend, f"deposit/job/v1/content/f{i}.txt", b"x")
    put(backend, "deposit/job/inventory.json", b"{}")
    inode = (backend.root / "deposit" / "job").stat().st_ino
    backend.move_prefix("deposit/job", "ocfl-root/abc/obj", last=["inventory.json"])
    assert record_moves == ["ocfl-root/abc/obj"]  # the whole object, atomically
    assert (backend.root / "ocfl-root" / "abc" / "obj").stat().st_ino == inode
    assert not (backend.root / "deposit").exists()  # emptied folders do not linger


def test_temporary_file_sits_next_to_the_target(backend: LocalBackend) -> None:
    seen: list[list[str]] = []
    folder = backend.root / "a b"

    class Spy(io.RawIOBase):
        def __init__(self) -> None:
            self.chunks = [b"first", b"second"]

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            seen.append(sorted(os.listdir(folder)))
            return self.chunks.pop(0) if self.chunks else b""

    backend.write_atomic("a b/Tài liệu.txt", Spy())  # type: ignore[arg-type]
    assert all(len(names) == 1 and TEMP_NAME.fullmatch(names[0]) for names in seen[:2])
    assert seen[0][0].startswith(".Tài liệu.txt.tmp-")
    assert os.listdir(folder) == ["Tài liệu.txt"]
    assert read(backend, "a b/Tài liệu.txt") == b"firstsecond"


def test_long_names_still_get_a_temporary_file(backend: LocalBackend) -> None:
    name = "đ" * 120  # 240 bytes in UTF-8, the temporary name must still fit in 255
    put(backend, f"x/{name}", b"ok")
    assert read(backend, f"x/{name}") == b"ok"


def test_names_are_stored_byte_for_byte(backend: LocalBackend) -> None:
    nfd = unicodedata.normalize("NFD", "Công văn số 45 100%.txt")
    put(backend, f"hồ sơ/{nfd}", b"x")
    names = os.listdir(os.fsencode(backend.root / "hồ sơ"))
    assert names == [nfd.encode("utf-8")]
    assert names != [unicodedata.normalize("NFC", nfd).encode("utf-8")]


def test_failed_write_leaves_no_file_and_no_folder(backend: LocalBackend) -> None:
    put(backend, "keep.txt", b"k")
    with pytest.raises(OSError, match="source broke"):
        backend.write_atomic("new/deep/folder/f.bin", FailingSource(payload(10), 5))  # type: ignore[arg-type]
    assert all_entries(backend.root) == ["keep.txt"]


def test_read_back_catches_bytes_damaged_after_the_write(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bit rot between write and read-back (a bad disk, a bad controller) must be caught."""
    real_drop = local_module._drop_page_cache

    def drop_and_damage(fd: int) -> None:
        real_drop(fd)
        os.pwrite(fd, b"\xff", 3)

    monkeypatch.setattr(local_module, "_drop_page_cache", drop_and_damage)
    with pytest.raises(IntegrityError) as caught:
        put(backend, "aip/file.bin", b"0123456789")
    assert caught.value.code == "storage.readback_mismatch"
    assert caught.value.key == "aip/file.bin"
    assert all_entries(backend.root) == []


def test_deletes_remove_emptied_folders(backend: LocalBackend) -> None:
    put(backend, "a/b/c/one", b"1")
    put(backend, "a/x/two", b"2")
    backend.delete("a/b/c/one")
    assert all_entries(backend.root) == ["a/", "a/x/", "a/x/two"]
    assert backend.delete_prefix("a") == 1
    assert all_entries(backend.root) == []
    assert backend.root.is_dir()  # never the root itself


def test_a_write_survives_another_writer_pruning_its_empty_parent(
    backend: LocalBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two jobs write deposits side by side: when one ends, its delete prunes ``deposit/`` if it
    looks empty, which can fall between the other's check and its mkdir (seen as ENOENT in a
    load soak with two workers). The write makes its path again."""
    put(backend, "deposit/a/x.bin", b"a")
    source = tmp_path / "y.bin"
    source.write_bytes(b"y" * 10)
    real_mkdir = Path.mkdir
    pruned: list[Path] = []

    def mkdir_after_a_prune(path: Path, *args: Any, **kwargs: Any) -> None:
        if not pruned and path.name == "b":  # the other job ends at this very moment
            backend.delete("deposit/a/x.bin")  # prunes deposit/a and deposit/
            pruned.append(path)
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir_after_a_prune)
    (digests,) = backend.write_files([("deposit/b/y.bin", source, None)])
    assert pruned and not (backend.root / "deposit" / "a").exists()
    assert read(backend, "deposit/b/y.bin") == b"y" * 10 and digests.size == 10


def test_unmounted_root_is_unavailable_not_missing(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "not-mounted", "offsite")
    calls: list[Callable[[], Any]] = [
        lambda: backend.open_read("a"),
        lambda: put(backend, "a", b"x"),
        lambda: list(backend.iter_keys("")),
        lambda: backend.stat("a"),
        lambda: backend.delete_prefix("a"),
    ]
    for call in calls:
        with pytest.raises(BackendUnavailable) as caught:
            call()
        assert caught.value.code == "storage.unavailable"
        assert caught.value.location == "offsite"
    assert not (tmp_path / "not-mounted").exists()  # nothing written onto the mount point


def test_key_under_an_existing_file_is_a_conflict(backend: LocalBackend) -> None:
    put(backend, "a", b"file")
    with pytest.raises(StorageError) as caught:
        put(backend, "a/b", b"x")
    assert caught.value.code == "storage.key_conflict"
    assert all_entries(backend.root) == ["a"]


def test_registry_builds_local_backends(tmp_path: Path) -> None:
    backend = create_backend("local", "primary", {"path": str(tmp_path / "s"), "create": True})
    assert isinstance(backend, LocalBackend)
    assert backend.name == "primary" and backend.root == tmp_path / "s" and backend.root.is_dir()


def test_registry_refuses_unknown_kinds_and_options(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        create_backend("tape", "vault", {})
    assert caught.value.code == "storage.unknown_backend"
    assert "'tape'" in str(caught.value) and "local" in str(caught.value)
    with pytest.raises(StorageError) as bad:
        create_backend("local", "primary", {"path": str(tmp_path), "bucket": "x"})
    assert bad.value.code == "storage.bad_option" and bad.value.params["option"] == "bucket"
    with pytest.raises(StorageError) as missing:
        create_backend("local", "primary", {})
    assert missing.value.params["option"] == "path"


def test_registry_registration_is_validated(tmp_path: Path) -> None:
    registry = BackendRegistry()
    with pytest.raises(ValueError, match="kind"):
        registry.register("S3 Glacier", lambda name, options: LocalBackend(tmp_path, name))
    registry.register("mirror", lambda name, options: LocalBackend(tmp_path, name))
    with pytest.raises(ValueError, match="already registered"):
        registry.register("mirror", lambda name, options: LocalBackend(tmp_path, name))
    assert registry.kinds() == ["mirror"]
    assert default_registry().kinds() == ["local", "s3"]
    assert registry.create("mirror", "m", {}).name == "m"


def test_batch_write_is_verified_and_leaves_nothing_on_a_mismatch(
    backend: LocalBackend, tmp_path: Path
) -> None:
    """write_files (one syncfs per batch, issue 14): every file read back and checked; one file
    not matching its manifest digest makes the batch fail with no key visible and no temporary
    file left."""
    sources = []
    for i in range(3):
        sources.append(tmp_path / f"tệp {i}.txt")
        sources[-1].write_bytes(f"nội dung {i}".encode())
    written = backend.write_files([(f"deposit/j/v1/{p.name}", p, None) for p in sources])
    assert [read(backend, f"deposit/j/v1/{p.name}") for p in sources] == [p.read_bytes() for p in sources]
    assert [d.size for d in written] == [p.stat().st_size for p in sources]
    wrong = {"sha256": "0" * 64}
    with pytest.raises(IntegrityError):
        backend.write_files(
            [(f"deposit/k/{p.name}", p, wrong if i == 2 else None) for i, p in enumerate(sources)]
        )
    assert not [e for e in all_entries(backend.root) if e.startswith("deposit/k")]
