"""Legacy exports into TT 05 packages: NĐ 30/2020 Phụ lục VI / TT 02/2019 XML and spreadsheet mục lục.

Agencies' document systems built to the old rules will send the old shape for years
(vn-standards.md §0, §1.5). We map each export onto the TT 05 model and write one SIP_hoso per hồ sơ
(:func:`preservation.tt05.sip.build_sip`), which then goes through the ordinary ingest, so every
record meets the same element-table checks as an agency's own TT 05 package. Each SIP carries the
original metadata file (``metadata/other/legacy/``) and the mapping report
(``documentation/legacy-mapping.json``: every field that could not be carried over, with its value),
so nothing the agency sent is lost.

A folder counts as a legacy export when its top level holds an NĐ 30 XML or a mục lục spreadsheet
(:func:`preservation.tt05.legacy_nd30.detect_legacy`). Every other file in the folder must be named by a
record: a file no record describes would be left out of every package, so the conversion refuses
and names it instead.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from preservation.errors import InvalidPackageError
from preservation.findings import Severity
from preservation.tt05.legacy_nd30 import detect_legacy, read_nd30
from preservation.tt05.mapping import LegacyImport
from preservation.tt05.model import RecordSet, Unmapped
from preservation.tt05.muc_luc import read_muc_luc
from preservation.tt05.package import check_records
from preservation.tt05.sip import ExtraFile, build_sip
from preservation.tt05.tables import Tables

REPORT_NAME = "legacy-mapping.json"


@dataclass(frozen=True)
class LegacyConversion:
    """The SIPs written for one legacy export, and what could not be carried over."""

    kind: str  # "nd30" | "muc-luc"
    metadata_file: str
    sips: tuple[Path, ...]
    dossier_codes: tuple[str, ...]
    unmapped: tuple[Unmapped, ...]


def top_level_files(folder: Path) -> list[tuple[str, Path]]:
    """Regular files directly in ``folder`` (no links followed: a link could point anywhere)."""
    out: list[tuple[str, Path]] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISREG(st.st_mode):
            out.append((entry.name, Path(entry.path)))
    return out


def payload_files(folder: Path) -> dict[str, Path]:
    """Every regular file under ``folder`` by its relative path (NFC); links and specials refused."""
    files: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode) or not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                raise InvalidPackageError(
                    f"{path.relative_to(folder)} is a link or special file; a legacy export must hold only "
                    "regular files",
                    code="conversion.not_regular",
                    path=str(path.relative_to(folder)),
                )
            if stat.S_ISREG(st.st_mode):
                rel = unicodedata.normalize("NFC", path.relative_to(folder).as_posix())
                files[rel] = path
    return files


def detect(folder: Path) -> tuple[str, Path] | None:
    """("nd30" | "muc-luc", metadata file) when ``folder`` is a legacy export; else None."""
    if not folder.is_dir() or folder.is_symlink():
        return None
    return detect_legacy(top_level_files(folder))


def check_conversion(result: LegacyImport, tables: Tables, *, intake: bool) -> None:
    """Every hồ sơ of the export is checked before any SIP is written: an export is taken whole or
    not at all, never half (a refused hồ sơ found after its neighbours were stored would leave the
    operator to sort out which were)."""
    problems = []
    for dossier in result.dossiers:
        code = dossier.records.package.get("fileCode")
        for f in check_records(dossier.records, tables, intake=intake):
            if f.severity is Severity.ERROR:
                problems.append(
                    {**dict(f.params), "code": f.code, "path": f.where, "message": f.message, "dossier": code}
                )
    if problems:
        raise InvalidPackageError(
            f"{len(problems)} problem(s) in the hồ sơ mapped from the legacy export; nothing was ingested",
            code="conversion.invalid",
            params={"count": len(problems), "problems": problems},
        )


def convert_legacy(
    folder: Path, out: Path, tables: Tables, *, software_version: str | None = None, intake: bool = True
) -> LegacyConversion:
    """Write one TT 05 SIP_hoso per hồ sơ of the legacy export in ``folder`` into ``out``.

    Raises:
        InvalidPackageError: not a legacy export (``conversion.not_legacy``), files no record describes
            (``conversion.orphan_files``), records whose files are missing (``conversion.missing_files``),
            no hồ sơ at all (``conversion.empty``), or hồ sơ that break TT 05 rules (``conversion.invalid``).
    """
    export = _read_export(folder, tables)
    _refuse_incomplete(export)
    check_conversion(export.result, tables, intake=intake)
    out.mkdir(parents=True, exist_ok=True)
    sips: list[Path] = []
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        report = Path(tmp) / REPORT_NAME
        _write_report(report, export)
        for dossier in export.result.dossiers:
            sips.append(_write_sip(dossier.records, export, report, out, tables, software_version))
    return LegacyConversion(
        kind=export.kind,
        metadata_file=export.metadata_name,
        sips=tuple(sips),
        dossier_codes=tuple(d.records.package.get("fileCode") for d in export.result.dossiers),
        unmapped=export.result.unmapped,
    )


@dataclass(frozen=True)
class _Export:
    """A legacy export as read: its kind, its metadata file, its files (NFC path → path) and the
    records mapped onto TT 05."""

    kind: str
    metadata_path: Path
    metadata_name: str
    files: dict[str, Path]
    result: LegacyImport


def _read_export(folder: Path, tables: Tables) -> _Export:
    found = detect(folder)
    if found is None:
        raise InvalidPackageError(
            f"{folder} holds no NĐ 30/2020 XML export and no mục lục spreadsheet",
            code="conversion.not_legacy",
            path=str(folder),
        )
    kind, metadata_path = found
    metadata_name = unicodedata.normalize("NFC", metadata_path.name)
    files = payload_files(folder)
    names = [n for n in files if n != metadata_name]
    reader = read_nd30 if kind == "nd30" else read_muc_luc
    result: LegacyImport = reader(metadata_path, tables, names, where=metadata_name)
    return _Export(kind, metadata_path, metadata_name, files, result)


def _refuse_incomplete(export: _Export) -> None:
    """Records and files must match both ways: no hồ sơ, a file no record names, or a record whose
    file is missing refuses the whole export (a file left out would be lost without a word)."""
    result, metadata_name = export.result, export.metadata_name
    if not result.dossiers:
        raise InvalidPackageError(
            f"{metadata_name} describes no hồ sơ", code="conversion.empty", path=metadata_name
        )
    if result.orphan_files:
        raise InvalidPackageError(
            f"{len(result.orphan_files)} file(s) in the folder are described by no record of "
            f"{metadata_name}: " + ", ".join(result.orphan_files[:20]),
            code="conversion.orphan_files",
            path=metadata_name,
            params={"files": ", ".join(result.orphan_files), "count": len(result.orphan_files)},
        )
    missing = [f for d in result.dossiers for f in d.unmatched_files]
    if missing:
        raise InvalidPackageError(
            f"{len(missing)} record(s) of {metadata_name} name files that are not in the folder: "
            + ", ".join(missing[:20]),
            code="conversion.missing_files",
            path=metadata_name,
            params={"files": ", ".join(missing), "count": len(missing)},
        )


def _write_report(report: Path, export: _Export) -> None:
    """The mapping report every SIP of the export carries: what could not be carried over."""
    report.write_text(
        json.dumps(
            {
                "source": "nd30-xml" if export.kind == "nd30" else "muc-luc",
                "metadata_file": export.metadata_name,
                "unmapped": [
                    {"where": u.where, "field": u.field, "value": u.value, "reason": u.reason}
                    for u in export.result.unmapped
                ],
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


def _write_sip(
    records: RecordSet,
    export: _Export,
    report: Path,
    out: Path,
    tables: Tables,
    software_version: str | None,
) -> Path:
    """One hồ sơ's SIP, with the export's metadata file and the mapping report."""
    data = {
        (doc.representation, name): export.files[unicodedata.normalize("NFC", name)]
        for doc in records.documents
        for name in doc.data_files
    }
    return build_sip(
        records,
        data,
        out,
        tables,
        label=records.package.get("title"),
        software_version=software_version,
        extra=(
            ExtraFile(f"documentation/{REPORT_NAME}", report),
            ExtraFile(f"metadata/other/legacy/{export.metadata_name}", export.metadata_path),
        ),
    )


def remove(conversion: LegacyConversion) -> None:
    for sip in conversion.sips:
        shutil.rmtree(sip, ignore_errors=True)
