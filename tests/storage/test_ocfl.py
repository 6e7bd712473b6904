"""AIPs as OCFL 1.1 objects: what we write must validate with ocfl-py (an independent
implementation), versions must deduplicate without touching earlier ones, damage must be found
with the right codes, crashes must leave something recoverable, and objects written by other
tools (the official OCFL fixtures) must be readable."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import ocfl
import pytest
from ocfl.layout_0003_hash_and_id_n_tuple import Layout_0003_Hash_And_Id_N_Tuple

from preservation.fixity import Digests, digest_file
from repository.storage.errors import IntegrityError, NotFound, StorageError
from repository.storage.local import LocalBackend
from repository.storage.ocfl import OcflStore, PutResult, object_path_0003

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "../shared/corpus/ocfl-fixtures/1.1"
OBJECT_ID = "urn:uuid:6f1c2a9e-3b7d-4c1e-9a55-0d2f4e8b7c61"
NFD_FILE = unicodedata.normalize("NFD", "Công văn số 45 về việc lưu trữ.txt")
CREATED = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "location", "primary", create=True)


@pytest.fixture
def store(backend: LocalBackend) -> OcflStore:
    s = OcflStore(backend)
    s.initialize()
    return s


@pytest.fixture
def aip(tmp_path: Path) -> Path:
    """An AIP-like folder: NFD Vietnamese name, a space, a sub-folder, a duplicate, an empty file."""
    folder = tmp_path / "aip"
    (folder / "representations" / "rep1" / "data").mkdir(parents=True)
    (folder / "METS.xml").write_bytes(b"<mets/>\n")
    (folder / "representations" / "rep1" / "data" / NFD_FILE).write_bytes("Nội dung".encode())
    (folder / "representations" / "rep1" / "data" / "phu luc 100%.txt").write_bytes(b"annex\n")
    (folder / "representations" / "rep1" / "data" / "copy.txt").write_bytes(b"annex\n")
    (folder / "empty.txt").write_bytes(b"")
    return folder


def put(store: OcflStore, source: Path, job: str, expected: Mapping[str, Digests] | None = None) -> PutResult:
    return store.put_version(
        OBJECT_ID,
        source,
        deposit_id=job,
        message=f"ingest {job}",
        user_name="Kho Lưu",
        user_address="mailto:kholuu@example.vn",
        created=CREATED,
        expected=expected,
    )


def validate(root: Path) -> bool:
    """ocfl-py's verdict on a storage root: valid and no error codes; warnings are printed."""
    storage_root = ocfl.StorageRoot(root=str(root / "ocfl-root"))
    valid = bool(storage_root.validate(log_warnings=True))
    messages = "\n".join(text for _dirpath, text in storage_root.errors)
    print(messages, storage_root.log)
    return valid and "][E" not in messages and storage_root.good_objects == storage_root.num_objects


