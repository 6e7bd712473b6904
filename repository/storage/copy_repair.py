"""Repair one finding of a stored copy from another location's good copy (used by :class:`CopySet`).

A damaged or missing key is rewritten from a location whose copy agrees with the catalog,
streamed and checked against the expected digest before it becomes visible
(``write_atomic(expected=...)``). A whole missing object is copied again as a replica. A file not
in the inventory is moved aside to ``lost-and-found/`` outside the OCFL root (never deleted: it
may be someone's lost work). A contradiction between records is left for a person.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from preservation.events import Agent, Event, EventType, Outcome
from preservation.findings import DamageKind, Finding, RepairOutcome
from repository.storage.backend import digest_key, join_key
from repository.storage.copy_check import Recorded
from repository.storage.errors import BackendUnavailable, IntegrityError, StorageError
from repository.storage.locations import Location
from repository.storage.ocfl import ROOT_PREFIX
from repository.storage.ocfl_inventory import INVENTORY, OBJECT_DECLARATION, SIDECAR, read_json, read_sidecar

log = logging.getLogger("kholuu.storage.repair")

LOST_AND_FOUND = "lost-and-found"
"""Key folder (outside the OCFL root) where files found inside an object but not in its inventory
are moved, per run, so that the object is valid again and nothing is thrown away."""


def repair_finding(
    location: Location,
    sources: Sequence[Location],
    aip_id: str,
    finding: Finding,
    recorded: Sequence[Recorded],
    *,
    run_id: str,
    agent: Agent,
) -> tuple[RepairOutcome, str | None, Event | None]:
    """(what was done, the good copy's location, the PREMIS ``recovery`` event) for one finding.

    Raises:
        BackendUnavailable: the location being repaired went away (a source going away is only a
            reason to try the next source).
    """
    if not location.config.repair:
        return RepairOutcome.REPAIR_OFF, None, None
    if finding.kind is DamageKind.UNEXPECTED:
        return _move_aside(location, aip_id, finding.where, run_id=run_id, agent=agent)
    if finding.kind is not DamageKind.CORRUPT and finding.kind is not DamageKind.MISSING:
        return RepairOutcome.NONE, None, None  # a contradiction between records: a person must look
    for source in sources:
        try:
            if not _rewrite_from(source, location, aip_id, finding.where, recorded, run_id=run_id):
                continue
        except StorageError as exc:  # the source is down or damaged too: try the next
            if isinstance(exc, BackendUnavailable) and exc.location == location.name:
                raise  # not the source: the location being repaired is gone
            log.info("repair of %s %s from %s failed: %s", aip_id, finding.where, source.name, exc)
            continue
        return RepairOutcome.REPAIRED, source.name, _replaced_event(location, source, aip_id, finding, agent)
    return RepairOutcome.NO_GOOD_COPY, None, None


def _move_aside(
    location: Location, aip_id: str, path: str, *, run_id: str, agent: Agent
) -> tuple[RepairOutcome, str | None, Event | None]:
    """Move a file the inventory does not list out of the object, to this run's lost-and-found."""
    object_key = join_key(ROOT_PREFIX, location.store.object_path(aip_id))
    aside = join_key(LOST_AND_FOUND, run_id, location.store.object_path(aip_id), path)
    try:
        with location.backend.open_read(join_key(object_key, path)) as fh:
            location.backend.write_atomic(aside, fh)
        location.backend.delete(join_key(object_key, path))
    except StorageError as exc:
        log.warning(
            "could not move aside %s of %s at %s: %s",
            path,
            aip_id,
            location.name,
            exc,
            extra={"kholuu": {"event": "repair", "aip_id": aip_id, "location": location.name, "path": path}},
        )
        return RepairOutcome.NONE, None, None
    event = Event(
        type=EventType.RECOVERY,
        outcome=Outcome.SUCCESS,
        detail=f"File {path!r}, not in the OCFL inventory of the copy in {location.name!r}, moved out of "
        f"the object to {aside}",
        detail_code="repair.moved_aside",
        detail_params={"path": path, "location": location.name, "aside": aside},
        agents=(agent,),
        objects=(aip_id,),
    )
    return RepairOutcome.MOVED_ASIDE, None, event


def _rewrite_from(
    source: Location,
    location: Location,
    aip_id: str,
    path: str,
    recorded: Sequence[Recorded],
    *,
    run_id: str,
) -> bool:
    """Rewrite ``path`` (``""``: the whole object) in ``location`` from ``source``; False when
    ``source`` is no good copy to repair it from (it disagrees with the catalog, or lacks the file).

    Raises:
        StorageError: reading ``source`` or writing ``location`` failed (a digest included).
    """
    if not agrees_with_catalog(source, aip_id, recorded):
        return False
    if path == "":
        location.store.replicate_from(source.store, aip_id, deposit_id=f"repair-{run_id}")
        return True
    keys = _keys_to_rewrite(source, aip_id, path)
    object_key = join_key(ROOT_PREFIX, location.store.object_path(aip_id))
    for key, wanted in keys:
        source_key = join_key(ROOT_PREFIX, source.store.object_path(aip_id), key)
        with source.backend.open_read(source_key) as fh:
            location.backend.write_atomic(join_key(object_key, key), fh, expected={"sha512": wanted})
    return bool(keys)


def _replaced_event(
    location: Location, source: Location, aip_id: str, finding: Finding, agent: Agent
) -> Event:
    path = finding.where
    kind = str(finding.kind).capitalize()
    return Event(
        type=EventType.RECOVERY,
        outcome=Outcome.SUCCESS,
        detail=f"{kind} file {path!r} of the copy in {location.name!r} replaced "
        f"from {source.name!r}; the bytes matched the recorded SHA-512 before and after the write",
        outcome_detail=finding.message,
        agents=(agent,),
        objects=(aip_id,),
        detail_code=f"repair.replaced_{finding.kind}",
        detail_params={"path": path, "location": location.name, "source": source.name},
    )


def agrees_with_catalog(source: Location, aip_id: str, recorded: Sequence[Recorded]) -> bool:
    """A source is good when its inventory is intact (sidecar) and holds every file recorded at
    ingest with its recorded SHA-512; its bytes are checked again while they are copied."""
    try:
        inventory, _ = source.store.verified_inventory(aip_id)
    except IntegrityError:
        return False
    for row in recorded:
        state = inventory["versions"].get(f"v{row.version}", {}).get("state", {})
        if not any(row.path in paths and d.lower() == row.sha512 for d, paths in state.items()):
            return False
    return True


def _keys_to_rewrite(source: Location, aip_id: str, path: str) -> list[tuple[str, str]]:
    """(key, sha512 it must have) to copy from ``source`` to repair ``path``.

    A content file: itself, digest from the source manifest. An inventory or its sidecar: both,
    since a sidecar mismatch does not say which of the two was damaged.
    """
    object_key = join_key(ROOT_PREFIX, source.store.object_path(aip_id))
    inventory, _ = read_json(source.backend, join_key(object_key, INVENTORY))
    for digest, paths in inventory["manifest"].items():
        if path in paths:
            return [(path, str(digest).lower())]
    if path.endswith(INVENTORY) or path.endswith(SIDECAR):
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        pair = [join_key(folder, INVENTORY), join_key(folder, SIDECAR)]
        inv_digest = digest_key(source.backend, join_key(object_key, pair[0])).sha512
        if read_sidecar(source.backend, join_key(object_key, pair[1])) != inv_digest:
            return []
        return [
            (pair[0], inv_digest),
            (pair[1], digest_key(source.backend, join_key(object_key, pair[1])).sha512),
        ]
    if path == OBJECT_DECLARATION[0]:
        return [(path, digest_key(source.backend, join_key(object_key, path)).sha512)]
    return []
