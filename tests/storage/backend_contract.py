"""The behaviour every storage backend must show, as a reusable test suite.

A backend's test module subclasses :class:`BackendContract` and provides two fixtures:

* ``backend``: an empty backend of that kind (local folder, S3 bucket prefix, ...);
* ``record_moves``: a list the backend appends to, in order, the destination key (or key folder)
  of every step ``move_prefix`` takes, so the suite can check that the ``last`` keys (the OCFL
  root inventory) are moved after everything else. Local disk records its renames; S3 will record
  its copies.

The keys used are what archives really contain: NFD Vietnamese, spaces and ``%``.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from typing import Any

import pytest

from repository.storage.backend import Backend
from repository.storage.errors import IntegrityError, NotFound, StorageError

NFD_NAME = unicodedata.normalize("NFD", "Tờ trình số 12 về việc lưu trữ 100%.pdf")
KEYS = [
    f"hồ sơ/{NFD_NAME}",
    "a b/c%20d/e f.txt",
    "top.bin",
]
UNSAFE_KEYS = ["", "/etc/passwd", "a/../b", "..", "a//b", "a/./b", "a/", "nul\x00byte", "bad\udc80name"]


class FailingSource(io.RawIOBase):
    """A source stream that breaks after ``fail_after`` bytes, like a dropped network upload."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self._data = data
        self._fail_after = fail_after
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._pos >= self._fail_after:
            raise OSError("source broke mid-stream")
        end = min(self._fail_after, self._pos + (size if size >= 0 else len(self._data)))
        block = self._data[self._pos : end]
        self._pos = end
        return block