def tree(folder: Path) -> dict[str, str]:
    """relative path -> sha512 of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): digest_file(p, ("sha512",)).sha512
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def object_dir(backend: LocalBackend, store: OcflStore) -> Path:
    return backend.root / "ocfl-root" / store.object_path(OBJECT_ID)


# -- storage root and layout ---------------------------------------------------------------


def test_initialize_is_idempotent_and_refuses_foreign_roots(backend: LocalBackend, tmp_path: Path) -> None:
    store = OcflStore(backend)
    store.initialize()
    store.initialize()
    root = backend.root / "ocfl-root"
    assert (root / "0=ocfl_1.1").read_bytes() == b"ocfl_1.1\n"
    layout = json.loads((root / "ocfl_layout.json").read_text())
    assert layout["extension"] == "0003-hash-and-id-n-tuple-storage-layout"
    assert validate(backend.root)

    other = LocalBackend(tmp_path / "other", "other", create=True)
    (other.root / "ocfl-root").mkdir()
    (other.root / "ocfl-root" / "notes.txt").write_text("not OCFL")
    with pytest.raises(StorageError) as caught:
        OcflStore(other).initialize()
    assert caught.value.code == "ocfl.root_not_ocfl"
    with pytest.raises(StorageError) as uninitialized:
        OcflStore(other).put_version(
            OBJECT_ID, tmp_path, deposit_id="j", message="m", user_name="u", user_address=""
        )
    assert uninitialized.value.code == "ocfl.not_initialized"


def test_a_root_with_another_layout_is_refused(store: OcflStore, backend: LocalBackend, aip: Path) -> None:
    config = (
        backend.root / "ocfl-root" / "extensions" / "0003-hash-and-id-n-tuple-storage-layout" / "config.json"
    )
    config.write_text(config.read_text().replace('"tupleSize": 3', '"tupleSize": 2'))
    with pytest.raises(StorageError) as caught:
        OcflStore(backend).initialize()
    assert caught.value.code == "ocfl.layout_unsupported"
    with pytest.raises(StorageError) as refused:
        put(OcflStore(backend), aip, "job-1")
    assert refused.value.code == "ocfl.layout_unsupported"


@pytest.mark.parametrize(
    "object_id",
    [
        OBJECT_ID,
        "ark:/12345/bcd987",
        "..hor/rib:le-$id",
        "hồ sơ 001 (bản số) 100%",
        "x" * 40 + ":" * 30,
        "a-b_c",
    ],
)
def test_object_path_follows_extension_0003_as_ocfl_py_does(store: OcflStore, object_id: str) -> None:
    assert store.object_path(object_id) == Layout_0003_Hash_And_Id_N_Tuple().identifier_to_path(object_id)


def test_object_path_spec_example() -> None:
    # https://ocfl.github.io/extensions/0003-hash-and-id-n-tuple-storage-layout.html, example 1
    assert object_path_0003("object-01") == "3c0/ff4/240/object-01"
    assert object_path_0003("..hor/rib:le-$id") == "487/326/d8c/%2e%2ehor%2frib%3ale-%24id"


# -- put, validate, update ------------------------------------------------------------------


def test_first_version_is_a_valid_ocfl_object(
    store: OcflStore, backend: LocalBackend, aip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[str] = []
    real = backend._rename

    def recording(src: Path, dst: Path, *, replace: bool) -> None:
        renames.append(dst.relative_to(backend.root).as_posix())
        real(src, dst, replace=replace)

    monkeypatch.setattr(backend, "_rename", recording)
    result = put(store, aip, "job-1")
    assert renames == [f"ocfl-root/{store.object_path(OBJECT_ID)}"]  # the object appears in one rename
    assert result.version == 1
    assert result.object_path == store.object_path(OBJECT_ID)
    logical = f"representations/rep1/data/{NFD_FILE}"
    assert set(result.state) == set(tree(aip))
    assert result.state[logical].sha256 == hashlib.sha256("Nội dung".encode()).hexdigest()
    assert validate(backend.root)

    obj = object_dir(backend, store)
    assert (obj / "0=ocfl_object_1.1").read_bytes() == b"ocfl_object_1.1\n"
    raw = (obj / "inventory.json").read_bytes()
    assert (
        obj / "inventory.json.sha512"
    ).read_bytes() == f"{hashlib.sha512(raw).hexdigest()} inventory.json\n".encode()
    assert (obj / "v1" / "inventory.json").read_bytes() == raw
    assert NFD_FILE.encode() in raw  # ensure_ascii=False: names as UTF-8, byte for byte
    inventory = store.inventory(OBJECT_ID)
    assert inventory["type"] == "https://ocfl.io/1.1/spec/#inventory"
    assert inventory["head"] == "v1" and inventory["contentDirectory"] == "content"
    assert inventory["versions"]["v1"]["created"] == "2025-03-14T09:26:53Z"
    assert os.fsencode(obj / "v1" / "content" / "representations" / "rep1" / "data" / NFD_FILE)
    assert (obj / "v1" / "content" / "representations" / "rep1" / "data" / NFD_FILE).is_file()
    # the two identical annex files are stored once
    assert len(inventory["manifest"]) == len(tree(aip)) - 1
    sha256 = inventory["fixity"]["sha256"]
    assert sorted(p for paths in sha256.values() for p in paths) == sorted(
        p for paths in inventory["manifest"].values() for p in paths
    )
    assert list(store.list_objects()) == [OBJECT_ID]
    assert store.exists(OBJECT_ID) and store.incomplete_objects() == []
    assert list(backend.iter_keys("deposit")) == []
    [info] = store.versions(OBJECT_ID)
    assert (info.number, info.user_name, info.created) == (1, "Kho Lưu", CREATED.replace(microsecond=0))


def test_second_version_deduplicates_and_leaves_v1_untouched(
    store: OcflStore, backend: LocalBackend, aip: Path, tmp_path: Path
) -> None:
    put(store, aip, "job-1")
    obj = object_dir(backend, store)
    v1_before = tree(obj / "v1")
    v1_state = dict(store.version_state(OBJECT_ID, 1))

    (aip / "METS.xml").write_bytes(b"<mets version='2'/>\n")  # changed
    (aip / "representations" / "rep1" / "data" / "phu luc 100%.txt").unlink()  # removed
    (aip / "metadata").mkdir()
    (aip / "metadata" / "premis.xml").write_bytes(b"<premis/>\n")  # added
    result = put(store, aip, "job-2")
    assert result.version == 2
    assert validate(backend.root)

    assert tree(obj / "v1") == v1_before  # byte-identical earlier version
    assert store.version_state(OBJECT_ID, 1) == v1_state
    assert sorted(tree(obj / "v2" / "content")) == ["METS.xml", "metadata/premis.xml"]  # only new bytes
    v2 = store.version_state(OBJECT_ID)
    assert v2[f"representations/rep1/data/{NFD_FILE}"] == v1_state[f"representations/rep1/data/{NFD_FILE}"]
    assert v2["METS.xml"] == "v2/content/METS.xml"
    assert "representations/rep1/data/phu luc 100%.txt" not in v2

    out1 = store.export_version(OBJECT_ID, tmp_path / "out1", version=1)
    out2 = store.export_version(OBJECT_ID, tmp_path / "out2", version=2)
    assert set(out1) == set(v1_state) and tree(tmp_path / "out1") == {k: d.sha512 for k, d in out1.items()}
    assert tree(tmp_path / "out2") == tree(aip)
    assert set(out2) == set(tree(aip))
    with store.open_file(OBJECT_ID, "METS.xml", version=1) as fh:
        assert fh.read() == b"<mets/>\n"
    with pytest.raises(NotFound) as caught:
        store.open_file(OBJECT_ID, "representations/rep1/data/phu luc 100%.txt")
    assert caught.value.code == "ocfl.no_such_path"
    with pytest.raises(NotFound) as no_version:
        store.version_state(OBJECT_ID, 3)
    assert no_version.value.code == "ocfl.no_such_version"


def test_expected_digests_guard_the_staging_folder(
    store: OcflStore, backend: LocalBackend, aip: Path
) -> None:
    expected = {path: digest_file(aip / path) for path in tree(aip)}
    put(store, aip, "job-1", expected=expected)

    (aip / "METS.xml").write_bytes(b"<mets changed/>\n")  # changed after the manifest was made
    with pytest.raises(IntegrityError) as caught:
        put(store, aip, "job-2", expected=expected)
    assert caught.value.code == "ocfl.source_mismatch" and caught.value.key == "METS.xml"

    del expected["empty.txt"]
    with pytest.raises(IntegrityError) as extra:
        OcflStore(backend).put_version(
            "urn:uuid:other",
            aip,
            deposit_id="job-3",
            message="m",
            user_name="u",
            user_address="",
            expected=expected,
        )
    assert extra.value.code == "ocfl.source_mismatch" and extra.value.key == "empty.txt"
    wrong = {p: Digests(d.size, {**d.values, "sha256": "0" * 64}) for p, d in expected.items()} | {
        "empty.txt": digest_file(aip / "empty.txt")
    }
    with pytest.raises(IntegrityError) as mismatch:
        OcflStore(backend).put_version(
            "urn:uuid:other",
            aip,
            deposit_id="job-3",
            message="m",
            user_name="u",
            user_address="",
            expected=wrong,
        )
    assert mismatch.value.code in {"ocfl.source_changed", "ocfl.source_mismatch"}
    assert mismatch.value.algorithm in {"size", "sha256"}
    assert store.inventory(OBJECT_ID)["head"] == "v1"
    assert not store.exists("urn:uuid:other") and store.incomplete_objects() == []
    assert list(backend.iter_keys("deposit")) == []
    assert validate(backend.root)


# -- verification -----------------------------------------------------------------------------


def test_verify_object_finds_damage_with_codes(store: OcflStore, backend: LocalBackend, aip: Path) -> None:
    put(store, aip, "job-1")
    assert store.verify_object(OBJECT_ID) == []
    obj = object_dir(backend, store)
    flipped = obj / "v1" / "content" / "METS.xml"
    data = bytearray(flipped.read_bytes())
    data[2] ^= 0x01
    flipped.write_bytes(bytes(data))
    (obj / "v1" / "content" / "empty.txt").unlink()
    (obj / "v1" / "content" / "stray.tmp").write_bytes(b"?")

    findings = {(f.code, f.where, f.params.get("algorithm")) for f in store.verify_object(OBJECT_ID)}
    assert findings == {
        ("ocfl.digest_mismatch", "v1/content/METS.xml", "sha512"),
        ("ocfl.digest_mismatch", "v1/content/METS.xml", "sha256"),
        ("ocfl.missing_file", "v1/content/empty.txt", None),
        ("ocfl.unexpected_file", "v1/content/stray.tmp", None),
    }
    assert not validate(backend.root)  # ocfl-py agrees the object is damaged
    with pytest.raises(IntegrityError) as caught:
        store.export_version(OBJECT_ID, obj.parent / "never")
    assert caught.value.code == "ocfl.digest_mismatch" and caught.value.key == "METS.xml"


def test_verify_object_checks_inventory_sidecars(store: OcflStore, backend: LocalBackend, aip: Path) -> None:
    put(store, aip, "job-1")
    obj = object_dir(backend, store)
    (obj / "inventory.json.sha512").write_text(f"{'0' * 128} inventory.json\n")
    codes = {(f.code, f.where) for f in store.verify_object(OBJECT_ID)}
    assert codes == {("ocfl.inventory_sidecar", "inventory.json.sha512")}
    with pytest.raises(IntegrityError) as caught:
        put(store, aip, "job-2")
    assert caught.value.code == "ocfl.inventory_sidecar"
    with pytest.raises(NotFound) as missing:
        store.verify_object("urn:uuid:none")
    assert missing.value.code == "ocfl.object_not_found"


# -- crashes ------------------------------------------------------------------------------------

CRASH_SCRIPT = """
import os, sys
from pathlib import Path
from repository.storage.local import LocalBackend
from repository.storage.ocfl import OcflStore

