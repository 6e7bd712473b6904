"""CopySet on real storage: two locations, 'primary' on a local disk and 'second' on a local disk or
the real S3 server. Publishing under the one failure policy (all good; a location down → queued;
damage on read-back → the version withdrawn everywhere), reading a verified copy (a damaged first
copy → the next one), checking a copy (each kind of damage is ``failed``, only an unreachable
location is ``could not check``), repairing from a named good copy, and the AIP status rule."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from preservation.events import Agent
from preservation.findings import CheckOutcome, DamageKind, RepairOutcome
from preservation.fixity import Digests, digest_file
from repository.catalog.models import AipStatus, CopyStatus
from repository.settings import Settings, load_settings
from repository.storage.backend import join_key
from repository.storage.copyset import CopySet, NewVersion, NoGoodCopy, Recorded, aip_status
from repository.storage.errors import BackendUnavailable, IntegrityError, StorageError
from repository.storage.locations import Location, open_locations
from repository.storage.ocfl import ROOT_PREFIX
from tests import s3 as s3test
from tests.conftest import write_home_config

AIP = "uuid-0b6e5a0c-3f57-4a55-9d1e-5cb0c1f1e001"
AGENT = Agent(name="Kho Lưu", version="test", note="copyset test agent")
LOCAL = '[[storage.locations]]\nname = "{name}"\nrole = "{role}"\nbackend = "local"\npath = "{path}"\n'


@pytest.fixture(params=["local", "s3"])
def second_kind(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    """'second' as a local disk or an S3 bucket (deleted afterwards)."""
    if request.param == "local":
        yield request.param, None
        return
    bucket = f"t-{os.urandom(8).hex()}"
    yield request.param, bucket
    s3test.empty_and_delete(s3test.client(), bucket)


def load(home: Path, *entries: str) -> Settings:
    write_home_config(home, "\n".join(entries))
    return load_settings(home, environ={}, overrides={"catalog": {"url": f"sqlite:///{home}/c.db"}})


@pytest.fixture
def two(home: Path, second_kind: tuple[str, str | None]) -> list[Location]:
    _kind, bucket = second_kind
    second = (
        LOCAL.format(name="second", role="replica", path="storage/second")
        if bucket is None
        else s3test.location_toml("second", bucket)
    )
    settings = load(home, LOCAL.format(name="primary", role="primary", path="storage/primary"), second)
    return open_locations(settings, initialize=True)


@dataclass
class Package:
    folder: Path
    manifest: dict[str, Digests]

    def recorded(self, version: int = 1) -> list[Recorded]:
        return [Recorded(version, p, d.sha256, d.sha512, d.size) for p, d in self.manifest.items()]

    def sha256(self) -> dict[str, str]:
        return {p: d.sha256 for p, d in self.manifest.items()}


def package(folder: Path, files: dict[str, bytes]) -> Package:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return Package(folder, {name: digest_file(folder / name) for name in files})


@pytest.fixture
def v1(tmp_path: Path) -> Package:
    return package(
        tmp_path / "v1",
        {"METS.xml": b"<mets/>", "representations/rep1/data/Quyết định.txt": "nội dung".encode()},
    )


def publish(copies: CopySet, pkg: Package, version: int = 1) -> Any:
    new = NewVersion(
        pkg.folder,
        version,
        pkg.manifest,
        deposit_id=f"job-{version}",
        message=f"v{version}",
        user_name="Kho Lưu test",
        user_address="mailto:test@example.org",
    )
    return copies.publish(new, agent=AGENT)


def key_of(loc: Location, logical: str) -> str:
    content = loc.store.version_state(AIP, 1)[logical]
    return join_key(ROOT_PREFIX, loc.store.object_path(AIP), content)


def object_key(loc: Location, relative: str = "") -> str:
    return join_key(ROOT_PREFIX, loc.store.object_path(AIP), *([relative] if relative else []))


def flip(loc: Location, key: str) -> None:
    with loc.backend.open_read(key) as fh:
        data = bytearray(fh.read())
    data[len(data) // 2] ^= 0x01
    loc.backend.write_atomic(key, io.BytesIO(bytes(data)))


def unreachable(home: Path) -> Location:
    """A location that cannot be reached: a disk that is not mounted."""
    settings = load(home, LOCAL.format(name="away", role="replica", path=str(home / "not-mounted" / "x")))
    return open_locations(settings)[0]


# ------------------------------------------------------------------------------------- publish


def test_publish_writes_and_verifies_every_copy(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    done = publish(copies, v1)
    assert [(c.location, c.status) for c in done.copies] == [
        ("primary", CopyStatus.STORED),
        ("second", CopyStatus.STORED),
    ]
    assert [e.outcome for e in done.events] == ["success", "success"]
    assert all(e.agents == (AGENT,) for e in done.events)  # the caller's agent, not a fixed one
    assert two[0].store.inventory(AIP) == two[1].store.inventory(AIP)  # one version time everywhere


def test_publish_queues_the_copy_of_a_location_that_is_down(
    two: list[Location], v1: Package, home: Path
) -> None:
    copies = CopySet(AIP, [two[0], unreachable(home), two[1]])
    done = publish(copies, v1)
    assert [(c.location, c.status) for c in done.copies] == [
        ("primary", CopyStatus.STORED),
        ("away", CopyStatus.PENDING),
        ("second", CopyStatus.STORED),
    ]
    assert done.pending.keys() == {"away"} and [e.outcome for e in done.events] == [
        "success",
        "failure",
        "success",
    ]


def test_publish_with_no_location_reachable_fails(v1: Package, home: Path) -> None:
    with pytest.raises(BackendUnavailable) as caught:
        publish(CopySet(AIP, [unreachable(home)]), v1)
    assert caught.value.code == "storage.no_location"


def test_damage_on_read_back_withdraws_the_version_everywhere(
    two: list[Location], v1: Package, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second location finds damage on read-back of v2: v2 leaves both locations, v1 stays."""
    copies = CopySet(AIP, two)
    publish(copies, v1)
    before = two[0].store.inventory(AIP)
    v2 = package(
        tmp_path / "v2", {**{p: (v1.folder / p).read_bytes() for p in v1.manifest}, "new.txt": b"v2"}
    )
    real = two[1].store.put_version

    def damaged_on_read_back(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise IntegrityError("read back differs", code="storage.readback_mismatch", location="second")

    monkeypatch.setattr(two[1].store, "put_version", damaged_on_read_back)
    with pytest.raises(IntegrityError):
        publish(copies, v2, version=2)
    for loc in two:
        assert [v.number for v in loc.store.versions(AIP)] == [1]
        assert loc.store.inventory(AIP) == before
        assert copies.check(loc.name, v1.recorded(), version=1).outcome is CheckOutcome.PASSED


def test_a_failed_first_version_leaves_no_object(
    two: list[Location], v1: Package, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise StorageError("access denied", code="storage.access_denied", location="second")

    monkeypatch.setattr(two[1].store, "put_version", refused)
    with pytest.raises(StorageError):
        publish(CopySet(AIP, two), v1)
    assert not two[0].store.exists(AIP) and not two[1].store.exists(AIP)


# ---------------------------------------------------------------------------------------- read


def test_read_verified_skips_a_damaged_copy(two: list[Location], v1: Package, tmp_path: Path) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    flip(two[0], key_of(two[0], "representations/rep1/data/Quyết định.txt"))
    out = tmp_path / "out"
    name, digests = copies.read_verified(out, version=1, expected=v1.sha256(), holders=["primary", "second"])
    assert name == "second"
    assert {p: d.sha256 for p, d in digests.items()} == v1.sha256()
    assert (out / "representations/rep1/data/Quyết định.txt").read_bytes() == "nội dung".encode()


def test_read_verified_refuses_a_copy_the_catalog_does_not_describe(
    two: list[Location], v1: Package, tmp_path: Path
) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    wrong = {**v1.sha256(), "METS.xml": "0" * 64}  # intact in storage, but not what was recorded
    with pytest.raises(NoGoodCopy) as caught:
        copies.read_verified(tmp_path / "out", version=1, expected=wrong, holders=["primary", "second"])
    assert "METS.xml" in str(caught.value) and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------- check


def kinds(check: Any) -> set[tuple[str, str, str]]:
    return {(str(f.kind), f.code, f.where) for f in check.findings}


def test_check_passes_a_good_copy(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    for loc in two:
        assert copies.check(loc.name, v1.recorded(), version=1).outcome is CheckOutcome.PASSED


def test_check_finds_each_kind_of_damage(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    second = two[1]
    data = "representations/rep1/data/Quyết định.txt"
    changed, missing = key_of(second, data), key_of(second, "METS.xml")
    flip(second, changed)
    second.backend.delete(missing)
    second.backend.write_atomic(object_key(second, "stray.txt"), io.BytesIO(b"not ours"))
    check = copies.check("second", v1.recorded(), version=1)
    assert check.outcome is CheckOutcome.FAILED
    relative = len(object_key(second)) + 1
    assert kinds(check) == {
        ("corrupt", "ocfl.digest_mismatch", changed[relative:]),
        ("missing", "ocfl.missing_file", missing[relative:]),
        ("unexpected", "ocfl.unexpected_file", "stray.txt"),
    }
    assert copies.check("primary", v1.recorded(), version=1).outcome is CheckOutcome.PASSED


def test_check_reports_a_missing_inventory_as_failed(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    two[1].backend.delete(object_key(two[1], "inventory.json"))
    check = copies.check("second", v1.recorded(), version=1)
    assert check.outcome is CheckOutcome.FAILED
    assert kinds(check) == {("missing", "ocfl.missing_file", "inventory.json")}


def test_check_reports_a_deleted_object_as_failed(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    two[1].store.remove_object(AIP)
    check = copies.check("second", v1.recorded(), version=1)
    assert check.outcome is CheckOutcome.FAILED
    assert kinds(check) == {("missing", "ocfl.object_not_found", "")}


def test_check_finds_the_catalog_and_the_copy_disagree(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    recorded = [
        r if r.path != "METS.xml" else Recorded(1, r.path, r.sha256, "f" * 128, r.size) for r in v1.recorded()
    ]
    check = copies.check("primary", recorded, version=1)
    assert check.outcome is CheckOutcome.FAILED
    assert kinds(check) == {("manifest", "catalog.digest_differs", "METS.xml")}


def test_an_unreachable_location_is_could_not_check(v1: Package, home: Path, two: list[Location]) -> None:
    copies = CopySet(AIP, [two[0], unreachable(home)])
    publish(copies, v1)
    check = copies.check("away", v1.recorded(), version=1)
    assert check.outcome is CheckOutcome.COULD_NOT_CHECK
    assert [f.kind for f in check.findings] == [DamageKind.UNAVAILABLE]


# -------------------------------------------------------------------------------------- repair


def test_repair_from_a_named_good_copy(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    second = two[1]
    flip(second, key_of(second, "representations/rep1/data/Quyết định.txt"))
    second.backend.write_atomic(object_key(second, "stray.txt"), io.BytesIO(b"someone's work"))
    check = copies.check("second", v1.recorded(), version=1)
    outcomes = {
        str(f.kind): copies.repair(
            "second", f, sources=[two[0]], recorded=v1.recorded(), run_id="run-1", agent=AGENT
        )
        for f in check.findings
    }
    assert outcomes["corrupt"][:2] == (RepairOutcome.REPAIRED, "primary")
    assert outcomes["unexpected"][:2] == (RepairOutcome.MOVED_ASIDE, None)
    assert all(event is not None and event.agents == (AGENT,) for _, _, event in outcomes.values())
    assert copies.check("second", v1.recorded(), version=1).outcome is CheckOutcome.PASSED
    lost = [k for k in second.backend.iter_keys("lost-and-found") if k.endswith("stray.txt")]
    with second.backend.open_read(lost[0]) as fh:
        assert fh.read() == b"someone's work"  # moved aside, never deleted


def test_a_deleted_object_is_copied_again_and_no_good_copy_is_said(two: list[Location], v1: Package) -> None:
    copies = CopySet(AIP, two)
    publish(copies, v1)
    two[1].store.remove_object(AIP)
    (gone,) = copies.check("second", v1.recorded(), version=1).findings
    damaged_source = [Recorded(1, r.path, r.sha256, "0" * 128, r.size) for r in v1.recorded()]
    assert (
        copies.repair("second", gone, sources=[two[0]], recorded=damaged_source, run_id="r", agent=AGENT)[0]
        is RepairOutcome.NO_GOOD_COPY
    )  # the only source disagrees with the catalog: never copied from
    outcome, source, _ = copies.repair(
        "second", gone, sources=[two[0]], recorded=v1.recorded(), run_id="r", agent=AGENT
    )
    assert (outcome, source) == (RepairOutcome.REPAIRED, "primary")
    assert copies.check("second", v1.recorded(), version=1).outcome is CheckOutcome.PASSED


# -------------------------------------------------------------------------------- status rule


@dataclass
class Row:
    location: str
    version: int
    status: CopyStatus
    check_outcome: str | None = None


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([Row("a", 1, CopyStatus.STORED), Row("b", 1, CopyStatus.STORED)], AipStatus.STORED),
        ([Row("a", 1, CopyStatus.STORED), Row("b", 1, CopyStatus.PENDING)], AipStatus.DEGRADED),
        ([Row("a", 1, CopyStatus.STORED), Row("b", 1, CopyStatus.FAILED)], AipStatus.DEGRADED),
        ([Row("a", 1, CopyStatus.STORED)], AipStatus.DEGRADED),  # no copy at all in a required location
        ([Row("a", 2, CopyStatus.STORED), Row("b", 1, CopyStatus.STORED)], AipStatus.DEGRADED),  # b behind
        ([Row("a", 1, CopyStatus.STORED), Row("b", 1, CopyStatus.STORED, "failed")], AipStatus.DEGRADED),
        ([Row("a", 1, CopyStatus.STORED), Row("b", 1, CopyStatus.STORED, "repaired")], AipStatus.STORED),
        (
            [Row("a", 1, CopyStatus.STORED), Row("b", 1, CopyStatus.STORED), Row("c", 1, CopyStatus.PENDING)],
            AipStatus.STORED,  # c is not required
        ),
        (
            [
                Row("a", 1, CopyStatus.STORED),
                Row("b", 1, CopyStatus.STORED),
                Row("c", 1, CopyStatus.STORED, "failed"),
            ],
            AipStatus.DEGRADED,  # damage anywhere is degradation until repaired
        ),
    ],
)
def test_the_aip_status_rule(rows: list[Row], expected: AipStatus) -> None:
    current = max(r.version for r in rows)
    assert aip_status(rows, {"a", "b"}, current) is expected


def test_what_could_not_be_withdrawn_is_logged_not_swallowed(
    two: list[Location], v1: Package, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The clean-up after a failed registration: a location refusing the removal is named in a
    structured log record and in the answer; the other location is cleaned all the same."""
    copies = CopySet(AIP, two)
    publish(copies, v1)

    def refused(*args: Any, **kwargs: Any) -> None:
        raise StorageError("delete refused", code="storage.delete_failed", location="primary")

    monkeypatch.setattr(two[0].store, "withdraw_version", refused)
    with caplog.at_level("ERROR", logger="kholuu.storage.copies"):
        left = copies.withdraw(1, deposit_id="job-1")
    assert left == ["primary: delete refused (primary)"]
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.__dict__["kholuu"] == {
        "event": "storage_cleanup",
        "action": "withdraw",
        "aip_id": AIP,
        "version": 1,
        "location": "primary",
        "code": "storage.delete_failed",
        "message": "delete refused (primary)",
    }
    assert two[0].store.exists(AIP) and not two[1].store.exists(AIP)
