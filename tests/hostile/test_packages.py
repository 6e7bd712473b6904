"""Damaged BagIt bags, E-ARK SIPs (METS) and TT 05 packages (EAD), one case per code the readers
and validators know, checked at the package reader: received into quarantine, read, supplied
checksums verified and, for TT 05, every description checked, as ingest does before it builds
anything. The first error is the refusal; a warning is recorded and the package read.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import bagit
import pytest

from preservation.errors import KholuuError
from preservation.findings import Severity
from preservation.quarantine import receive
from preservation.safepath import UnpackLimits
from preservation.submission import read_submission
from preservation.supplied import raise_on_mismatch, verify_supplied
from preservation.tt05.model import doc_code
from preservation.tt05.package import read_records
from preservation.tt05.tables import shipped_tables
from tests.conftest import ROOT
from tests.hostile.corpus import Case, Outcome
from tests.tt05 import DATA, FILE_CODE, ORGAN_ID, dossier_records, replace_file, write_sip

MINIMAL_EARK = ROOT / "tests" / "data" / "eark-sip" / "minimal"
CASES: list[Case] = []


def _case(
    id: str, kind: str, build: Callable[[Path], Path], code: str, outcome: Outcome = Outcome.REFUSED
) -> None:
    CASES.append(Case(id, kind, build, code, outcome))


# ------------------------------------------------------------------------------------------ BagIt

BAG = "BagIt damage"


def _bag(damage: Callable[[Path], None]) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        root = d / "bag"
        (root / "ho-so").mkdir(parents=True)
        (root / "ho-so" / "Quyết định.txt").write_text("Quyết định số 1", encoding="utf-8")
        (root / "bao-cao.txt").write_text("Báo cáo", encoding="utf-8")
        bagit.make_bag(str(root), {"Source-Organization": "UBND"}, checksums=["sha256"])
        damage(root)
        return root

    return build


def _edit(name: str, old: str, new: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        path = root / name
        path.write_bytes(path.read_bytes().replace(old.encode(), new.encode()))

    return damage


def _manifest_line(line: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        with (root / "manifest-sha256.txt").open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    return damage


def _first_manifest_line(root: Path) -> str:
    return (root / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()[0]


_case("bag-no-declaration", BAG, _bag(lambda r: (r / "bagit.txt").unlink()), "bag.missing_declaration")
_case(
    "bag-bad-version",
    BAG,
    _bag(_edit("bagit.txt", "BagIt-Version: 0.97", "BagIt-Version: 9.x")),
    "bag.invalid_declaration",
)
_case(
    "bag-bom-in-declaration",
    BAG,
    _bag(lambda r: (r / "bagit.txt").write_bytes(b"\xef\xbb\xbf" + (r / "bagit.txt").read_bytes())),
    "bag.invalid_declaration",
)
_case(
    "bag-declaration-utf16",
    BAG,
    _bag(lambda r: (r / "bagit.txt").write_bytes((r / "bagit.txt").read_text().encode("utf-16"))),
    "bag.invalid_declaration",
)
_case(
    "bag-payload-changed",
    BAG,
    _bag(lambda r: (r / "data" / "bao-cao.txt").write_text("sửa", encoding="utf-8")),
    "bag.checksum_mismatch",
)
_case("bag-payload-missing", BAG, _bag(lambda r: (r / "data" / "bao-cao.txt").unlink()), "bag.missing_file")
_case(
    "bag-payload-extra",
    BAG,
    _bag(lambda r: (r / "data" / "them.txt").write_text("thêm", encoding="utf-8")),
    "bag.unexpected_file",
)
_case(
    "bag-manifest-climbs", BAG, _bag(_manifest_line("0" * 64 + "  data/../../etc/passwd")), "bag.unsafe_path"
)
_case("bag-manifest-absolute", BAG, _bag(_manifest_line("0" * 64 + "  /etc/passwd")), "bag.unsafe_path")
_case(
    "bag-manifest-duplicate-entry",
    BAG,
    _bag(lambda r: _manifest_line("f" * 64 + "  " + _first_manifest_line(r).split("  ", 1)[1])(r)),
    "bag.duplicate_manifest_entry",
)
_case(
    "bag-oxum-wrong",
    BAG,
    _bag(lambda r: _untagged(r, "Payload-Oxum: ", "Payload-Oxum: 9")),
    "bag.oxum_mismatch",
)
_case(
    "bag-fetch-file",
    BAG,
    _bag(lambda r: (r / "fetch.txt").write_text("http://127.0.0.1:9/x 10 data/x.txt\n")),
    "bag.fetch_not_supported",
)
_case(
    "bag-tag-file-changed",
    BAG,
    _bag(lambda r: (r / "bag-info.txt").write_text((r / "bag-info.txt").read_text() + "Extra: x\n")),
    "bag.checksum_mismatch",
)
_case("bag-manifest-line-of-words", BAG, _bag(_manifest_line("not a manifest line")), "bag.missing_file")
_case(
    "bag-manifest-line-without-path",
    BAG,
    _bag(lambda r: _manifest_line("0" * 64)(r) or (r / "tagmanifest-sha256.txt").unlink()),
    "bag.invalid",
)
_case(  # found by the fuzz run: bagit-python raised ValueError
    "bag-manifest-path-with-nul", BAG, _bag(_manifest_line("0" * 64 + "  data/a\x00b.txt")), "bag.invalid"
)
_case(
    "bag-info-windows-1258",
    BAG,
    _bag(lambda r: _untagged(r, "Source-Organization: UBND", "Source-Organization: UBND t\xecnh")),
    "bag.invalid",
)
_case(
    "bag-no-payload",
    BAG,
    _bag(lambda r: [p.unlink() for p in (r / "data").rglob("*.txt")] and _clear_manifest(r)),
    "package.no_payload",
)


def _untagged(root: Path, old: str, new: str) -> None:
    """Edit bag-info.txt (bytes, so that a legacy encoding can be written) and drop the tag
    manifest, so that the edit itself is what the reader meets."""
    path = root / "bag-info.txt"
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode("latin-1")))
    (root / "tagmanifest-sha256.txt").unlink()


def _clear_manifest(root: Path) -> None:
    (root / "manifest-sha256.txt").write_text("")
    (root / "bag-info.txt").write_text(
        "\n".join(
            line
            for line in (root / "bag-info.txt").read_text().splitlines()
            if not line.startswith("Payload-Oxum")
        )
        + "\n"
    )
    (root / "tagmanifest-sha256.txt").unlink()


# -------------------------------------------------------------------------------------- E-ARK METS

EARK = "METS (E-ARK SIP) damage"


def _eark(damage: Callable[[Path], None]) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        root = d / "sip"
        shutil.copytree(MINIMAL_EARK, root)
        damage(root)
        return root

    return build


def _mets_edit(old: str, new: str, rel: str = "METS.xml") -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return damage


_case(
    "mets-not-well-formed",
    EARK,
    _eark(lambda r: (r / "METS.xml").write_text("<mets><unclosed></mets>")),
    "eark.mets_not_well_formed",
)
_case(
    "mets-truncated",
    EARK,
    _eark(lambda r: (r / "METS.xml").write_bytes((r / "METS.xml").read_bytes()[:700])),
    "eark.mets_not_well_formed",
)
_case(
    "mets-referenced-file-missing",
    EARK,
    _eark(lambda r: (r / "metadata" / "descriptive" / "dc.xml").unlink()),
    "eark.missing_file",
)
_case(
    "mets-href-climbs",
    EARK,
    _eark(_mets_edit('xlink:href="./metadata/descriptive/dc.xml"', 'xlink:href="../../../etc/passwd"')),
    "eark.href_escapes",
)
_case(
    "mets-href-absolute",
    EARK,
    _eark(_mets_edit('xlink:href="./metadata/descriptive/dc.xml"', 'xlink:href="/etc/passwd"')),
    "eark.href_escapes",
)
_case(
    "mets-href-file-url",
    EARK,
    _eark(_mets_edit('xlink:href="./metadata/descriptive/dc.xml"', 'xlink:href="file:///etc/passwd"')),
    "eark.href_escapes",
)
_case(
    "mets-unreferenced-file",
    EARK,
    _eark(lambda r: (r / "representations" / "rep1" / "data" / "la.txt").write_text("lạ", encoding="utf-8")),
    "eark.unreferenced_file",
    Outcome.WARNED,
)
_case(
    "mets-unknown-checksum-type",
    EARK,
    _eark(_mets_edit('CHECKSUMTYPE="SHA-256"', 'CHECKSUMTYPE="CRC-7"')),
    "eark.unsupported_checksum_type",
    Outcome.WARNED,
)
_case(
    "mets-not-csip",
    EARK,
    _eark(_mets_edit('csip:OAISPACKAGETYPE="SIP"', "")),
    "eark.not_csip",
)
_case(
    "mets-payload-edited",
    EARK,
    _eark(
        lambda r: (r / "representations" / "rep1" / "data" / "phu-luc" / "danh-sach.txt").write_text(
            "sửa", encoding="utf-8"
        )
    ),
    "fixity.supplied_mismatch",
)
_case(
    "mets-representation-mets-missing",
    EARK,
    _eark(lambda r: (r / "representations" / "rep1" / "METS.xml").unlink()),
    "eark.missing_file",
)

# --------------------------------------------------------------------------------------- TT 05

TT05 = "TT 05 (EAD) damage"
Pkg = dict[str, str | None]
Docs = dict[int, dict[str, str | None]]


def _tt05(
    package: Pkg | None = None, documents: Docs | None = None, after: Callable[[Path], None] | None = None
) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        tables = shipped_tables()
        fixed = {k: v for k, v in (package or {}).items() if k in ("fileCode", "totalDoc")}
        rest = {k: v for k, v in (package or {}).items() if k not in fixed}
        records = dossier_records(tables, list(DATA), package=rest, documents=documents)
        if fixed:
            values = {**records.package.values, **{k: v for k, v in fixed.items() if v is not None}}
            records = replace(records, package=replace(records.package, values=values))
        sip = write_sip(d, tables, records, dict(DATA))
        if after is not None:
            after(sip)
        return sip

    return build


def _ead(rel: str, edit: Callable[[str], str]) -> Callable[[Path], None]:
    def damage(sip: Path) -> None:
        text = (sip / rel).read_text(encoding="utf-8")
        replace_file(sip, rel, edit(text).encode("utf-8"))

    return damage


PKG_EAD = "metadata/descriptive/EAD.xml"
_tt05_values: list[tuple[str, Pkg | None, Docs | None, str]] = [
    ("title-missing", {"title": None}, None, "tt05.mandatory"),
    ("title-too-long", {"title": "Hồ sơ " * 300}, None, "tt05.too_long"),
    ("total-not-a-number", {"totalDoc": "ba"}, None, "tt05.not_number"),
    ("risk-recovery-not-boolean", {"riskRecovery": "có"}, None, "tt05.not_boolean"),
    ("start-date-impossible", {"startDate": "31/02/2024"}, None, "tt05.bad_date"),
    ("dates-reversed", {"startDate": "31/12/2024", "endDate": "01/01/2024"}, None, "tt05.date_order"),
    ("language-not-in-code-list", {"language": "99"}, None, "tt05.bad_code"),
    (
        "risk-status-missing-when-required",
        {"riskRecovery": "1", "riskRecoveryStatus": None},
        None,
        "tt05.conditional",
    ),
    ("file-code-sql", {"fileCode": "'; DROP TABLE dossier;--"}, None, "description.code_characters"),
    ("file-code-shape", {"fileCode": "HOSO-KHONG-DUNG-MAU"}, None, "description.code_structure"),
    ("file-code-year", {"fileCode": f"{ORGAN_ID}.3024.01.XD"}, None, "description.code_year"),
    ("total-mismatch", {"totalDoc": "7"}, None, "description.total_mismatch"),  # a warning
    ("doc-code-prefix", None, {0: {"docCode": "KHAC.2024.01.XD.1"}}, "description.doc_code_prefix"),
    (
        "duplicate-ordinal",
        None,
        {1: {"docCode": doc_code(FILE_CODE, 1), "docId": f"{FILE_CODE}.1"}},
        "description.duplicate_ordinal",
    ),
    ("doc-date-impossible", None, {0: {"issuedDate": "32/13/2024"}}, "tt05.bad_date"),
    ("doc-pages-not-a-number", None, {2: {"numberOfPage": "mười"}}, "tt05.not_number"),
]
for _id, _pkg, _docs, _code in _tt05_values:
    _warned = _code in ("description.total_mismatch",)
    _case(f"tt05-{_id}", TT05, _tt05(_pkg, _docs), _code, Outcome.WARNED if _warned else Outcome.REFUSED)

_case(
    "tt05-element-repeated",
    TT05,
    _tt05(after=_ead(PKG_EAD, lambda t: t.replace("<title>", "<title>Lặp</title><title>", 1))),
    "tt05.repeated_element",
)
_case(
    "tt05-unknown-element",
    TT05,
    _tt05(after=_ead(PKG_EAD, lambda t: t.replace("<title>", "<tieuDeLa>x</tieuDeLa><title>", 1))),
    "tt05.unknown_element",
    Outcome.WARNED,
)
_case(
    "tt05-nested-element",
    TT05,
    _tt05(after=_ead(PKG_EAD, lambda t: t.replace("<title>", "<title><b>x</b>", 1))),
    "tt05.not_flat",
)
_case(
    "tt05-text-between-elements",
    TT05,
    _tt05(after=_ead(PKG_EAD, lambda t: t.replace("<title>", "chữ lạc<title>", 1))),
    "tt05.not_flat",
)
_case(
    "tt05-doctype",
    TT05,
    _tt05(after=_ead(PKG_EAD, lambda t: t.replace("?>", '?><!DOCTYPE x [<!ENTITY e "e">]>', 1))),
    "tt05.doctype",
)
_case("tt05-not-xml", TT05, _tt05(after=_ead(PKG_EAD, lambda t: t[: len(t) // 2])), "tt05.not_xml")
_case(
    "tt05-package-description-removed",
    TT05,
    _tt05(after=lambda s: (s / PKG_EAD).unlink()),
    "eark.missing_file",
)
_case(
    "tt05-payload-without-description",
    TT05,
    _tt05(
        after=lambda s: (s / "representations" / "rep1" / "data" / "them.pdf").write_bytes(
            b"%PDF-1.4\n%%EOF\n"
        )
    ),
    "description.file_without_description",
    Outcome.WARNED,
)


# ------------------------------------------------------------------------------------------ tests


def read_package(source: Path, quarantine: Path) -> list[str]:
    """What ingest does before building anything; returns the warning codes, raises the refusal."""
    submission = read_submission(receive(source, quarantine, UnpackLimits()))
    raise_on_mismatch(verify_supplied(submission))
    warnings = [f.code for f in submission.findings]
    reading = read_records(submission, shipped_tables(), intake=True)
    if reading is not None:
        if reading.errors:
            first = reading.errors[0]
            raise KholuuError(
                first.message,
                code=first.code,
                path=first.where,
                params={"codes": [f.code for f in reading.errors]},
            )
        warnings += [f.code for f in reading.findings if f.severity is not Severity.ERROR]
    return warnings


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_damaged_package(hostile: Case, tmp_path: Path) -> None:
    source = hostile.build(tmp_path / "in")
    try:
        warnings = read_package(source, tmp_path / "quarantine")
    except KholuuError as exc:
        assert hostile.outcome is Outcome.REFUSED, f"refused with {exc.code}: {exc}"
        assert hostile.code in exc.params.get("codes", [exc.code]), f"{exc.code}: {exc}"
    else:
        assert hostile.outcome is Outcome.WARNED, f"accepted; expected {hostile.code}"
        assert hostile.code in warnings, warnings
