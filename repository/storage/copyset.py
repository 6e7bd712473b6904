"""The copies of one AIP over the configured storage locations: publish, read, check, repair, status.

Every workflow that touches the copies of an AIP (ingest, update, replication, audit, verify,
retrieve, export, rebuild) goes through :class:`CopySet`, so that there is one answer to each of
these questions:

**Publishing a version (one failure policy).** A version is written to every location, each copy
read back and verified against the manifest (:meth:`OcflStore.put_version`), with one version time
for every copy so that their inventories are identical.

* A location that cannot be reached (:class:`BackendUnavailable`: disk not mounted, S3 down), or
  one that is behind (it missed an earlier version, which must land first), gets a **queued**
  (``pending``) copy; ``kholuu storage sync`` writes it later.
* **Any other failure** in any location (damage found on read-back, access refused, a bad root, a
  version number that is not the one expected) **withdraws the version**: it is removed again from
  every location that took it, and the operation fails. Copies of one version never differ, and
  the catalog never records a version that is not wholly stored.
* A run in which no location took the version fails too (``storage.no_location``).

This is the policy the ingest always had (:mod:`repository.storage.copy_publish`); updates used
to record a ``failed`` copy and carry on, which left copies that differ and that nothing would
ever repair.

**The AIP status rule.** :func:`aip_status`: an AIP is ``degraded`` unless every required
location holds a stored copy of its current version, and ``degraded`` while any stored copy of
the current version failed its last check; otherwise ``stored``.

**Reading a verified copy.** :meth:`CopySet.read_verified` exports a version from the first
location whose copy matches both its OCFL inventory and what the catalog recorded; a damaged copy
is skipped for the next one.

**Checking and repairing a copy.** :meth:`CopySet.check` returns typed findings
(:mod:`repository.storage.copy_check`) and one :class:`CheckOutcome`: a deleted object or a missing
inventory is ``failed``; only a copy that could not be read is ``could not check``.
:meth:`CopySet.repair` repairs one finding from a named good copy
(:mod:`repository.storage.copy_repair`).

Why CopySet takes what the catalog recorded as typed input (:class:`Recorded`, digests by path)
instead of reading the catalog itself: the caller already holds the catalog rows inside its own
transaction (and rebuild has no catalog rows yet), storage stays testable without a database, and
the catalog stays the one place that writes catalog rows. The PREMIS events CopySet writes name the
agent the calling workflow passes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from preservation.events import Agent, Event
from preservation.findings import CheckOutcome, DamageKind, Finding, RepairOutcome
from preservation.fixity import Digests
from repository.catalog.models import AipStatus, CopyStatus
from repository.settings import Settings
from repository.storage import copy_publish
from repository.storage.backend import digest_key, join_key
from repository.storage.copy_check import Recorded, damage, finding_dict, inspect_copy, missing_object
from repository.storage.copy_publish import Landing, NewVersion, Progress, Publication, PublishedCopy
from repository.storage.copy_repair import LOST_AND_FOUND, agrees_with_catalog, repair_finding
from repository.storage.errors import BackendUnavailable, NotFound, StorageError
from repository.storage.locations import Location, open_locations
from repository.storage.manifest_verdicts import ManifestVerdicts
from repository.storage.ocfl import ROOT_PREFIX
from repository.storage.ocfl_inventory import INVENTORY, ROOT_DECLARATION
from repository.storage.ocfl_source import empty_folder

log = logging.getLogger("kholuu.storage.copies")

__all__ = [
    "LOST_AND_FOUND",
    "CopyCheck",
    "CopySet",
    "CopyView",
    "Landing",
    "NewVersion",
    "NoGoodCopy",
    "Publication",
    "PublishedCopy",
    "Recorded",
    "Unfinished",
    "aip_status",
    "finding_dict",
]


class CopyView(Protocol):
    """What the status rule needs of a catalog copy row."""

    @property
    def location(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def status(self) -> CopyStatus: ...

    @property
    def check_outcome(self) -> str | None: ...


def manifest_verdicts(settings: Settings) -> ManifestVerdicts:
    """The agreements of METS and PREMIS files with the catalog, kept in the data folder."""
    return ManifestVerdicts(settings.home / "cache" / "manifest-verdicts")


def aip_status(copies: Iterable[CopyView], required: Collection[str], current_version: int) -> AipStatus:
    """The one AIP status rule: ``degraded`` unless every required copy is stored.

    ``degraded`` when a required location has no stored copy of the current version, or when any
    stored copy of the current version failed its last check (damage anywhere is degradation,
    until the audit repairs it); ``stored`` otherwise.
    """
    current = [c for c in copies if c.version == current_version]
    stored = {c.location for c in current if c.status is CopyStatus.STORED}
    damaged = any(c.status is CopyStatus.STORED and c.check_outcome == CheckOutcome.FAILED for c in current)
    return AipStatus.DEGRADED if damaged or not set(required) <= stored else AipStatus.STORED


@dataclass
class CopyCheck:
    """One copy checked: its outcome and every finding (for ``could not check``: why not)."""

    location: str
    outcome: CheckOutcome
    findings: list[Finding] = field(default_factory=list)


class Unfinished(StrEnum):
    """What a job that died may have left of its AIP in storage (:meth:`CopySet.roll_back`)."""

    NOTHING = "nothing"  # its AIP is registered (or it has none): only its deposits are left
    OBJECT = "object"  # an ingest that never registered its AIP: the object, whole or in part
    VERSION = "version"  # an update: a version it did not commit, or a stale root sidecar


class NoGoodCopy(StorageError):
    """No location holds a copy of the version that matches its inventory and the catalog."""

    code = "storage.no_good_copy"


class CopySet:
    """The copies of one AIP, one per configured location (in configured order)."""

    def __init__(
        self, aip_id: str, locations: Sequence[Location], *, verdicts: ManifestVerdicts | None = None
    ) -> None:
        self.aip_id = aip_id
        self.locations = list(locations)
        self.verdicts = verdicts
        """METS and PREMIS files known to agree with the catalog (``None``: parse every one)."""

    @classmethod
    def of(cls, settings: Settings, aip_id: str) -> CopySet:
        return cls(aip_id, open_locations(settings), verdicts=manifest_verdicts(settings))

    @property
    def required(self) -> set[str]:
        return {loc.name for loc in self.locations if loc.required}

    def location(self, name: str) -> Location | None:
        return next((loc for loc in self.locations if loc.name == name), None)

    # -- publishing ------------------------------------------------------------------------

    # -- publishing ------------------------------------------------------------------------

    def heads(self) -> dict[str, int]:
        """The version each reachable location holds (0: none); unreachable ones are left out."""
        out: dict[str, int] = {}
        for loc in self.locations:
            try:
                out[loc.name] = (
                    loc.store.versions(self.aip_id)[-1].number if loc.store.exists(self.aip_id) else 0
                )
            except BackendUnavailable:
                continue
        return out

    def publish(self, new: NewVersion, *, agent: Agent, progress: Progress | None = None) -> Publication:
        """Publish ``new`` to every location under the module's one failure policy; the PREMIS
        ``replication`` events name ``agent``.

        Raises:
            BackendUnavailable: ``storage.no_location`` when no location took the version.
            StorageError: any other failure in any location; the version was withdrawn everywhere.
        """
        heads = self.heads() if new.number > 1 else {}
        return copy_publish.publish(self.aip_id, self.locations, heads, new, agent=agent, progress=progress)

    def withdraw(self, version: int, *, deposit_id: str) -> list[str]:
        """Remove ``version``, published but never registered, from every location, and the
        deposits it left; returns (and logs) what could not be removed, raises nothing."""
        return copy_publish.withdraw(self.aip_id, self.locations, version, deposit_id=deposit_id)

    def roll_back(self, deposit_id: str, unfinished: Unfinished) -> list[str]:
        """Undo, in every location, what a job that died left: its deposits, and ``unfinished``.

        :attr:`Unfinished.OBJECT` removes the object (nothing registered it, so nothing
        preserved is lost); :attr:`Unfinished.VERSION` finishes or undoes an interrupted update
        (:meth:`OcflStore.recover_object`: a committed version keeps its inventory, an
        uncommitted version folder goes). Returns the locations that could not be reached: the
        job must be rolled back again later, since their half-written keys are still there.

        Raises:
            StorageError: anything but an unreachable location (a refused delete, say).
        """
        unreachable: list[str] = []
        for loc in self.locations:
            try:
                loc.store.discard_deposit(deposit_id)
                if self.aip_id and unfinished is Unfinished.VERSION:
                    loc.store.recover_object(self.aip_id)
                elif self.aip_id and unfinished is Unfinished.OBJECT:
                    loc.store.remove_object(self.aip_id)
            except BackendUnavailable:
                unreachable.append(loc.name)
        return unreachable

    def land(
        self, target: str, sources: Sequence[str], *, version: int, stale_deposits: Iterable[str] = ()
    ) -> Landing:
        """Write a queued copy of ``version`` to ``target`` from the first good one of ``sources``."""
        return copy_publish.land(
            self.aip_id, self.locations, target, sources, version=version, stale_deposits=stale_deposits
        )

    # -- reading ---------------------------------------------------------------------------

    def read_verified(
        self, destination: Path, *, version: int, expected: Mapping[str, str], holders: Iterable[str]
    ) -> tuple[str, dict[str, Digests]]:
        """Export ``version`` to ``destination`` from the first holder whose copy is good.

        Args:
            expected: logical path -> SHA-256 the catalog recorded; the copy must hold exactly
                these files with these digests (besides matching its own OCFL inventory).
            holders: the locations to try, in this order.

        Returns:
            (location read, logical path -> digests of the exported file).

        Raises:
            NoGoodCopy: every holder was down or damaged (the message names each problem).
        """
        tried: list[str] = []
        existed = destination.exists()
        for name in holders:
            loc = self.location(name)
            if loc is None:
                tried.append(f"{name}: not configured")
                continue
            try:
                digests = loc.store.export_version(self.aip_id, destination, version=version)
            except StorageError as exc:  # down, or this copy is damaged: the next copy may be good
                tried.append(f"{name}: {exc}")
                continue
            wrong = sorted(
                p for p in set(expected) | set(digests) if expected.get(p) != _sha256(digests.get(p))
            )
            if wrong:
                tried.append(f"{name}: v{version} differs from the catalog at {', '.join(wrong[:3])}")
                empty_folder(destination, remove=not existed)
                continue
            return name, digests
        raise NoGoodCopy(
            f"no copy of AIP {self.aip_id} v{version} could be read: " + "; ".join(tried),
            key=self.aip_id,
            params={"aip_id": self.aip_id, "version": version, "problems": "; ".join(tried)},
        )

    # -- checking and repairing --------------------------------------------------------------

    def read_file_verified(
        self, destination: Path, *, version: int, path: str, sha256: str, holders: Iterable[str]
    ) -> str:
        """Copy one file of ``version`` to ``destination`` from the first holder whose bytes have
        the SHA-256 the catalog recorded (the public catalog's viewer: one file, not the AIP).

        Returns:
            The location read.

        Raises:
            NoGoodCopy: every holder was down, lacked the file or gave other bytes.
        """
        tried: list[str] = []
        for name in holders:
            loc = self.location(name)
            if loc is None:
                tried.append(f"{name}: not configured")
                continue
            digest = hashlib.sha256()
            try:
                with loc.store.open_file(self.aip_id, path, version) as source, destination.open("wb") as out:
                    while block := source.read(1024 * 1024):
                        digest.update(block)
                        out.write(block)
            except (StorageError, OSError) as exc:
                tried.append(f"{name}: {exc}")
                continue
            if digest.hexdigest() == sha256:
                return name
            tried.append(f"{name}: {path} has other bytes than the catalog recorded")
        destination.unlink(missing_ok=True)
        raise NoGoodCopy(
            f"no good copy of {path} in AIP {self.aip_id} v{version}: " + ("; ".join(tried) or "no holder"),
            key=self.aip_id,
            params={"aip_id": self.aip_id, "version": version, "problems": "; ".join(tried)},
        )

    def reachable(self, name: str) -> StorageError | None:
        """Why the location cannot be checked now, or None (one cheap request: S3 HEAD bucket)."""
        loc = self.location(name)
        if loc is None:
            return NotFound(f"no storage location {name!r}", code="storage.location_unknown", location=name)
        check = getattr(loc.backend, "check", None)
        try:
            if callable(check):
                check()
            loc.backend.stat(join_key(ROOT_PREFIX, ROOT_DECLARATION[0]))
        except StorageError as exc:
            return exc
        return None

    def inventory_digest(self, name: str) -> str | None:
        """SHA-512 of a location's stored root inventory: it changes when anyone publishes a version."""
        loc = self.location(name)
        if loc is None:
            return None
        try:
            return digest_key(
                loc.backend, join_key(ROOT_PREFIX, loc.store.object_path(self.aip_id), INVENTORY)
            ).sha512
        except NotFound:
            return None

    def check(
        self, name: str, recorded: Sequence[Recorded], *, version: int, probe: bool = True
    ) -> CopyCheck:
        """Check the copy in location ``name`` against what the catalog recorded.

        ``failed`` for any damage, including a deleted object or a missing root inventory;
        ``could not check`` (one ``unavailable`` finding saying why) only when the copy could
        not be read or changed while it was read. Never raises for a storage problem.

        Args:
            probe: first ask whether the location answers at all (:meth:`reachable`), so that a
                missing bucket or an unmounted disk never reads as a deleted object; an audit
                that already asked once for the whole location passes False.
        """
        problem = self.reachable(name) if probe else None
        if problem is not None:
            return self._unavailable(name, problem.code, str(problem))
        loc = self.location(name)
        if loc is None:
            return self._unavailable(name, "storage.location_unknown", f"location {name!r} is not configured")
        before = self.inventory_digest(name)
        try:
            findings = inspect_copy(loc.store, self.aip_id, recorded, version, self.verdicts)
        except NotFound as exc:
            if exc.code not in ("ocfl.object_not_found", "ocfl.missing_file"):
                return self._unavailable(name, exc.code, str(exc))
            findings = [missing_object(exc)]
        except StorageError as exc:  # unreachable, access refused, ...: says nothing about the object
            return self._unavailable(name, exc.code, str(exc))
        if not findings:
            return CopyCheck(name, CheckOutcome.PASSED)
        if before is not None and self.inventory_digest(name) != before:
            return self._unavailable(
                name, "audit.object_changed", "the object changed while it was being checked"
            )
        return CopyCheck(name, CheckOutcome.FAILED, findings)

    @staticmethod
    def _unavailable(name: str, code: str, message: str) -> CopyCheck:
        why = damage(code, "", message, DamageKind.UNAVAILABLE)
        return CopyCheck(name, CheckOutcome.COULD_NOT_CHECK, [why])

    def good_sources(self, name: str, holders: Iterable[str]) -> list[Location]:
        """The other configured locations holding a stored copy, to repair ``name`` from."""
        return [loc for h in holders if h != name and (loc := self.location(h)) is not None]

    def repair(
        self,
        name: str,
        finding: Finding,
        *,
        sources: Sequence[Location],
        recorded: Sequence[Recorded],
        run_id: str,
        agent: Agent,
    ) -> tuple[RepairOutcome, str | None, Event | None]:
        """Repair one finding of the copy in ``name`` from the first of ``sources`` that agrees with
        the catalog; (outcome, source used, PREMIS ``recovery`` event naming ``agent``)."""
        loc = self.location(name)
        if loc is None:
            return RepairOutcome.NONE, None, None
        return repair_finding(loc, sources, self.aip_id, finding, recorded, run_id=run_id, agent=agent)

    def agrees_with_catalog(self, name: str, recorded: Sequence[Recorded]) -> bool:
        loc = self.location(name)
        return loc is not None and agrees_with_catalog(loc, self.aip_id, recorded)


def _sha256(digests: Digests | None) -> str | None:
    return digests.sha256 if digests is not None else None
