"""The versions of one AIP, what each changed and why (``kholuu aip history``).

Every version of an AIP stays in storage as it was written (OCFL); the catalog keeps a file row per
file per version, so what a version changed is the difference between its rows and the previous
version's, per representation (its folder ``representations/<rep>/``; ``package`` for the rest):

* ``added`` / ``removed``: a path only the newer / only the older version holds;
* ``replaced``: a copy dropped and a copy of the same source (``derived_from``) made in its place,
  or a payload file whose bytes differ at the same path;
* ``modified``: a METS, PREMIS or other package file rewritten.

The job that made a version is the one whose ``replication`` events wrote it (``detail_params``
``version``); version 1 falls back to the AIP's ingest job. That job's events say why: the
``migration`` events with their tool, a ``metadata modification`` with its reason, the ingest's
own. Per-file events of identification and validation are left out (``kholuu job show`` has them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from repository.catalog import store
from repository.catalog.models import Aip, Event, File, FileRole, Job
from repository.catalog.queries import NotFoundError, event_dict

__all__ = ["aip_history", "version_changes"]

PACKAGE = "package"
#: Events that say why a version was made, shown even though they name files rather than the AIP.
WHY_EVENTS = frozenset({"migration", "normalization", "metadata modification"})
_WRITTEN = ("storage.written", "storage.queued")


def aip_history(session: Session, aip_id: str) -> dict[str, Any]:
    """Every version of the AIP, oldest first: number, date, message, its job and workflow, what
    it changed against the version before, and the events of its job (see the module docstring).

    Raises:
        NotFoundError: no AIP ``aip_id``.
    """
    aip = session.get(Aip, aip_id, options=[selectinload(Aip.versions), selectinload(Aip.files)])
    if aip is None:
        raise NotFoundError("AIP", aip_id)
    by_version: dict[int, list[File]] = {}
    for f in aip.files:
        by_version.setdefault(f.version, []).append(f)
    jobs = _jobs_of_versions(session, aip)
    versions = []
    for v in aip.versions:
        job_id = jobs.get(v.number)
        job = session.get(Job, job_id) if job_id else None
        versions.append(
            {
                "number": v.number,
                "created_at": v.created_at.isoformat(),
                "message": v.message,
                "current": v.number == aip.current_version,
                "job_id": job_id,
                "workflow": job.kind if job is not None else None,
                "files": len(by_version.get(v.number, [])),
                "changes": version_changes(by_version.get(v.number - 1, []), by_version.get(v.number, []))
                if v.number > 1
                else {},
                "events": [event_dict(e) for e in _why(session, job_id, aip.id)] if job_id else [],
            }
        )
    return {
        "aip_id": aip.id,
        "label": aip.label,
        "current_version": aip.current_version,
        "versions": versions,
    }


def _jobs_of_versions(session: Session, aip: Aip) -> dict[int, str]:
    """Version number -> the job whose replication events wrote it."""
    out: dict[int, str] = {}
    rows = session.scalars(
        select(Event).where(Event.aip_id == aip.id, Event.detail_code.in_(_WRITTEN)).order_by(Event.datetime)
    )
    for row in rows:
        number = (row.detail_params or {}).get("version")
        if row.job_id and isinstance(number, int | str) and str(number).isdigit():
            out.setdefault(int(number), row.job_id)
    out.setdefault(1, aip.job_id)
    return out


def _why(session: Session, job_id: str, aip_id: str) -> list[Event]:
    return [
        e
        for e in store.events_for_job(session, job_id)
        if e.type in WHY_EVENTS or aip_id in {o.identifier for o in e.objects}
    ]


def version_changes(older: Sequence[File], newer: Sequence[File]) -> dict[str, dict[str, list[Any]]]:
    """What ``newer`` changed against ``older``, per representation (see the module docstring);
    representations without a change are left out."""
    before = {f.aip_path: f for f in older}
    after = {f.aip_path: f for f in newer}
    out: dict[str, dict[str, list[Any]]] = {}

    def group(f: File) -> dict[str, list[Any]]:
        parts = f.aip_path.split("/")
        rep = parts[1] if len(parts) > 2 and parts[0] == "representations" else PACKAGE
        return out.setdefault(rep, {"added": [], "removed": [], "replaced": [], "modified": []})

    removed = [before[p] for p in sorted(set(before) - set(after))]
    added = [after[p] for p in sorted(set(after) - set(before))]
    for old, new in _pairs(removed, added):
        group(new)["replaced"].append({"old": old.aip_path, "new": new.aip_path})
        removed.remove(old)
        added.remove(new)
    for f in added:
        group(f)["added"].append(f.aip_path)
    for f in removed:
        group(f)["removed"].append(f.aip_path)
    for path in sorted(set(before) & set(after)):
        old, new = before[path], after[path]
        if old.sha256 == new.sha256:
            continue
        if new.role in (FileRole.ORIGINAL, FileRole.DERIVATIVE):
            group(new)["replaced"].append({"old": path, "new": path})
        else:
            group(new)["modified"].append(path)
    return out


def _pairs(removed: Iterable[File], added: Iterable[File]) -> list[tuple[File, File]]:
    """A dropped copy and a new copy of the same source in the same representation."""
    sources = {(f.representation, f.derived_from): f for f in added if f.derived_from}
    pairs = []
    for old in removed:
        new = sources.pop((old.representation, old.derived_from), None) if old.derived_from else None
        if new is not None:
            pairs.append((old, new))
    return pairs
