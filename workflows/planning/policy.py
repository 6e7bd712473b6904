"""The format policy as the archive applies it: loaded for the settings, held formats counted
against it, and a proposed policy compared with the one in force.

``policy check`` reads :func:`holdings`: for every format the current versions of the stored AIPs
hold, how many files and bytes, how risky the policy judges it, whether TT 05/2025 and TT 02/2019
accept it and what the policy would do. ``policy diff`` reads :func:`diff`: for every format whose
actions or acceptance a proposed policy changes, what changes and how many held files a migration
would touch. Both only read; nothing here converts a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind
from preservation.formats import UNIDENTIFIED
from preservation.planning.model import Action, Purpose, Risk
from preservation.planning.policy import DEFAULT_FILE, REGULATIONS, PolicyError, PolicyRegistry, puid_order
from repository.catalog.models import Aip, AipStatus, File, FileRole
from repository.settings import PlanningSettings, Settings

__all__ = [
    "RISK_ORDER",
    "FieldChange",
    "Holding",
    "Holdings",
    "PolicyChange",
    "action_json",
    "diff",
    "holdings",
    "load_policy",
    "load_proposed",
    "override_changes",
    "override_path",
    "totals",
]

#: ``policy check`` lists the riskiest first; a format nobody judged is a risk until someone does.
RISK_ORDER = (Risk.HIGH, Risk.UNKNOWN, Risk.MEDIUM, Risk.LOW)
#: AIPs that exist: stored, or stored with a copy missing.
_HELD = (AipStatus.STORED, AipStatus.DEGRADED)


def override_path(settings: Settings) -> Path | None:
    """The override file in force, or None. The default location may be absent (then the shipped
    policy applies); any other configured path must exist, so a typo never passes unnoticed; an
    empty ``policy_override`` turns the override off.

    Raises:
        PolicyError: ``policy.override_missing`` for a configured file that does not exist.
    """
    configured = settings.planning.policy_override
    if not configured:
        return None
    path = settings.path(configured)
    if path.is_file():
        return path
    if configured != PlanningSettings().policy_override:
        raise PolicyError(
            "the configured [planning] policy_override does not exist",
            file=path,
            field="planning.policy_override",
            code="policy.override_missing",
            kind=ErrorKind.NOT_FOUND,
        )
    return None


def load_policy(settings: Settings) -> PolicyRegistry:
    """The effective policy: the shipped file with the data folder's override laid over it."""
    return PolicyRegistry.load(DEFAULT_FILE, override_path(settings))


def override_changes(settings: Settings, held: Holdings) -> tuple[PolicyChange, ...]:
    """What this data folder's override changes against the shipped policy alone (``/policy``):
    the diff ``policy diff`` would print for a proposal of removing the override. Empty when no
    override is in force."""
    if override_path(settings) is None:
        return ()
    return diff(PolicyRegistry.load(DEFAULT_FILE), load_policy(settings), held)


def load_proposed(
    settings: Settings, file: Path, *, replaces: Literal["override", "shipped"]
) -> PolicyRegistry:
    """A policy as it would be with ``file`` in place of the override (a drafted override) or of
    the shipped file (a new release's, with the override in force laid over it)."""
    if replaces == "override":
        return PolicyRegistry.load(DEFAULT_FILE, file)
    return PolicyRegistry.load(file, override_path(settings))


def action_json(action: Action | None) -> dict[str, Any] | None:
    """An action as ``--json`` shows it: its fields and its fingerprint."""
    if action is None:
        return None
    return {**asdict(action), "args": list(action.args), "checks": [str(c) for c in action.checks],
            "fingerprint": action.fingerprint()}  # fmt: skip


@dataclass(frozen=True)
class Holding:
    """One format held: ``puid`` None gathers the files no engine could identify. ``in_policy``
    says whether the policy has an entry; without one, risk is unknown and nothing is accepted.
    ``preservation`` is the action that applies (none for a format accepted under TT 05)."""

    puid: str | None
    name: str
    risk: Risk
    accepted: Mapping[str, bool]
    in_policy: bool
    files: int
    bytes: int
    preservation: Action | None
    access: Action | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "puid": self.puid,
            "name": self.name,
            "risk": self.risk.value,
            "accepted": {r: self.accepted.get(r) for r in REGULATIONS},
            "in_policy": self.in_policy,
            "files": self.files,
            "bytes": self.bytes,
            "preservation": action_json(self.preservation),
            "access": action_json(self.access),
        }


@dataclass(frozen=True)
class Holdings:
    """Held formats, riskiest first, then by bytes (largest first)."""

    rows: tuple[Holding, ...]

    @property
    def files(self) -> int:
        return sum(r.files for r in self.rows)

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.rows)

    def get(self, puid: str | None) -> Holding | None:
        return next((r for r in self.rows if r.puid == puid), None)

    def as_dict(self) -> dict[str, Any]:
        return {"formats": [r.as_dict() for r in self.rows], "files": self.files, "bytes": self.bytes}


