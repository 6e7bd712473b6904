"""A legacy export ingested: NĐ 30/2020 XML or a mục lục spreadsheet, one AIP per hồ sơ.

The export is converted to one TT 05 SIP_hoso per hồ sơ (:func:`workflows.ingest.legacy.convert_legacy`,
which takes an export whole or not at all), then each SIP goes through the ordinary ingest
(:func:`workflows.ingest.pipeline.ingest`) with the export it came from recorded. The command line
and the web app both run it; neither prints from here: what happened is returned as data, and a
caller that shows progress as it goes is told through a :class:`LegacyObserver`.

A hồ sơ that is refused or fails does not stop the others (each is its own AIP and its own job);
the result lists every one, and :attr:`LegacyIngest.failed` says which were not stored.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from preservation.tt05.model import Unmapped
from preservation.tt05.tables import shipped_tables as tt05_tables
from repository import __version__
from repository.catalog.models import JobStatus
from repository.settings import Settings
from workflows.ingest.errors import IngestRequestError
from workflows.ingest.legacy import LegacyConversion, convert_legacy
from workflows.ingest.pipeline import IngestOptions, IngestResult, ingest
from workflows.jobs.runner import Progress


@dataclass(frozen=True)
class ConvertedExport:
    """What the conversion made of the export, before any hồ sơ is ingested.

    Attributes:
        kind: ``nd30`` (NĐ 30/2020 Phụ lục VI / TT 02/2019 XML) or ``muc-luc`` (spreadsheet).
        metadata_file: the export's metadata file, as named in the folder.
        dossier_codes: the mã hồ sơ of each SIP written, in the export's order.
        unmapped: every field that could not be carried onto TT 05 (kept in each package's
            ``documentation/legacy-mapping.json``).
    """

    kind: str
    metadata_file: str
    dossier_codes: tuple[str, ...]
    unmapped: tuple[Unmapped, ...]


@dataclass(frozen=True)
class DossierIngest:
    """One hồ sơ of the export and the ingest of its SIP."""

    dossier: str
    result: IngestResult

    @property
    def stored(self) -> bool:
        return self.result.status is JobStatus.COMPLETED


@dataclass(frozen=True)
class LegacyIngest:
    """The export converted and every hồ sơ's ingest, in the export's order."""

    export: ConvertedExport
    dossiers: tuple[DossierIngest, ...]

    @property
    def failed(self) -> tuple[DossierIngest, ...]:
        """The hồ sơ that were not stored (refused, failed): the export is not done until none are."""
        return tuple(d for d in self.dossiers if not d.stored)


class LegacyObserver(Protocol):
    """Told what happens as it happens: an export of many hồ sơ takes many ingests, and an
    operator who sees nothing until the end assumes a stall."""

    def converted(self, export: ConvertedExport) -> None:
        """The export was converted and the request fits it; the ingests start."""

    def ingested(self, dossier: DossierIngest) -> None:
        """One hồ sơ's ingest ended (stored, or not: see :attr:`DossierIngest.stored`)."""


def ingest_legacy(
    settings: Settings,
    sessions: sessionmaker[Session],
    path: Path,
    options: IngestOptions,
    *,
    observer: LegacyObserver | None = None,
    progress: Progress | None = None,
) -> LegacyIngest:
    """Convert the legacy export in the folder ``path`` and ingest each hồ sơ with ``options``.

    The SIPs are written under ``settings.conversion_dir`` and removed when this returns or
    raises. A transfer (``options.transfer_id``) tracks one package and ``options.supersedes``
    names the AIP of one hồ sơ, so an export of several is refused with either, before any
    ingest.

    Args:
        options: as for one ingest (:func:`workflows.ingest.preflight.checked_options`); each
            SIP's ``converted_from`` is set here.
        observer: told of the conversion and of each hồ sơ's ingest as they end.
        progress: per-file progress of each ingest.

    Returns:
        Every hồ sơ's ingest; see :attr:`LegacyIngest.failed`.

    Raises:
        InvalidPackageError: the export cannot be converted (``conversion.*``: not an export,
            files no record describes or missing, no hồ sơ, hồ sơ breaking TT 05 rules; the last
            lists each problem in ``params["problems"]``). Nothing was ingested.
        IngestRequestError: ``conversion.transfer_many``, ``conversion.supersedes_many``.
    """
    out = settings.conversion_dir / str(uuid.uuid4())
    try:
        conversion = convert_legacy(
            path,
            out,
            tt05_tables(),
            software_version=__version__,
            intake=settings.records.intake_only_permanent,
        )
        _check_request(conversion, options)
        export = ConvertedExport(
            conversion.kind, conversion.metadata_file, conversion.dossier_codes, conversion.unmapped
        )
        if observer is not None:
            observer.converted(export)
        done = []
        for code, sip in zip(conversion.dossier_codes, conversion.sips, strict=True):
            origin = f"{path.resolve()} ({conversion.metadata_file}, {code})"
            sip_options = dataclasses.replace(options, converted_from=origin)
            one = DossierIngest(code, ingest(settings, sessions, sip, options=sip_options, progress=progress))
            done.append(one)
            if observer is not None:
                observer.ingested(one)
        return LegacyIngest(export, tuple(done))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _check_request(conversion: LegacyConversion, options: IngestOptions) -> None:
    """One package per transfer, one hồ sơ per ``--supersedes``: checked after the conversion
    (an export that cannot be converted says so first) and before any ingest."""
    count = len(conversion.sips)
    if options.transfer_id and count > 1:
        raise IngestRequestError(
            "conversion.transfer_many",
            "a transfer tracks one package; this export holds several hồ sơ",
            params={"count": count, "transfer": options.transfer_id},
        )
    if options.supersedes and count > 1:
        raise IngestRequestError(
            "conversion.supersedes_many",
            "--supersedes names the AIP of one hồ sơ; this export holds several",
            params={"count": count, "aip_id": options.supersedes},
        )


__all__ = ["ConvertedExport", "DossierIngest", "LegacyIngest", "LegacyObserver", "ingest_legacy"]
