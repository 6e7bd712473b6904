"""Copy a stored AIP out of archival storage, verified file by file.

The destination gets ``<out>/<AIP folder>/`` with the package exactly as stored (the OCFL
version's logical state); every file's SHA-512 is checked against the OCFL inventory while it is
written and, for the version the catalog describes, its SHA-256 against the catalog too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.aip import folder_name
from preservation.errors import KholuuError
from repository.catalog.models import Aip, CopyStatus
from repository.settings import Settings
from repository.storage.errors import StorageError
from repository.storage.locations import open_locations


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
        copies = [c for c in aip.copies if c.status is CopyStatus.STORED and c.version >= wanted]
        expected = {f.aip_path: f.sha256 for f in aip.files if f.version == wanted}
        objid = aip.objid
    configured = {loc.name: loc for loc in open_locations(settings)}
    holding = {c.location for c in copies}
    names = [location] if location else [n for n in configured if n in holding]  # in configured order
    candidates = [configured[n] for n in names if n in configured]
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
    tried: list[str] = []
    for loc in candidates:
        try:
            digests = loc.store.export_version(aip_id, destination, version=wanted)
        except StorageError as exc:  # down, or this copy is damaged: the next copy may be good
            tried.append(f"{loc.name}: {exc}")
            continue
        for path, sha256 in expected.items():
            got = digests.get(path)
            if got is None or got.sha256 != sha256:
                raise RetrieveError(
                    f"{path}: fetched copy does not match the catalog",
                    code="fetch.mismatch",
                    path=path,
                    params={"path": path, "expected": sha256, "found": got.sha256 if got else None},
                )
        break
    else:
        raise RetrieveError(
            f"no copy of AIP {aip_id} could be read: " + "; ".join(tried),
            code="fetch.all_copies_failed",
            params={"aip_id": aip_id, "problems": "; ".join(tried)},
        )
    return {
        "aip_id": aip_id,
        "version": wanted,
        "location": loc.name,
        "path": str(destination),
        "files": len(digests),
        "bytes": sum(d.size for d in digests.values()),
    }