def holdings(session: Session, policy: PolicyRegistry, *, include_unheld: bool = False) -> Holdings:
    """Count the payload files (role ``original``) of the current version of every stored AIP by
    PUID and set each format against ``policy``. ``include_unheld`` adds the policy's formats the
    archive holds none of (zero files), for a full listing."""
    rows = session.execute(
        select(
            File.puid, func.max(File.format_name), func.count(File.id), func.coalesce(func.sum(File.size), 0)
        )
        .join(Aip, (Aip.id == File.aip_id) & (Aip.current_version == File.version))
        .where(Aip.status.in_(_HELD), File.role == FileRole.ORIGINAL)
        .group_by(File.puid)
    ).all()
    counts: dict[str | None, tuple[str, int, int]] = {}
    for puid, name, files, size in rows:
        key = None if puid in (None, "", UNIDENTIFIED) else str(puid)
        before = counts.get(key, ("", 0, 0))
        counts[key] = (before[0] or str(name or ""), before[1] + int(files), before[2] + int(size))
    if include_unheld:
        for entry in policy.policies():
            counts.setdefault(entry.puid, (entry.name, 0, 0))
    held = [_holding(policy, puid, *value) for puid, value in counts.items()]
    held.sort(key=lambda h: (RISK_ORDER.index(h.risk), -h.bytes, -h.files, h.puid or ""))
    return Holdings(tuple(held))


def _holding(policy: PolicyRegistry, puid: str | None, name: str, files: int, size: int) -> Holding:
    entry = policy.get(puid) if puid is not None else None
    if entry is None:
        return Holding(puid, name, Risk.UNKNOWN, {}, False, files, size, None, None)
    return Holding(
        puid,
        entry.name,
        entry.risk,
        dict(entry.accepted),
        True,
        files,
        size,
        policy.action(entry.puid, Purpose.PRESERVATION),
        policy.action(entry.puid, Purpose.ACCESS),
    )


@dataclass(frozen=True)
class FieldChange:
    """One field a proposed policy changes; actions are compared by fingerprint and shown as
    ``tool → output PUID``. ``before``/``after`` are None where the field is unset or absent."""

    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class PolicyChange:
    """A format whose actions or acceptance a proposed policy changes. ``purposes`` are the
    representations a migration would (re)make for it; ``files``/``bytes`` what it would touch."""

    puid: str
    name: str
    changes: tuple[FieldChange, ...]
    purposes: tuple[Purpose, ...]
    files: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "puid": self.puid,
            "name": self.name,
            "changes": [c.as_dict() for c in self.changes],
            "migrates": [p.value for p in self.purposes],
            "files": self.files,
            "bytes": self.bytes,
        }


def diff(current: PolicyRegistry, proposed: PolicyRegistry, held: Holdings) -> tuple[PolicyChange, ...]:
    """What ``proposed`` changes against ``current``, for every format whose preservation or access
    action or whose acceptance differs (name, risk and OCR changes of those formats are listed too).

    A migration touches a held format for a purpose when the action that applies for it changes
    and the proposed policy still has one (an action removed leaves what was made in place).
    """
    out: list[PolicyChange] = []
    puids = {p.puid for p in current.policies()} | {p.puid for p in proposed.policies()}
    for puid in sorted(puids, key=puid_order):
        changes = _changes(current, proposed, puid)
        if not any(c.field in ("preservation", "access") or c.field.startswith("accepted.") for c in changes):
            continue
        purposes = tuple(
            p
            for p in Purpose
            if proposed.action(puid, p) is not None
            and _fingerprint(current.action(puid, p)) != _fingerprint(proposed.action(puid, p))
        )
        holding = held.get(puid)
        files, size = (holding.files, holding.bytes) if holding and purposes else (0, 0)
        entry = proposed.get(puid) or current.get(puid)
        assert entry is not None
        out.append(PolicyChange(puid, entry.name, tuple(changes), purposes, files, size))
    return tuple(out)


def _changes(current: PolicyRegistry, proposed: PolicyRegistry, puid: str) -> list[FieldChange]:
    before, after = current.get(puid), proposed.get(puid)
    out: list[FieldChange] = []
    for field in ("name", "risk", "media", "ocr", "unacceptable"):
        old = getattr(before, field, None) if before else None
        new = getattr(after, field, None) if after else None
        if old != new:
            out.append(FieldChange(field, _plain(old), _plain(new)))
    for regulation in REGULATIONS:
        old = before.accepted.get(regulation) if before else None
        new = after.accepted.get(regulation) if after else None
        if old != new:
            out.append(FieldChange(f"accepted.{regulation}", old, new))
    for purpose in Purpose:
        old_action = current.action(puid, purpose)
        new_action = proposed.action(puid, purpose)
        if _fingerprint(old_action) != _fingerprint(new_action):
            out.append(FieldChange(purpose.value, _summary(old_action), _summary(new_action)))
    return out


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Risk) else value


def _fingerprint(action: Action | None) -> str | None:
    return action.fingerprint() if action else None


def _summary(action: Action | None) -> str | None:
    if action is None:
        return None
    return f"{action.tool} → {action.output_puid} (.{action.output_extension}) [{action.fingerprint()}]"


def totals(changes: Iterable[PolicyChange]) -> tuple[int, int]:
    """Files and bytes a migration to the proposed policy would touch."""
    items = list(changes)
    return sum(c.files for c in items), sum(c.bytes for c in items)
