"""ClamAV virus check with the offline EICAR test signature (config/clamav)."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest

from preservation.errors import ToolError
from preservation.virus import ClamAV, database_info
from tests.conftest import TEST_SIGNATURES


def eicar() -> bytes:
    """The EICAR test string, assembled at run time so it never sits in the repository."""
    return ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*").encode()


def test_eicar_found_and_named(tmp_path: Path) -> None:
    root = tmp_path / "sip"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "eicar.com").write_bytes(eicar())
    (root / unicodedata.normalize("NFD", "Quyết định: số 12.pdf")).write_bytes(b"%PDF-1.4 clean")
    (root / "clean.txt").write_text("sạch")
    result = ClamAV(database=TEST_SIGNATURES).scan(root)
    assert result.infected == {"sub/eicar.com": "Kholuu.Test.EICAR.UNOFFICIAL"}
    assert result.scanned_files == 3
    assert result.run.exit_code == 1


def test_eicar_inside_zip_member(tmp_path: Path) -> None:
    root = tmp_path / "sip"
    root.mkdir()
    with zipfile.ZipFile(root / "attachments.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner/readme.txt", eicar())
    result = ClamAV(database=TEST_SIGNATURES).scan(root)
    assert list(result.infected) == ["attachments.zip"]


def test_clean_folder(tmp_path: Path) -> None:
    root = tmp_path / "sip"
    root.mkdir()
    for i in range(4):
        (root / f"f{i}.txt").write_text(f"file {i}")
    result = ClamAV(database=TEST_SIGNATURES).scan(root)
    assert result.infected == {}
    assert result.scanned_files == 4


def test_agent_says_local_signatures_only() -> None:
    agent = ClamAV(database=TEST_SIGNATURES).agent
    assert agent.name == "ClamAV"
    assert agent.version.startswith("1.")
    assert "LOCAL SIGNATURES ONLY" in agent.note
    assert "kholuu-test-signatures.ndb" in agent.note


def test_empty_database_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as exc:
        ClamAV(database=tmp_path).scan(tmp_path)
    assert exc.value.code == "virus.no_database"


def test_missing_clamscan(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as exc:
        ClamAV(clamscan="/nonexistent/clamscan", database=TEST_SIGNATURES).scan(tmp_path)
    assert exc.value.code == "tool.missing"


def test_cvd_header_is_described(tmp_path: Path) -> None:
    header = b"ClamAV-VDB:20 Nov 2026 08-31 +0000:27850:355000:90:abcdef:sig:builder:1763627460"
    (tmp_path / "daily.cvd").write_bytes(header.ljust(512, b" ") + b"\x1f\x8bgarbage")
    info = database_info(tmp_path)
    assert info.official
    assert info.signatures == 355000
    assert "daily.cvd v27850" in info.description


def test_file_over_the_size_limit_is_reported_unscanned(tmp_path: Path) -> None:
    root = tmp_path / "sip"
    root.mkdir()
    (root / "video.bin").write_bytes(b"\x00" * (2 << 20))
    (root / "note.txt").write_text("small")
    result = ClamAV(database=TEST_SIGNATURES, max_filesize_mb=1, max_scansize_mb=1).scan(root)
    assert result.infected == {}
    assert list(result.unscanned) == ["video.bin"]
    assert result.unscanned["video.bin"].startswith("Heuristics.Limits.Exceeded")


def test_item20_eicar_20_zips_deep_is_unscanned_for_nesting_not_size(tmp_path: Path) -> None:
    from preservation.virus import unscanned_reason
    from tests.preservation.hostile_files import nested_zip

    root = tmp_path / "sip"
    root.mkdir()
    (root / "deep.zip").write_bytes(nested_zip(20))
    result = ClamAV(database=TEST_SIGNATURES).scan(root)
    assert result.infected == {}
    assert list(result.unscanned) == ["deep.zip"]
    reason = unscanned_reason(result.unscanned["deep.zip"])
    assert "nested" in reason and "size" not in reason


def test_item20_eicar_in_a_passworded_inner_zip_is_not_clean(tmp_path: Path) -> None:
    from preservation.virus import unscanned_reason
    from tests.preservation.hostile_files import eicar_in_passworded_inner_zip

    root = tmp_path / "sip"
    root.mkdir()
    (root / "ho-so.zip").write_bytes(eicar_in_passworded_inner_zip())
    result = ClamAV(database=TEST_SIGNATURES).scan(root)
    assert result.infected == {}
    assert list(result.unscanned) == ["ho-so.zip"]
    assert "encrypted" in unscanned_reason(result.unscanned["ho-so.zip"])
