"""``/policy``: the format policy as staff read it — what ``kholuu policy check`` and ``policy
show`` print, and what ``policy diff`` would say of this data folder's override against the
shipped policy.

The holdings by format (the current version of every stored AIP, payload files only) with their
risk, TT 05/TT 02 acceptance, action, files and bytes; every PUID links to its effective entry,
each field with where it came from (the shipped file, the override, a default). Read only: the
policy is a data file (``config/format-policy.toml`` and the data folder's override, docs/planning.md),
changed by editing it and checked with ``kholuu policy diff`` before it is put in place; nothing
here writes it. Readers of the holdings only (as the CLI's ``policy`` commands): custody staff
and auditors.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.reports.policy_text import field_lines, holding_actions, holding_name, shown, yes_no
from entrypoints.web.access import FIXITY_READERS, allow
from entrypoints.web.context import context, translator
from entrypoints.web.params import check_language, link
from preservation.planning.model import Purpose
from workflows.planning.policy import (
    RISK_ORDER,
    holdings,
    load_policy,
    override_changes,
    override_path,
    totals,
)

bp = Blueprint("policy", __name__, url_prefix="/policy")
bp.before_request(check_language)

READERS = FIXITY_READERS
"""As ``kholuu policy show|check|diff`` (entrypoints/cli/rules.py READERS)."""


@bp.get("")
@allow(*READERS)
def index() -> str | BaseResponse:
    wanted = request.args.get("puid", "").strip()
    if wanted:  # the "find a format" form
        return redirect(link("policy.entry", puid=wanted))
    settings = context().settings
    include_unheld = request.args.get("all") == "1"
    registry = load_policy(settings)
    with context().sessions() as session:
        held = holdings(session, registry, include_unheld=include_unheld)
        changes = override_changes(settings, holdings(session, registry))
    t = translator()
    rows = [
        {
            "puid": h.puid,
            "in_policy": h.in_policy,
            "name": holding_name(t, h),
            "risk": h.risk.value,
            "tt05": yes_no(t, h.accepted.get("tt05")) if h.in_policy else "—",
            "tt02": yes_no(t, h.accepted.get("tt02")) if h.in_policy else "—",
            "files": h.files,
            "bytes": h.bytes,
            "action": holding_actions(t, h),
        }
        for h in held.rows
    ]
    change_rows = [
        {
            "puid": c.puid,
            "name": c.name,
            "files": c.files,
            "bytes": c.bytes,
            "purposes": ", ".join(t.text(f"policy.purpose.{p.value}") for p in c.purposes),
            "fields": [
                (t.text(f"policy.field.{f.field}"), shown(t, f.before), shown(t, f.after)) for f in c.changes
            ],
        }
        for c in changes
    ]
    by_risk = [
        {
            "risk": risk.value,
            "formats": sum(1 for h in held.rows if h.risk is risk),
            "files": sum(h.files for h in held.rows if h.risk is risk),
            "bytes": sum(h.bytes for h in held.rows if h.risk is risk),
        }
        for risk in RISK_ORDER
    ]
    files, size = totals(changes)
    override = override_path(settings)
    return render_template(
        "policy.html",
        rows=rows,
        by_risk=by_risk,
        total_files=held.files,
        total_bytes=held.bytes,
        include_unheld=include_unheld,
        changes=change_rows,
        change_files=files,
        change_bytes=size,
        shipped=str(registry.files[0]),
        override=str(override) if override else None,
    )


@bp.get("/formats/<path:puid>")
@allow(*READERS)
def entry(puid: str) -> str:
    """One PUID's effective policy, field by field, with the source of each field and the holdings
    of the format."""
    settings = context().settings
    registry = load_policy(settings)
    found, provenance = registry.get(puid), registry.provenance(puid)
    if found is None or provenance is None:
        raise NotFound()
    with context().sessions() as session:
        held = holdings(session, registry).get(found.puid)
    t = translator()
    applies = {p.value: registry.action(found.puid, p) is not None for p in Purpose}
    return render_template(
        "policy_entry.html",
        entry=found,
        lines=field_lines(t, registry, found, provenance),
        fingerprint=registry.fingerprint(found.puid),
        files=held.files if held else 0,
        size=held.bytes if held else 0,
        applies=applies,
    )


__all__ = ["bp"]
