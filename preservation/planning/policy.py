"""The format policy registry: what the archive does with each format, read from data files.

The policy is data (style guide item 5): ``config/planning/formats.toml`` ships with the program and
an optional override in the data folder changes it field by field, adds formats and actions, and
survives upgrades. Both files have one shape (the shipped file's header documents it). Loading is
strict: an unknown key, a wrong type, an unknown tool or check, a malformed PUID or a reference to
an action nobody defined raises :class:`PolicyError` naming the file, the entry (PUID, action or
``parameters``) and the field, because a misspelt policy that is silently ignored converts, or fails
to convert, a whole holding.

The regulations: ``accepted`` says whether a format may be kept as the preservation master under
Thông tư 05/2025/TT-BNV (``tt05``, in force since 01/7/2025) and Thông tư 02/2019/TT-BNV (``tt02``,
which TT 05 repealed). TT 05 governs: a format accepted under it is not converted for preservation,
so an entry that is accepted under TT 05 and names a preservation action is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from preservation.planning.model import Action, FormatPolicy, Purpose, Risk
from preservation.planning.parameters import TechnicalParameters
from preservation.planning.policy_file import (
    DEFAULT_FILE,
    FIELDS,
    GOVERNING,
    MEDIA,
    NO_ACTION,
    PUID,
    REGULATIONS,
    TOOLS,
    Layer,
    PolicyError,
    Source,
    parse_file,
    puid_order,
)

__all__ = [
    "DEFAULT_FILE",
    "FIELDS",
    "GOVERNING",
    "MEDIA",
    "NO_ACTION",
    "PUID",
    "REGULATIONS",
    "TOOLS",
    "PolicyError",
    "PolicyRegistry",
    "Provenance",
    "Source",
    "TechnicalParameters",
    "puid_order",
]


@dataclass(frozen=True)
class Provenance:
    """Where each field of one effective format policy came from: ``sources`` maps every name in
    :data:`FIELDS` to a :class:`Source`; ``actions`` maps ``preservation``/``access`` to the name of
    the action the entry refers to (absent for an inline action or none)."""

    sources: Mapping[str, Source]
    actions: Mapping[str, str]


@dataclass(frozen=True)
class _Value:
    value: Any
    source: Source
    file: Path


class PolicyRegistry:
    """The effective format policy: the shipped file with the override laid over it.

    Build it with :meth:`load`. ``get`` answers for one PUID, ``policies`` lists every entry,
    ``fingerprint`` changes when what the archive does with a format changes, ``parameters`` are the
    TT 05 technical parameters, ``provenance`` says which file each field came from.
    """

    def __init__(self, layers: Iterable[Layer]) -> None:
        self._layers = tuple(layers)
        self._parameters = _merge_parameters(self._layers)
        self._actions: dict[str, _Value] = {}
        fields_by_puid: dict[str, dict[str, _Value]] = {}
        for layer in self._layers:
            for name, action in layer.actions.items():
                self._actions[name] = _Value(action, layer.source, layer.path)
            for puid, values in layer.formats.items():
                target = fields_by_puid.setdefault(puid, {})
                for key, value in values.items():
                    target[key] = _Value(value, layer.source, layer.path)
        self._policies: dict[str, FormatPolicy] = {}
        self._provenance: dict[str, Provenance] = {}
        for puid in sorted(fields_by_puid, key=puid_order):
            policy, provenance = self._resolve(puid, fields_by_puid[puid])
            self._policies[puid] = policy
            self._provenance[puid] = provenance

    @classmethod
    def load(cls, shipped: Path = DEFAULT_FILE, override: Path | None = None) -> PolicyRegistry:
        """Read ``shipped`` and, when given, ``override`` (which must exist).

        Raises:
            PolicyError: a file cannot be read, is not TOML, or breaks a rule; the error names
                the file, the entry and the field.
        """
        layers = [parse_file(shipped, Source.SHIPPED)]
        if override is not None:
            layers.append(parse_file(override, Source.OVERRIDE))
        return cls(layers)

    @property
    def files(self) -> tuple[Path, ...]:
        """The files read, shipped first."""
        return tuple(layer.path for layer in self._layers)

    @property
    def parameters(self) -> TechnicalParameters:
        return self._parameters

    def parameter_sources(self) -> dict[str, Source]:
        """Where each technical parameter came from."""
        out = {f.name: Source.DEFAULT for f in fields(TechnicalParameters)}
        for layer in self._layers:
            out.update({key: layer.source for key in layer.parameters})
        return out

    def get(self, puid: str) -> FormatPolicy | None:
        return self._policies.get(puid)

    def policies(self) -> tuple[FormatPolicy, ...]:
        """Every entry, in PUID order (``fmt/`` before ``x-fmt/``, by number)."""
        return tuple(self._policies.values())

    def provenance(self, puid: str) -> Provenance | None:
        return self._provenance.get(puid)

    def action(self, puid: str, purpose: Purpose) -> Action | None:
        """The action that applies to ``puid`` for ``purpose``: none for a format the archive does
        not know, and never a preservation action for a format accepted under TT 05."""
        policy = self._policies.get(puid)
        if policy is None:
            return None
        if purpose is Purpose.PRESERVATION and policy.accepted.get(GOVERNING, False):
            return None
        return policy.action(purpose)

    def fingerprint(self, puid: str) -> str | None:
        """A digest that changes when what the archive does with ``puid`` changes: acceptance, either
        action (through :meth:`Action.fingerprint`), OCR, media or ``unacceptable``. A new name or
        risk does not change it (neither changes a file). None for a PUID without a policy."""
        policy = self._policies.get(puid)
        if policy is None:
            return None
        blob = {
            "accepted": dict(sorted(policy.accepted.items())),
            "media": policy.media,
            "ocr": policy.ocr,
            "unacceptable": policy.unacceptable,
            "preservation": policy.preservation.fingerprint() if policy.preservation else None,
            "access": policy.access.fingerprint() if policy.access else None,
        }
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]

    def _resolve(self, puid: str, values: Mapping[str, _Value]) -> tuple[FormatPolicy, Provenance]:
        sources = {key: values[key].source if key in values else Source.DEFAULT for key in FIELDS}
        names: dict[str, str] = {}
        actions: dict[str, Action | None] = {}
        for purpose in Purpose:
            ref = values.get(purpose.value)
            actions[purpose.value] = None
            if ref is None or ref.value == NO_ACTION:
                continue
            if isinstance(ref.value, Action):
                actions[purpose.value] = ref.value
                continue
            defined = self._actions.get(ref.value)
            if defined is None:
                raise PolicyError(
                    f"no action named {ref.value!r}",
                    file=ref.file,
                    entry=puid,
                    field=purpose.value,
                    code="policy.unknown_action",
                    params={"value": ref.value},
                )
            names[purpose.value] = ref.value
            actions[purpose.value] = defined.value
            if defined.source is Source.OVERRIDE:
                sources[purpose.value] = Source.OVERRIDE
        name = values.get("name")
        if name is None:
            first = next(x.path for x in self._layers if puid in x.formats)
            raise PolicyError(
                "a format needs a name", file=first, entry=puid, field="name", code="policy.missing_field"
            )
        accepted = {r: values[f"accepted.{r}"].value for r in REGULATIONS if f"accepted.{r}" in values}
        policy = FormatPolicy(
            puid=puid,
            name=name.value,
            risk=Risk(values["risk"].value) if "risk" in values else Risk.UNKNOWN,
            media=values["media"].value if "media" in values else "other",
            accepted=accepted,
            preservation=actions["preservation"],
            access=actions["access"],
            ocr=values["ocr"].value if "ocr" in values else False,
            unacceptable=values["unacceptable"].value if "unacceptable" in values else False,
        )
        if policy.accepted.get(GOVERNING) and policy.preservation is not None:
            blamed = max(
                (values[k] for k in ("preservation", f"accepted.{GOVERNING}")),
                key=lambda v: v.source != Source.SHIPPED,
            )
            raise PolicyError(
                "accepted under TT 05, so not converted for preservation: remove the preservation action"
                " or set accepted.tt05 = false",
                file=blamed.file,
                entry=puid,
                field="preservation",
                code="policy.accepted_with_action",
            )
        return policy, Provenance(sources=sources, actions=names)


def _merge_parameters(layers: Iterable[Layer]) -> TechnicalParameters:
    merged: dict[str, int] = {}
    for layer in layers:
        merged.update(layer.parameters)
    return TechnicalParameters(**merged)