def payload(size: int, seed: int = 1) -> bytes:
    """Deterministic bytes of any size (several 1 MiB blocks for big sizes)."""
    block = hashlib.sha512(str(seed).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def put(backend: Backend, key: str, data: bytes, **kwargs: Any) -> Any:
    return backend.write_atomic(key, io.BytesIO(data), **kwargs)


def read(backend: Backend, key: str) -> bytes:
    with backend.open_read(key) as fh:
        return fh.read()


class BackendContract:
    """Subclass in a ``test_*.py`` module and provide the ``backend`` and ``record_moves`` fixtures."""

    # -- write / read ----------------------------------------------------------------------

    def test_round_trip_keeps_names_byte_for_byte(self, backend: Backend) -> None:
        data = {key: payload(1000 + i, seed=i) for i, key in enumerate(KEYS)}
        data["big/file.bin"] = payload(2 * 1024 * 1024 + 17)  # several blocks
        for key, content in data.items():
            digests = put(backend, key, content)
            assert digests.size == len(content)
            assert digests["sha256"] == hashlib.sha256(content).hexdigest()
            assert digests["sha512"] == hashlib.sha512(content).hexdigest()
            assert digests["md5"] == hashlib.md5(content).hexdigest()
        for key, content in data.items():
            assert read(backend, key) == content
            stat = backend.stat(key)
            assert stat is not None and stat.key == key and stat.size == len(content)
        assert list(backend.iter_keys("")) == sorted(data)
        nfc = f"hồ sơ/{unicodedata.normalize('NFC', NFD_NAME)}"
        assert nfc != KEYS[0]
        assert backend.stat(nfc) is None  # no normalisation: the NFC spelling is another key
        with pytest.raises(NotFound):
            backend.open_read(nfc)

    def test_write_replaces_an_existing_key(self, backend: Backend) -> None:
        put(backend, "x/inventory.json", b"old")
        put(backend, "x/inventory.json", b"new")
        assert read(backend, "x/inventory.json") == b"new"
        assert list(backend.iter_keys("x")) == ["x/inventory.json"]

    def test_missing_key(self, backend: Backend) -> None:
        assert backend.stat("no/such key") is None
        with pytest.raises(NotFound) as caught:
            backend.open_read("no/such key")
        assert caught.value.code == "storage.not_found"
        assert caught.value.key == "no/such key"
        assert caught.value.location == backend.name

    def test_source_failing_mid_stream_leaves_nothing(self, backend: Backend) -> None:
        put(backend, "keep/me.txt", b"untouched")
        content = payload(3 * 1024 * 1024)
        for key in ("new/partial.bin", "keep/me.txt"):
            with pytest.raises(OSError, match="source broke mid-stream"):
                backend.write_atomic(key, FailingSource(content, fail_after=1024 * 1024 + 5))  # type: ignore[arg-type]
        assert backend.stat("new/partial.bin") is None
        assert read(backend, "keep/me.txt") == b"untouched"
        assert list(backend.iter_keys("")) == ["keep/me.txt"]  # no temporary file left anywhere

    def test_expected_digest_mismatch_is_refused(self, backend: Backend) -> None:
        content = b"B\xe1o c\xe1o"
        wrong = hashlib.sha256(b"something else").hexdigest()
        with pytest.raises(IntegrityError) as caught:
            put(backend, "report.txt", content, expected={"sha256": wrong})
        assert caught.value.code == "storage.digest_mismatch"
        assert caught.value.algorithm == "sha256"
        assert caught.value.expected == wrong
        assert caught.value.found == hashlib.sha256(content).hexdigest()
        assert caught.value.key == "report.txt"
        assert list(backend.iter_keys("")) == []

    def test_expected_digests_that_match_are_accepted(self, backend: Backend) -> None:
        content = b"ok"
        expected = {
            "sha512": hashlib.sha512(content).hexdigest().upper(),  # hex case does not matter
            "sha1": hashlib.sha1(content).hexdigest(),  # not computed by default: added
        }
        digests = put(backend, "ok.txt", content, expected=expected)
        assert digests["sha1"] == expected["sha1"]
        assert read(backend, "ok.txt") == content

    # -- listing ---------------------------------------------------------------------------

    def test_iter_keys_is_sorted_recursive_and_by_folder(self, backend: Backend) -> None:
        keys = ["a-b", "a.txt", "a/b", "a/c/d", "a0", "ab/x", "B", "b/c/d/e"]
        for key in reversed(keys):
            put(backend, key, key.encode())
        assert list(backend.iter_keys("")) == sorted(keys)
        assert list(backend.iter_keys("a")) == ["a/b", "a/c/d"]  # a folder, not a string prefix
        assert list(backend.iter_keys("a/")) == ["a/b", "a/c/d"]
        assert list(backend.iter_keys("nothing")) == []
        assert list(backend.iter_keys("a.txt")) == []  # a key is not a folder

    # -- delete ----------------------------------------------------------------------------

    def test_delete(self, backend: Backend) -> None:
        put(backend, "d/one", b"1")
        put(backend, "d/two", b"2")
        backend.delete("d/one")
        backend.delete("d/one")  # missing is fine
        backend.delete("never/existed")
        assert list(backend.iter_keys("")) == ["d/two"]

    def test_delete_prefix(self, backend: Backend) -> None:
        for key in ("job/1/a", "job/1/b/c", "job/10/a", "job/1.txt"):
            put(backend, key, b"x")
        assert backend.delete_prefix("job/1") == 2
        assert list(backend.iter_keys("")) == ["job/1.txt", "job/10/a"]
        assert backend.delete_prefix("job/1") == 0
        with pytest.raises(StorageError) as caught:
            backend.delete_prefix("")
        assert caught.value.code == "storage.unsafe_key"
        assert list(backend.iter_keys("")) == ["job/1.txt", "job/10/a"]

    # -- move ------------------------------------------------------------------------------

    def test_move_prefix_to_a_new_folder(self, backend: Backend) -> None:
        content = {f"deposit/j1/{k}": payload(100, seed=i) for i, k in enumerate(KEYS)}
        for key, data in content.items():
            put(backend, key, data)
        backend.move_prefix("deposit/j1", "root/obj")
        assert list(backend.iter_keys("deposit")) == []
        moved = {k.replace("deposit/j1/", "root/obj/", 1): v for k, v in content.items()}
        assert list(backend.iter_keys("root")) == sorted(moved)
        for key, data in moved.items():
            assert read(backend, key) == data

    def test_move_prefix_moves_last_keys_last_and_lets_them_replace(
        self, backend: Backend, record_moves: list[str]
    ) -> None:
        put(backend, "root/obj/inventory.json", b"v1 inventory")
        put(backend, "root/obj/inventory.json.sha512", b"v1 sidecar")
        put(backend, "root/obj/v1/content/a.txt", b"a")
        put(backend, "dep/inventory.json", b"v2 inventory")
        put(backend, "dep/inventory.json.sha512", b"v2 sidecar")
        put(backend, "dep/v2/content/b.txt", b"b")
        put(backend, "dep/v2/inventory.json", b"v2 inventory")
        put(backend, "dep/v2/inventory.json.sha512", b"v2 sidecar")
        backend.move_prefix("dep", "root/obj", last=["inventory.json", "inventory.json.sha512"])
        assert record_moves[-2:] == ["root/obj/inventory.json", "root/obj/inventory.json.sha512"]
        assert all(step.startswith("root/obj/v2") for step in record_moves[:-2])
        assert record_moves[:-2]
        assert read(backend, "root/obj/inventory.json") == b"v2 inventory"
        assert read(backend, "root/obj/v1/content/a.txt") == b"a"
        assert read(backend, "root/obj/v2/content/b.txt") == b"b"
        assert list(backend.iter_keys("dep")) == []

    def test_move_prefix_never_overwrites_other_keys(self, backend: Backend) -> None:
        put(backend, "root/obj/v2/content/b.txt", b"published")
        put(backend, "dep/v2/content/b.txt", b"other")
        put(backend, "dep/v2/content/c.txt", b"c")
        put(backend, "dep/inventory.json", b"inv")
        with pytest.raises(StorageError) as caught:
            backend.move_prefix("dep", "root/obj", last=["inventory.json"])
        assert caught.value.code == "storage.exists"
        assert caught.value.key == "root/obj/v2/content/b.txt"
        assert read(backend, "root/obj/v2/content/b.txt") == b"published"
        assert list(backend.iter_keys("dep")) == [
            "dep/inventory.json",
            "dep/v2/content/b.txt",
            "dep/v2/content/c.txt",
        ]
        assert list(backend.iter_keys("root")) == ["root/obj/v2/content/b.txt"]  # nothing moved

    def test_move_prefix_needs_its_source(self, backend: Backend) -> None:
        with pytest.raises(NotFound):
            backend.move_prefix("dep/none", "root/x")
        put(backend, "dep/a", b"a")
        with pytest.raises(NotFound):
            backend.move_prefix("dep", "root/x", last=["inventory.json"])
        assert list(backend.iter_keys("")) == ["dep/a"]
        with pytest.raises(StorageError) as caught:
            backend.move_prefix("dep", "dep/inner")
        assert caught.value.code == "storage.overlap"

    # -- keys ------------------------------------------------------------------------------

    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    def test_unsafe_keys_are_refused(self, backend: Backend, key: str) -> None:
        calls = [
            lambda: put(backend, key, b"x"),
            lambda: backend.open_read(key),
            lambda: backend.stat(key),
            lambda: backend.delete(key),
        ]
        for call in calls:
            with pytest.raises(StorageError) as caught:
                call()
            assert caught.value.code == "storage.unsafe_key", key
        assert list(backend.iter_keys("")) == []

    def test_server_checksum_is_absent_or_labelled(self, backend: Backend) -> None:
        put(backend, "c.txt", b"c")
        value = backend.server_checksum("c.txt")
        assert value is None or (":" in value and value.split(":", 1)[1])