root, source, object_id, job, crash_before = sys.argv[1:]
backend = LocalBackend(Path(root), "primary")
store = OcflStore(backend)
target = backend.root / "ocfl-root" / store.object_path(object_id) / crash_before
backend._move_whole = lambda *args: False  # move key by key, as an object store must
real = backend._rename

def rename(src, dst, *, replace):
    if dst == target:
        os._exit(9)  # the process dies: no cleanup, no finally
    real(src, dst, replace=replace)

backend._rename = rename
store.put_version(
    object_id, Path(source), deposit_id=job, message="m", user_name="u", user_address="mailto:u@example.vn"
)
"""


def crash_during_put(backend: LocalBackend, source: Path, job: str, crash_before: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", CRASH_SCRIPT, str(backend.root), str(source), OBJECT_ID, job, crash_before]
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 9, done.stderr


def test_crash_before_the_root_inventory_leaves_a_recoverable_object(
    store: OcflStore, backend: LocalBackend, aip: Path
) -> None:
    crash_during_put(backend, aip, "job-1", "inventory.json")
    assert list(backend.iter_keys("deposit/job-1"))  # the deposit is left behind
    assert not store.exists(OBJECT_ID)
    assert store.incomplete_objects() == [store.object_path(OBJECT_ID)]
    assert list(store.list_objects()) == []
    assert not validate(backend.root)

    store.remove_object(OBJECT_ID)
    store.discard_deposit("job-1")
    assert store.incomplete_objects() == []
    assert list(backend.iter_keys("")) == sorted(backend.iter_keys("ocfl-root"))  # no deposit left
    assert validate(backend.root)
    put(store, aip, "job-2")  # and the ingest can simply run again
    assert validate(backend.root)


def test_empty_folders_left_by_a_crash_are_removed_with_the_object(
    store: OcflStore, backend: LocalBackend
) -> None:
    """A crash between creating the 0003 tuple folders and the rename leaves only empty folders."""
    (backend.root / "ocfl-root" / store.object_path(OBJECT_ID)).parent.mkdir(parents=True)
    assert not validate(backend.root)  # OCFL 1.1 E073: empty directory in the storage root
    assert store.incomplete_objects() == []  # no keys: nothing an object store would even show
    store.remove_object(OBJECT_ID)
    assert validate(backend.root)
    assert sorted(p.name for p in (backend.root / "ocfl-root").iterdir()) == [
        "0=ocfl_1.1", "extensions", "ocfl_layout.json",
    ]  # fmt: skip


def test_rerun_after_a_crash_replaces_the_half_object(
    store: OcflStore, backend: LocalBackend, aip: Path
) -> None:
    crash_during_put(backend, aip, "job-1", "inventory.json")
    result = put(store, aip, "job-1")  # same job resumed: stale deposit and half object are replaced
    assert result.version == 1
    assert store.incomplete_objects() == [] and validate(backend.root)


@pytest.mark.parametrize(
    ("crash_before", "head_after_recovery"),
    [("inventory.json", "v1"), ("inventory.json.sha512", "v2")],
)
def test_crash_during_an_update_is_recovered(
    store: OcflStore,
    backend: LocalBackend,
    aip: Path,
    tmp_path: Path,
    crash_before: str,
    head_after_recovery: str,
) -> None:
    put(store, aip, "job-1")
    (aip / "added.txt").write_bytes(b"new in v2")
    crash_during_put(backend, aip, "job-2", crash_before)
    assert not validate(backend.root)

    done = store.recover_object(OBJECT_ID)
    store.discard_deposit("job-2")
    assert done
    assert store.inventory(OBJECT_ID)["head"] == head_after_recovery
    assert store.verify_object(OBJECT_ID) == []
    assert validate(backend.root)
    assert store.recover_object(OBJECT_ID) == []
    exported = store.export_version(OBJECT_ID, tmp_path / "out")
    assert ("added.txt" in exported) == (head_after_recovery == "v2")


# -- objects written by other tools --------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    [
        "spec-ex-full",
        "updates_three_versions_one_file",
        "minimal_one_version_one_file",
        "minimal_uppercase_digests",
        "ocfl_object_all_fixity_digests",
    ],
)
def test_reads_official_fixture_objects(fixture: str, tmp_path: Path) -> None:
    """Each fixture is linked (not copied) into a storage root at the path 0003 gives its id."""
    source = (FIXTURES / "good-objects" / fixture).resolve()
    object_id = json.loads((source / "inventory.json").read_text(encoding="utf-8"))["id"]
    backend = LocalBackend(tmp_path / "location", "fixtures", create=True)
    store = OcflStore(backend)
    store.initialize()
    link = backend.root / "ocfl-root" / store.object_path(object_id)
    link.parent.mkdir(parents=True)
    link.symlink_to(source, target_is_directory=True)

    inventory = store.inventory(object_id)
    assert inventory["id"] == object_id and inventory["digestAlgorithm"] == "sha512"
    assert store.verify_object(object_id) == []
    for info in store.versions(object_id):
        out = tmp_path / f"v{info.number}"
        digests = store.export_version(object_id, out, version=info.number)
        assert tree(out) == {path: d.sha512 for path, d in digests.items()}
        assert set(digests) == set(store.version_state(object_id, info.number))
        expected_content = FIXTURES / "content" / fixture / f"v{info.number}"
        if expected_content.is_dir():
            assert tree(out) == tree(expected_content)
