"""Publishing a version of an AIP to every location, and landing a queued copy: for :class:`CopySet`.

The one failure policy (see :mod:`repository.storage.copyset`): a location that cannot be reached,
or that missed an earlier version, gets a queued (``pending``) copy; any other failure in any
location withdraws the version from every location that took it, and the operation fails; so does
a run in which no location took the version. What could not be withdrawn is logged, structured,
never swallowed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from preservation.events import Agent, Event, EventType, Outcome
from preservation.fixity import Digests
from repository.catalog.models import CopyStatus
from repository.storage.errors import BackendUnavailable, StorageError
from repository.storage.locations import Location
from repository.storage.ocfl import PutResult

log = logging.getLogger("kholuu.storage.copies")


class Progress(Protocol):
    """Per-file progress (the CLI draws a bar); structurally the workflows' ``Progress``."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, item: str) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class PublishedCopy:
    """One location's copy of a published version: ``stored`` (verified) or ``pending`` (queued)."""

    location: str
    object_path: str
    status: CopyStatus
    required: bool
    written_at: datetime | None = None
    reason: str = ""


@dataclass
class Publication:
    """What :meth:`CopySet.publish` did: a copy per location and a PREMIS event per copy."""

    version: int
    copies: list[PublishedCopy] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def stored(self) -> dict[str, str]:
        return {c.location: c.object_path for c in self.copies if c.status is CopyStatus.STORED}

    @property
    def pending(self) -> dict[str, str]:
        return {c.location: c.reason for c in self.copies if c.status is CopyStatus.PENDING}


@dataclass(frozen=True)
class Landing:
    """What :meth:`CopySet.land` did with one queued copy."""

    status: CopyStatus
    source: str = ""
    message: str = ""
    code: str = ""


@dataclass(frozen=True)
class NewVersion:
    """A version to publish: the package folder, its number, and the OCFL version block.

    Attributes:
        expected: logical path -> digests every file must have (the AIP manifest).
        deposit_id: names each location's staging folder (the job id).
        created: the version time, one for every copy (default: now).
    """

    folder: Path
    number: int
    expected: Mapping[str, Digests]
    deposit_id: str
    message: str
    user_name: str
    user_address: str
    created: datetime | None = None


def publish(
    aip_id: str,
    locations: Sequence[Location],
    heads: Mapping[str, int],
    new: NewVersion,
    *,
    agent: Agent,
    progress: Progress | None = None,
) -> Publication:
    """Publish ``new`` everywhere under the one policy (:meth:`CopySet.publish`); ``heads``: the
    version each reachable location holds (only read for a version after the first)."""
    version = new.number
    created = new.created or datetime.now(UTC)  # one version time: the copies' inventories are identical
    out = Publication(version)
    written: list[Location] = []
    try:
        for loc in locations:
            not_now = _why_queued(aip_id, loc, heads, version)
            if not_now is not None:
                _queue(aip_id, out, loc, not_now, agent)
                continue
            if progress is not None:
                progress.start(f"storage: {loc.name}", len(new.expected))
            written.append(loc)  # withdrawn on failure, even one raised after its publish
            try:
                result = _put_version(loc, aip_id, new, created, progress)
            except BackendUnavailable as exc:
                written.remove(loc)
                _queue(aip_id, out, loc, str(exc), agent)
                continue
            finally:
                if progress is not None:
                    progress.finish()
            if result.version != version:
                raise StorageError(
                    f"{aip_id} published in {loc.name} as v{result.version}, expected v{version}",
                    code="ocfl.concurrent_update",
                    key=aip_id,
                    location=loc.name,
                )
            now = datetime.now(UTC)
            out.copies.append(
                PublishedCopy(loc.name, result.object_path, CopyStatus.STORED, loc.required, now)
            )
            out.events.append(_written_event(aip_id, loc, result, agent))
        if not out.stored:
            raise BackendUnavailable(
                "no storage location could be reached: "
                + "; ".join(f"{c.location}: {c.reason}" for c in out.copies),
                code="storage.no_location",
                params={"locations": ", ".join(c.location for c in out.copies)},
            )
    except BaseException:
        withdraw(aip_id, locations, version, deposit_id=new.deposit_id, written=written)
        raise
    return out


def _why_queued(aip_id: str, loc: Location, heads: Mapping[str, int], version: int) -> str | None:
    """Why ``loc`` gets a queued copy of ``version`` instead of the version itself (None: write it).

    Raises:
        StorageError: ``ocfl.concurrent_update`` when ``loc`` already holds this version or a later one.
    """
    if version == 1:
        return None
    if loc.name not in heads:
        return "cannot be reached"
    head = heads[loc.name]
    if head < version - 1:  # it missed a version: sync lands every version in order
        return f"holds v{head}, not v{version - 1}"
    if head > version - 1:
        raise StorageError(
            f"{loc.name} already holds v{head} of {aip_id}, not v{version - 1}",
            code="ocfl.concurrent_update",
            key=aip_id,
            location=loc.name,
        )
    return None


def _put_version(
    loc: Location, aip_id: str, new: NewVersion, created: datetime, progress: Progress | None = None
) -> PutResult:
    """Write ``new`` to ``loc``, every file read back and verified against ``new.expected``;
    ``progress`` advances at each file written."""
    loc.store.initialize()
    return loc.store.put_version(
        aip_id,
        new.folder,
        deposit_id=new.deposit_id,
        message=new.message,
        user_name=new.user_name,
        user_address=new.user_address,
        created=created,
        expected=new.expected,
        on_file=progress.advance if progress is not None else None,
    )


