"""What an export reads and to whom a transfer goes: the fetched AIP version, the recipient and
decision of a transfer package, and the BagIt form.

:func:`fetch` takes every byte out of storage through :func:`workflows.custody.retrieve.copy_aip`,
which checks each file against the OCFL inventory (SHA-512) and the catalog (SHA-256) into a private
staging folder. A transfer package (``tt05-aip``, ``bagit``) carries every record of the AIP, so
:func:`check_transfer` asks who receives it and, for Mật or listed records, the decision that authorises it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import ErrorKind
from repository.catalog.models import Aip, File
from repository.settings import Settings
from workflows.access.access_rules import Withheld, restricted_content
from workflows.access.dip_writer import StoredFile
from workflows.access.errors import ExportError
from workflows.access.export_zip import tree
from workflows.custody.retrieve import RetrieveError, copy_aip


@dataclass(frozen=True)
class Fetched:
    aip_id: str
    folder: Path
    version: int
    location: str
    objid: str
    package_kind: str
    files: Mapping[str, StoredFile]


@dataclass(frozen=True)
class Transfer:
    """Who a transfer package goes to, under which decision, and the restricted records it carries."""

    recipient: str
    decision: str
    restricted: tuple[Withheld, ...]


def check_transfer(
    sessions: sessionmaker[Session], aip_id: str, recipient: str | None, decision: str | None
) -> Transfer:
    """The recipient of a transfer package, and the decision when the AIP holds restricted records.

    Raises:
        ExportError: ``export.recipient_missing`` (usage), ``export.restricted_content`` (refused:
            Mật or listed records and no ``decision``).
    """
    name = unicodedata.normalize("NFC", (recipient or "").strip())
    number = unicodedata.normalize("NFC", (decision or "").strip())
    if not name:
        raise ExportError(
            "a transfer package (tt05-aip, bagit) needs --recipient: who receives it",
            code="export.recipient_missing",
            kind=ErrorKind.USAGE,
        )
    with sessions() as session:
        restricted = restricted_content(session, aip_id)
    if restricted and not number:
        codes = ", ".join(r.code for r in restricted)
        raise ExportError(
            f"AIP {aip_id} holds {len(restricted)} Mật (03) or restricted record(s): {codes}; "
            "a full transfer needs --decision, the number of the decision authorising it",
            code="export.restricted_content",
            kind=ErrorKind.REFUSED,
            params={"aip_id": aip_id, "count": len(restricted), "codes": codes},
            details=[r.as_dict() for r in restricted],
        )
    return Transfer(name, number, restricted)


def fetch(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip_id: str,
    into: Path,
    version: int | None,
    location: str | None,
) -> Fetched:
    """The version, verified by :func:`copy_aip`, and the catalog's record of every file in it."""
    try:
        fetched = copy_aip(settings, sessions, aip_id, into, version=version, location=location)
    except RetrieveError as exc:
        kind = ErrorKind.NOT_FOUND if exc.code == "catalog.not_found" else ErrorKind.FAILED
        if exc.code == "fetch.no_such_version":
            kind = ErrorKind.USAGE
        raise ExportError(str(exc), code=exc.code, kind=kind, path=exc.path, params=exc.params) from exc
    number = int(fetched["version"])
    with sessions() as session:
        aip = session.get(Aip, aip_id)
        assert aip is not None  # copy_aip found it
        rows = session.scalars(select(File).where(File.aip_id == aip_id, File.version == number)).all()
        files = {
            r.aip_path: StoredFile(
                r.aip_path, r.sha256, r.uuid, r.representation, r.mime, r.derived_from or "", r.role.value
            )
            for r in rows
        }
        objid, package_kind = aip.objid, aip.package_kind
    folder = Path(str(fetched["path"]))
    staged = set(tree(folder))
    if staged != set(files):
        extra, missing = sorted(staged - set(files)), sorted(set(files) - staged)
        raise ExportError(
            f"AIP {aip_id} version {number}: the stored version and the catalog list different files "
            f"(not in the catalog: {extra[:5]}, not stored: {missing[:5]})",
            code="export.catalog_mismatch",
            params={"aip_id": aip_id, "version": number, "extra": extra, "missing": missing},
        )
    return Fetched(aip_id, folder, number, str(fetched["location"]), objid, package_kind, files)


def make_bag(settings: Settings, fetched: Fetched, bag_dir: Path, now: datetime, zone: tzinfo) -> Path:
    """RFC 8493 bag of the package folder (``data/<package folder>/…``) with SHA-256 and SHA-512
    manifests written by bagit-python; its SHA-256 manifest must agree with the catalog.

    bagit-python changes the working directory while it bags: fine for the CLI, not for threads.
    """
    bag_dir.mkdir()
    fetched.folder.rename(bag_dir / fetched.folder.name)
    info = {
        "Source-Organization": settings.archive.name,
        "External-Identifier": fetched.aip_id,
        "External-Description": f"AIP {fetched.objid}, version {fetched.version}",
        "Bagging-Date": now.astimezone(zone).date().isoformat(),
        # Never the AIP's label (a dossier title, maybe of a Mật record): identifiers only.
        "Internal-Sender-Description": f"AIP {fetched.aip_id}, {fetched.package_kind} package",
    }
    bag = bagit.make_bag(
        str(bag_dir), bag_info={k: v for k, v in info.items() if v}, checksums=["sha256", "sha512"]
    )
    entries: Mapping[str, Mapping[str, str]] = bag.entries
    for path, stored in fetched.files.items():
        key = f"data/{fetched.folder.name}/{path}"
        found = entries.get(key, {}).get("sha256")
        if found != stored.sha256:
            raise ExportError(
                f"{key}: the bag manifest says {found}, the catalog {stored.sha256}",
                code="export.digest_mismatch",
                path=key,
                params={"path": key, "expected": stored.sha256, "found": found},
            )
    named = bag_dir.with_name(fetched.folder.name)
    bag_dir.rename(named)
    return named
