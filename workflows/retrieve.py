"""Copy a stored AIP out of archival storage, verified file by file.

The destination gets ``<out>/<AIP folder>/`` with the package exactly as stored (the OCFL
version's logical state); every file's SHA-512 is checked against the OCFL inventory while it is
written and its SHA-256 against the catalog too; a copy that fails either is skipped for the next
location's (:meth:`repository.storage.copyset.CopySet.read_verified`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.aip import folder_name
from preservation.errors import KholuuError
from repository.catalog.models import Aip, CopyStatus
from repository.settings import Settings
from repository.storage.copyset import CopySet, NoGoodCopy


class RetrieveError(KholuuError):
    """No verified copy of the AIP could be copied out (``code`` says why); nothing was left at the
    target."""

    code = "fetch.failed"


def fetch_aip(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip_id: str,
    out: Path,
    *,
    version: int | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    with sessions() as session:
        aip = session.get(Aip, aip_id, options=[selectinload(Aip.files), selectinload(Aip.copies)])
        if aip is None:
            raise RetrieveError(
                f"no AIP {aip_id}", code="catalog.not_found", params={"kind": "AIP", "id": aip_id}
            )
        wanted = version or aip.current_version
        if wanted < 1 or wanted > aip.current_version:
            raise RetrieveError(
                f"AIP {aip_id} has versions 1 to {aip.current_version}, not {wanted}",
                code="fetch.no_such_version",
                params={"aip_id": aip_id, "version": wanted, "latest": aip.current_version},
            )
        holding = [c.location for c in aip.copies if c.status is CopyStatus.STORED and c.version >= wanted]
        expected = {f.aip_path: f.sha256 for f in aip.files if f.version == wanted}
        objid = aip.objid
    copies = CopySet.of(settings, aip_id)
    configured = [loc.name for loc in copies.locations]
    names = [location] if location else [n for n in configured if n in holding]  # in configured order
    candidates = [n for n in names if n in configured]
    if not candidates:
        raise RetrieveError(
            f"no reachable location holds AIP {aip_id}" + (f" (asked for {location!r})" if location else ""),
            code="fetch.no_location",
            params={"aip_id": aip_id, "location": location},
        )
    destination = out / folder_name(objid)
    if destination.exists() and any(destination.iterdir()):
        raise RetrieveError(
            f"{destination} already exists and is not empty",
            code="fetch.destination_exists",
            path=str(destination),
            params={"path": str(destination)},
        )
    try:
        read_from, digests = copies.read_verified(
            destination, version=wanted, expected=expected, holders=candidates
        )
    except NoGoodCopy as exc:
        raise RetrieveError(
            str(exc),
            code="fetch.all_copies_failed",
            params={"aip_id": aip_id, "problems": exc.params["problems"]},
        ) from exc
    return {
        "aip_id": aip_id,
        "version": wanted,
        "location": read_from,
        "path": str(destination),
        "files": len(digests),
        "bytes": sum(d.size for d in digests.values()),
    }
