"""What a migration would do: the files of the archive's holdings whose copies the policy asks for.

Read from the catalog only (``file.role``, ``file.puid``, ``file.derived_from``, ``file.action``
of the current version of every stored or degraded AIP), against the format policy in force.
Nothing here converts or writes a file: ``kholuu migrate --dry-run`` prints this plan and stops.

For each original file (role ``original``) whose format has a policy entry:

* **preservation**: when the policy names a preservation action and the format is not accepted for
  preservation under ``[planning] regulation`` (or the policy marks its risk ``high``), the file
  needs a preservation copy made by that action. It has one when the current version holds a
  derivative of it in ``<rep>-preservation`` whose ``file.action`` is the action's fingerprint (or
  the OCR'd PDF/A of a scan, which normalization keeps instead). Otherwise: *format now at risk*
  when there is no copy, *action changed* when the copy was made by another action (it is
  replaced, and stays in the earlier version).
* **access**: when the policy names an access action, the file needs an access copy made by it,
  unless its preservation copy is already in the access action's output format (it serves readers,
  as at ingest): *no copy*, or *action changed*.

A purpose whose action the policy removed leaves what was made in place (``policy diff`` says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.planning.model import Action, Check, FormatPolicy, Purpose, Risk
from preservation.planning.policy import PolicyRegistry
from repository.catalog.models import Aip, AipStatus, File, FileRole
from workflows.planning.normalize import OCR_ACTION

__all__ = ["MigrationPlan", "Wanted", "Why", "plan"]

_HELD = (AipStatus.STORED, AipStatus.DEGRADED)

#: The OCR'd PDF/A of a scan made at ingest (with or without its page-count check) is a current
#: preservation copy whatever the format's preservation action is (docs/planning.md).
OCR_FINGERPRINTS = frozenset(
    {OCR_ACTION.fingerprint(), replace(OCR_ACTION, checks=(*OCR_ACTION.checks, Check.PAGES)).fingerprint()}
)


class Why(StrEnum):
    """Why a file needs a new copy."""

    AT_RISK = "format now at risk"  # the policy asks for a preservation copy; there is none
    NO_COPY = "no copy"  # the policy asks for an access copy; there is none
    ACTION_CHANGED = "action changed"  # there is a copy, made by an action the policy no longer names


@dataclass(frozen=True)
class Wanted:
    """One copy to make: of ``source`` (a path in the AIP's current version ``version``), for
    ``purpose``, with ``action``; ``replaces`` the stale copies (path, uuid) it supersedes."""

    aip_id: str
    version: int
    source: str
    source_uuid: str
    name: str
    puid: str
    size: int
    purpose: Purpose
    action: Action
    why: Why
    replaces: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "file": self.name,
            "puid": self.puid,
            "bytes": self.size,
            "purpose": self.purpose.value,
            "action": {
                "tool": self.action.tool,
                "output_puid": self.action.output_puid,
                "output_extension": self.action.output_extension,
                "fingerprint": self.action.fingerprint(),
            },
            "why": self.why.value,
            "replaces": [path for path, _ in self.replaces],
        }


@dataclass(frozen=True)
class MigrationPlan:
    """Every copy to make, AIP by AIP (oldest AIP first), file by file."""

    items: tuple[Wanted, ...]

    @property
    def files(self) -> int:
        return len(self.items)

    @property
    def bytes(self) -> int:
        return sum(i.size for i in self.items)

    def by_aip(self) -> dict[str, list[Wanted]]:
        out: dict[str, list[Wanted]] = {}
        for item in self.items:
            out.setdefault(item.aip_id, []).append(item)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "aips": [
                {"aip_id": aip_id, "version": items[0].version, "files": [i.as_dict() for i in items]}
                for aip_id, items in self.by_aip().items()
            ],
            "files": self.files,
            "bytes": self.bytes,
        }


def plan(
    session: Session,
    policy: PolicyRegistry,
    regulation: str,
    *,
    puid: str | None = None,
    aip_id: str | None = None,
) -> MigrationPlan:
    """The copies the current versions of the held AIPs need (see the module docstring); only of
    files of format ``puid`` and only in AIP ``aip_id`` when given."""
    query = (
        select(File, Aip.current_version)
        .join(Aip, (Aip.id == File.aip_id) & (Aip.current_version == File.version))
        .where(Aip.status.in_(_HELD), File.role.in_((FileRole.ORIGINAL, FileRole.DERIVATIVE)))
        .order_by(Aip.created_at, Aip.id, File.aip_path)
    )
    if aip_id is not None:
        query = query.where(Aip.id == aip_id)
    by_aip: dict[str, tuple[int, list[File]]] = {}
    for row, version in session.execute(query):
        by_aip.setdefault(row.aip_id, (version, []))[1].append(row)
    items: list[Wanted] = []
    for held, (version, files) in by_aip.items():
        items += _wanted_in(held, version, files, policy, regulation, puid)
    return MigrationPlan(tuple(items))


def _wanted_in(
    aip_id: str,
    version: int,
    files: Sequence[File],
    policy: PolicyRegistry,
    regulation: str,
    puid: str | None,
) -> list[Wanted]:
    copies: dict[tuple[str, str], list[File]] = {}
    for f in files:
        if f.role is FileRole.DERIVATIVE and f.derived_from and f.representation:
            copies.setdefault((f.derived_from, f.representation), []).append(f)
    out: list[Wanted] = []
    for f in files:
        if f.role is not FileRole.ORIGINAL or not f.puid or not f.uuid or (puid and f.puid != puid):
            continue
        entry = policy.get(f.puid)
        if entry is None:
            continue
        preserved_as = None
        for purpose in Purpose:
            action = _action(entry, purpose, regulation)
            if action is None:
                continue
            made = copies.get((f.uuid, f"{f.representation}-{purpose.value}"), [])
            current = {action.fingerprint()} | (
                OCR_FINGERPRINTS if purpose is Purpose.PRESERVATION else set()
            )
            good = [c for c in made if c.action in current]
            if purpose is Purpose.PRESERVATION:
                preserved_as = good[0].puid if good else action.output_puid
            elif preserved_as == action.output_puid:
                continue  # the preservation copy already is what readers get
            if good:
                continue
            why = (
                Why.ACTION_CHANGED
                if made
                else Why.AT_RISK
                if purpose is Purpose.PRESERVATION
                else Why.NO_COPY
            )
            out.append(_item(aip_id, version, f, purpose, action, why, made))
    return out


def _action(entry: FormatPolicy, purpose: Purpose, regulation: str) -> Action | None:
    """The action the policy asks of ``purpose``: a preservation copy only of a format the
    regulation does not accept (or one the policy judges at high risk)."""
    action = entry.action(purpose)
    if (
        purpose is Purpose.PRESERVATION
        and entry.accepted.get(regulation, False)
        and entry.risk is not Risk.HIGH
    ):
        return None
    return action


def _item(
    aip_id: str, version: int, f: File, purpose: Purpose, action: Action, why: Why, stale: Iterable[File]
) -> Wanted:
    return Wanted(
        aip_id=aip_id,
        version=version,
        source=f.aip_path,
        source_uuid=f.uuid or "",
        name=f.path or f.aip_path,
        puid=f.puid or "",
        size=f.size,
        purpose=purpose,
        action=action,
        why=why,
        replaces=tuple((c.aip_path, c.uuid or "") for c in stale),
    )