def _written_event(aip_id: str, loc: Location, result: PutResult, agent: Agent) -> Event:
    return Event(
        type=EventType.REPLICATION,
        outcome=Outcome.SUCCESS,
        detail=f"AIP written as OCFL object version v{result.version} to storage location "
        f"{loc.name!r} ({loc.role}); every file read back and verified (SHA-512, SHA-256)",
        detail_code="storage.written",
        detail_params={"version": result.version, "location": loc.name, "role": loc.role},
        outcome_detail=f"{len(result.state)} files at {result.object_path}",
        agents=(agent,),
        objects=(aip_id,),
    )


def _queue(aip_id: str, out: Publication, loc: Location, reason: str, agent: Agent) -> None:
    out.copies.append(
        PublishedCopy(loc.name, loc.store.object_path(aip_id), CopyStatus.PENDING, loc.required, None, reason)
    )
    out.events.append(
        Event(
            type=EventType.REPLICATION,
            outcome=Outcome.FAILURE,
            detail=f"Copy of version v{out.version} to storage location {loc.name!r} ({loc.role}) "
            "queued: the location cannot be reached or misses an earlier version",
            detail_code="storage.queued",
            detail_params={"version": out.version, "location": loc.name, "role": loc.role},
            outcome_detail=reason,
            agents=(agent,),
            objects=(aip_id,),
        )
    )


def withdraw(
    aip_id: str,
    locations: Sequence[Location],
    version: int,
    *,
    deposit_id: str,
    written: Sequence[Location] | None = None,
) -> list[str]:
    """Remove a version that was published but never registered, and the deposits it left.

    Version 1 removes the object; a later version restores the previous one. Nothing is
    raised (this runs while another error is on its way up): what could not be removed is
    logged, structured, and returned as ``location: reason`` so that recovery can finish it.
    """
    left: list[str] = []
    for loc in locations if written is None else written:
        try:
            loc.store.withdraw_version(aip_id, version)
        except StorageError as exc:
            left.append(f"{loc.name}: {exc}")
            log.error(
                "could not withdraw v%d of %s from %s: %s",
                version,
                aip_id,
                loc.name,
                exc,
                extra={"kholuu": _cleanup_log(aip_id, "withdraw", loc, version, exc)},
            )
    for loc in locations:
        try:
            loc.store.discard_deposit(deposit_id)
        except StorageError as exc:
            log.warning(
                "could not remove deposit %s from %s: %s",
                deposit_id,
                loc.name,
                exc,
                extra={"kholuu": _cleanup_log(aip_id, "discard_deposit", loc, version, exc)},
            )
    return left


def _cleanup_log(
    aip_id: str, action: str, loc: Location, version: int, exc: StorageError
) -> dict[str, object]:
    return {
        "event": "storage_cleanup",
        "action": action,
        "aip_id": aip_id,
        "version": version,
        "location": loc.name,
        "code": exc.code,
        "message": str(exc),
    }


def land(
    aip_id: str,
    locations: Sequence[Location],
    target: str,
    sources: Sequence[str],
    *,
    version: int,
    stale_deposits: Iterable[str] = (),
) -> Landing:
    """Write a queued copy to ``target`` from the first of ``sources`` holding ``version``.

    The same policy as :meth:`publish`, for one location: the target unreachable leaves the
    copy queued (``pending``); every source down leaves it queued too; a source damaged or
    behind is skipped for the next; nothing is published unless every key was verified on
    the way in (:meth:`OcflStore.replicate_from`). ``stale_deposits``: staging left when the
    target went down in the middle of a write, removed first.
    """
    loc = _find(locations, target)
    if loc is None:
        return Landing(CopyStatus.PENDING, message="location not configured", code="storage.location_unknown")
    holders = [h for name in sources if (h := _find(locations, name)) is not None]
    if not holders:
        return Landing(
            CopyStatus.PENDING,
            message="no location holds a stored copy to copy from",
            code="storage.no_source",
        )
    last: StorageError | None = None
    for source in holders:
        try:
            loc.store.initialize()
            for deposit in stale_deposits:
                loc.store.discard_deposit(deposit)
            head = loc.store.replicate_from(source.store, aip_id, deposit_id=f"sync-{uuid.uuid4().hex}")
        except BackendUnavailable as exc:
            if exc.location == target:
                return Landing(CopyStatus.PENDING, message=str(exc), code=exc.code)
            last = exc
            continue  # the source is down: try another
        except StorageError as exc:
            last = exc
            continue
        if head < version:
            last = StorageError(f"{source.name} holds only v{head} of {aip_id}", code="storage.source_behind")
            continue
        return Landing(CopyStatus.STORED, source=source.name, message=f"v{head} copied from {source.name}")
    assert last is not None
    status = CopyStatus.PENDING if isinstance(last, BackendUnavailable) else CopyStatus.FAILED
    return Landing(status, message=str(last), code=last.code)


def _find(locations: Sequence[Location], name: str) -> Location | None:
    return next((loc for loc in locations if loc.name == name), None)
