"""What a location holds, read back without a catalog (``StoredObjects``), and a dead job's copies
rolled back (``CopySet.roll_back``), on a local disk and on the S3 test server."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from repository.storage.copyset import CopySet, Unfinished
from repository.storage.errors import IntegrityError
from repository.storage.locations import Location
from repository.storage.ocfl_inventory import json_bytes, sidecar_bytes
from repository.storage.stored_objects import CopyMatch, StoredObjects
from tests.storage.test_copyset import (  # noqa: F401  (fixtures)
    AIP,
    Package,
    flip,
    key_of,
    object_key,
    publish,
    second_kind,
    two,
    unreachable,
    v1,
)


def test_an_object_is_read_back_verified(two: list[Location], v1: Package) -> None:  # noqa: F811
    publish(CopySet(AIP, two), v1)
    primary, second = (StoredObjects(loc) for loc in two)

    assert primary.ids() == [AIP]
    stored = primary.read(AIP)
    assert (stored.head, stored.location, [v.message for v in stored.versions]) == (1, "primary", ["v1"])
    files = stored.version(1).files
    assert {p: (f.size, f.sha256, f.sha512) for p, f in files.items()} == {
        p: (d.size, d.sha256, d.sha512) for p, d in v1.manifest.items()
    }
    assert primary.read_file(stored, 1, "METS.xml") == b"<mets/>"
    assert second.compare(stored).match is CopyMatch.SAME

    flip(two[0], key_of(two[0], "METS.xml"))
    with pytest.raises(IntegrityError) as info:
        primary.read_file(stored, 1, "METS.xml")
    assert (info.value.code, info.value.key) == ("ocfl.digest_mismatch", "METS.xml")


def test_an_inventory_without_our_fixity_is_invalid(two: list[Location], v1: Package) -> None:  # noqa: F811
    """Content without the sha256 fixity every inventory we write carries: the object is not ours."""
    publish(CopySet(AIP, two), v1)
    loc = two[0]
    with loc.backend.open_read(object_key(loc, "inventory.json")) as fh:
        inventory = json.load(fh)
    del inventory["fixity"]
    raw = json_bytes(inventory)
    loc.backend.write_atomic(object_key(loc, "inventory.json"), io.BytesIO(raw))
    sidecar = sidecar_bytes(hashlib.sha512(raw).hexdigest())
    loc.backend.write_atomic(object_key(loc, "inventory.json.sha512"), io.BytesIO(sidecar))

    with pytest.raises(IntegrityError) as info:
        StoredObjects(loc).read(AIP)
    assert info.value.code == "ocfl.inventory_invalid" and "no sha256 fixity" in str(info.value)
    other = StoredObjects(two[1]).read(AIP)
    assert StoredObjects(loc).compare(other).match is CopyMatch.DIFFERENT


def test_roll_back_removes_an_unregistered_object_everywhere(
    two: list[Location],  # noqa: F811
    v1: Package,  # noqa: F811
    home: Path,
) -> None:
    publish(CopySet(AIP, two), v1)
    away = unreachable(home)

    left = CopySet(AIP, [*two, away]).roll_back("job-1", Unfinished.OBJECT)

    assert left == ["away"]  # still to be rolled back there, by a later run
    assert [StoredObjects(loc).ids() for loc in two] == [[], []]
