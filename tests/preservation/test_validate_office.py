"""Office documents and e-books are checked by opening them: real corpus files pass, damaged
copies fail with a finding that names what is wrong, and what nothing can read is "not checked"."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from preservation.characteristics import Characterization, Validity
from preservation.characterize import (
    CharacterizeOptions,
    LibreOfficeCharacterizer,
    LibreOfficeLoader,
    OfficeCharacterizer,
    characterize,
    characterizers,
    office_package,
)
from preservation.formats import FormatMatch
from tests.conftest import CORPUS
from tests.office_files import flip_byte_in, make_docx

FC = CORPUS / "format-corpus"
DOCX = FormatMatch("fmt/412", mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
OFFICE = OfficeCharacterizer()


def check(path: Path, fmt: FormatMatch) -> Characterization:
    result = OFFICE.characterize(path, fmt)
    assert result is not None
    return result


def codes(r: Characterization) -> list[str]:
    return [f.code for f in r.findings]


@pytest.mark.parametrize(
    ("relative", "puid"),
    [
        ("office-examples/LibreOffice7-ODF-1.3/LibreOfficeWriter_odt_1.3.odt", "fmt/1756"),
        ("office-examples/LibreOffice7-ODF-1.3/LibreOfficeCalc_ods_1.3.ods", "fmt/1755"),
        ("office-examples/LibreOffice7-ODF-1.3/LibreOfficeImpress_odp_1.3.odp", "fmt/1754"),
        ("office-examples/OpenOffice.org 3.2.0 OSX/embeds/embedded-png.odt", "fmt/291"),
        ("ebooks/calibre 0.9.0/lorem-ipsum.epub", "fmt/483"),
        ("ebooks/calibre 0.8.57/Lorem Ipsum - Andrew Jackson.epub", "fmt/483"),
        ("office/spreadsheet/xls/valid.xls", "fmt/61"),
        ("office-examples/Old Access/Reviews.xls", "fmt/61"),
        ("office-examples/powerpoint4-mac/ecdl+paris2001.ppt", "fmt/126"),
        ("office/wordprocessing/rtf/testRTF.rtf", "fmt/45"),
    ],
)
def test_real_office_files_are_valid(relative: str, puid: str) -> None:
    r = check(FC / relative, FormatMatch(puid))
    assert (r.validity, codes(r)) == (Validity.VALID, [])
    assert r.agent.name == "kholuu-office" and "olefile" in r.agent.version


def test_sound_framing_leaves_the_verdict_to_libreoffice() -> None:
    """A Lotus record chain or a WordPerfect prefix that reads well says nothing of the content."""
    assert OFFICE.characterize(FC / "office/spreadsheet/wk1/PF.WK1", FormatMatch("x-fmt/114")) is None
    wpd = FC / "office/wordprocessing/WordPerfect6/testWordPerfect_6_61.wpd"
    assert OFFICE.characterize(wpd, FormatMatch("x-fmt/44")) is None


def test_docx_made_here_is_valid(tmp_path: Path) -> None:
    r = check(make_docx(tmp_path / "a.docx"), DOCX)
    assert r.validity is Validity.VALID and r.properties["entries"] == 3


def test_truncated_docx_is_invalid(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "a.docx").read_bytes()
    cut = tmp_path / "cut.docx"
    cut.write_bytes(good[: len(good) - 40])
    r = check(cut, DOCX)
    assert r.validity is Validity.INVALID and codes(r) == ["office.zip_damaged"]
    assert str(tmp_path) not in r.findings[0].message


def test_changed_byte_fails_the_crc(tmp_path: Path) -> None:
    damaged = flip_byte_in(
        make_docx(tmp_path / "a.docx", "x" * 400), "word/document.xml", tmp_path / "b.docx"
    )
    r = check(damaged, DOCX)
    assert r.validity is Validity.INVALID
    assert codes(r)[0] in {"office.part_damaged", "office.xml_damaged"}
    assert "word/document.xml" in r.findings[0].message


def test_missing_and_malformed_parts_are_named(tmp_path: Path) -> None:
    r = check(make_docx(tmp_path / "a.docx", parts={"word/document.xml": ""}), DOCX)
    assert (r.validity, codes(r)) == (Validity.INVALID, ["office.part_missing"])
    assert "word/document.xml" in r.findings[0].message
    r = check(make_docx(tmp_path / "b.docx", parts={"word/document.xml": "<w:document><w:body>"}), DOCX)
    assert (r.validity, codes(r)) == (Validity.INVALID, ["office.xml_damaged"])
    r = check(make_docx(tmp_path / "c.docx", parts={"[Content_Types].xml": ""}), DOCX)
    assert codes(r) == ["office.part_missing"] and "[Content_Types].xml" in r.findings[0].message


def test_epub_without_a_manifest_item_is_invalid(tmp_path: Path) -> None:
    src = FC / "ebooks/calibre 0.9.0/lorem-ipsum.epub"
    out = tmp_path / "missing.epub"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w") as w:
        dropped = next(i.filename for i in z.infolist() if i.filename.endswith((".html", ".xhtml")))
        for info in z.infolist():
            if info.filename != dropped:
                w.writestr(info, z.read(info))
    r = check(out, FormatMatch("fmt/483"))
    assert r.validity is Validity.INVALID and codes(r) == ["office.part_missing"]
    assert dropped in r.findings[0].message


@pytest.mark.parametrize(
    ("relative", "puid", "code"),
    [
        ("office/spreadsheet/xls/valid.xls", "fmt/61", "office.ole_damaged"),
        ("office-examples/Old Access/Reviews.xls", "fmt/61", "office.ole_damaged"),
        ("office/wordprocessing/rtf/testRTF.rtf", "fmt/45", "office.rtf_damaged"),
        ("office/spreadsheet/wk1/PF.WK1", "x-fmt/114", "office.lotus_damaged"),
        ("office-examples/Old Access files2/acc97.mdb", "x-fmt/239", "office.access_damaged"),
    ],
)
def test_truncated_legacy_files_are_invalid(tmp_path: Path, relative: str, puid: str, code: str) -> None:
    data = (FC / relative).read_bytes()
    cut = tmp_path / Path(relative).name
    cut.write_bytes(data[: len(data) * 2 // 3 + 5])
    r = check(cut, FormatMatch(puid))
    assert r.validity is Validity.INVALID and codes(r) == [code]


def test_access_database_is_not_checked_never_valid() -> None:
    r = check(FC / "office-examples/Old Access files2/acc97.mdb", FormatMatch("x-fmt/239"))
    assert (r.validity, codes(r)) == (Validity.NOT_CHECKED, ["office.not_opened"])
    chosen = characterizers(CharacterizeOptions())
    assert [c.name for c in chosen if c.applies(FormatMatch("x-fmt/239"))] == ["office"]


def test_zip_bomb_is_not_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_package, "MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    bomb = make_docx(tmp_path / "bomb.docx", parts={"word/media/zeros.bin": "\0" * (3 * 1024 * 1024)})
    r = check(bomb, DOCX)
    assert (r.validity, codes(r)) == (Validity.COULD_NOT_CHECK, ["office.too_large"])


def test_office_load_setting_chooses_the_checks() -> None:
    def applying(load: str, fmt: FormatMatch) -> list[str]:
        chosen = characterizers(CharacterizeOptions(office_load=load))
        return [c.name for c in chosen if c.applies(fmt)]

    wpd = FormatMatch("x-fmt/44")
    assert applying("parser", DOCX) == ["office"]
    assert applying("parser", wpd) == ["office", "libreoffice"]  # framing first, then the load
    assert applying("libreoffice", DOCX) == ["libreoffice"]
    assert applying("both", DOCX) == ["office", "libreoffice"]
    assert applying("libreoffice", FormatMatch("fmt/483")) == ["office"]  # LibreOffice imports no EPUB


@pytest.fixture(scope="module")
def loader() -> LibreOfficeLoader:
    return LibreOfficeLoader(timeout=120)


def test_libreoffice_loads_wordperfect_and_refuses_garbage(loader: LibreOfficeLoader, tmp_path: Path) -> None:
    chosen = [OFFICE, LibreOfficeCharacterizer(loader)]
    wpd = FormatMatch("x-fmt/44")
    (good,) = characterize(FC / "office/wordprocessing/WordPerfect6/testWordPerfect_6_61.wpd", wpd, chosen)
    assert (good.validator, good.validity) == ("libreoffice", Validity.VALID)
    assert good.agent.name == "LibreOffice" and good.agent.version[0].isdigit()
    garbage = tmp_path / "garbage.wpd"
    garbage.write_bytes(b"\xffWPC\x10\x00\x00\x00" + bytes(range(256)) * 8)  # the prefix, then noise
    (bad,) = characterize(garbage, wpd, chosen)
    assert (bad.validity, codes(bad)) == (Validity.INVALID, ["office.not_loaded"])
    assert "WordPerfect" in bad.findings[0].message and str(tmp_path) not in bad.findings[0].message


def test_libreoffice_missing_is_could_not_check(tmp_path: Path) -> None:
    missing = LibreOfficeCharacterizer(LibreOfficeLoader("/nonexistent/soffice"), only_without_parser=False)
    r = missing.characterize(make_docx(tmp_path / "a.docx"), DOCX)
    assert (r.validity, codes(r)) == (Validity.COULD_NOT_CHECK, ["office.libreoffice_missing"])
    assert r.agent.version == "missing"


def test_libreoffice_batch_gives_each_file_its_own_verdict(loader: LibreOfficeLoader, tmp_path: Path) -> None:
    """One soffice start for several files (issue 14); the file it cannot load still gets its
    own finding, from a load of its own."""
    lo = LibreOfficeCharacterizer(loader)
    wpd = FormatMatch("x-fmt/44")
    good = FC / "office/wordprocessing/WordPerfect6/testWordPerfect_6_61.wpd"
    copy = tmp_path / "same name.wpd"
    copy.write_bytes(good.read_bytes())
    garbage = tmp_path / "garbage.wpd"
    garbage.write_bytes(b"\xffWPC\x10\x00\x00\x00" + bytes(range(256)) * 8)
    lo.prepare([(good, wpd), (copy, wpd), (garbage, wpd), (tmp_path / "x.txt", FormatMatch("x-fmt/111"))])
    results = {p.name: lo.characterize(p, wpd) for p in (good, copy, garbage)}
    assert {n: r.validity for n, r in results.items()} == {
        good.name: Validity.VALID,
        "same name.wpd": Validity.VALID,
        "garbage.wpd": Validity.INVALID,
    }
    assert codes(results["garbage.wpd"]) == ["office.not_loaded"]
