"""The format policy in words: the texts ``kholuu policy show|check|diff`` prints and ``/policy``
shows, from one place, so that the command line and the web app say the same thing about a format.
The data is :mod:`workflows.planning.policy`'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from preservation.planning.model import Action, FormatPolicy, Purpose
from preservation.planning.policy import FIELDS, PolicyRegistry, Provenance
from repository.i18n import Translator
from workflows.planning.policy import Holding


def yes_no(t: Translator, value: bool | None) -> str:
    if value is None:
        return "—"
    return t.text("cli.policy.yes" if value else "cli.policy.no")


def action_text(t: Translator, action: Action | None, name: str | None = None) -> str:
    """An action as one line: tool, output format, checks, limits (and its name in ``[actions]``)."""
    if action is None:
        return t.text("cli.policy.no_action")
    text = t.text(
        "cli.policy.action",
        {
            "tool": action.tool,
            "output_puid": action.output_puid,
            "extension": action.output_extension,
            "checks": ", ".join(str(c) for c in action.checks),
            "timeout": f"{action.timeout:g}",
            "memory": action.memory_mb,
        },
    )
    return t.text("cli.policy.named_action", {"name": name, "action": text}) if name else text


def shown(t: Translator, value: Any) -> str:
    """A field's value before or after a change (``policy diff``)."""
    if isinstance(value, bool) or value is None:
        return yes_no(t, value)
    return str(value)


@dataclass(frozen=True)
class FieldLine:
    """One field of a format's effective policy: its label, value and where the value came from
    (``source`` is ``shipped``, ``override`` or ``default``)."""

    field: str
    label: str
    value: str
    source: str
    source_text: str


def field_lines(
    t: Translator, registry: PolicyRegistry, entry: FormatPolicy, provenance: Provenance
) -> list[FieldLine]:
    """Every field of ``entry`` in :data:`FIELDS` order, as ``policy show`` prints it."""
    values: dict[str, str] = {
        "name": entry.name,
        "risk": t.text(f"policy.risk.{entry.risk.value}"),
        "media": entry.media,
        "ocr": yes_no(t, entry.ocr),
        "unacceptable": yes_no(t, entry.unacceptable),
    }
    for regulation, accepted in entry.accepted.items():
        values[f"accepted.{regulation}"] = yes_no(t, accepted)
    for purpose in Purpose:
        action = entry.action(purpose)
        text = action_text(t, action, provenance.actions.get(purpose.value))
        if action is not None and registry.action(entry.puid, purpose) is None:
            text = t.text("cli.policy.not_converted")
        values[purpose.value] = text
    lines = []
    for field in FIELDS:
        source = provenance.sources[field].value
        lines.append(
            FieldLine(field, t.text(f"policy.field.{field}"), values.get(field, "—"), source,
                      t.text(f"policy.source.{source}"))
        )  # fmt: skip
    return lines


def holding_actions(t: Translator, h: Holding) -> str:
    """What the policy does with a held format: its preservation and access actions, or none."""
    actions = [
        t.text(f"cli.policy.purpose_action.{p.value}", {"action": f"{a.tool} → {a.output_puid}"})
        for p, a in ((Purpose.PRESERVATION, h.preservation), (Purpose.ACCESS, h.access))
        if a is not None
    ]
    return "; ".join(actions) or t.text("cli.policy.no_action")


def holding_name(t: Translator, h: Holding) -> str:
    name = h.name if h.in_policy or h.puid is None else f"{h.name} {t.text('cli.policy.not_in_policy')}"
    return name.strip() or "—"


__all__ = ["FieldLine", "action_text", "field_lines", "holding_actions", "holding_name", "shown", "yes_no"]
