"""The shipped sample SIPs are made by the project's script, and are what the demo needs."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import bagit

from preservation.formats import UNIDENTIFIED
from preservation.identify import get_engine
from tests.conftest import ROOT, SAMPLES

NAMES = ["sip-folder-quyet-dinh", "sip-bag-cong-van", "sip-zip-bao-cao.zip"]
TT05_NAMES = ["sip-tt05-hoso-so-hoa.zip", "legacy-nd30-so-noi-vu", "legacy-muc-luc-so-tu-phap"]


def digests(root: Path) -> dict[str, str]:
    out = {}
    for name in [*NAMES, *TT05_NAMES]:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            out[f.relative_to(root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def test_script_regenerates_the_committed_samples(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SAMPLES / "build_samples.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    assert digests(tmp_path) == digests(SAMPLES)


def payload_files() -> dict[str, list[tuple[str, bytes]]]:
    out: dict[str, list[tuple[str, bytes]]] = {}
    out[NAMES[0]] = [(p.name, p.read_bytes()) for p in sorted((SAMPLES / NAMES[0]).iterdir())]
    out[NAMES[1]] = [(p.name, p.read_bytes()) for p in sorted((SAMPLES / NAMES[1] / "data").iterdir())]
    with zipfile.ZipFile(SAMPLES / NAMES[2]) as zf:
        out[NAMES[2]] = [(i.filename, zf.read(i)) for i in zf.infolist()]
    return out


def test_samples_hold_what_the_demo_shows() -> None:
    files = payload_files()
    for name, entries in files.items():
        suffixes = {Path(n).suffix for n, _ in entries}
        assert ".pdf" in suffixes and ".xml" in suffixes, name
        assert suffixes & {".docx", ".odt", ".xlsx"}, name
        assert suffixes & {".png", ".tif", ".jpg"}, name
        assert any(any(ord(c) > 127 for c in n) for n, _ in entries), f"{name}: no Vietnamese file name"
    assert "Quyết định số 12.pdf" in {n for n, _ in files[NAMES[0]]}
    nfd = [n for n, _ in files[NAMES[2]] if n != unicodedata.normalize("NFC", n)]
    assert nfd == [unicodedata.normalize("NFD", "bao-cao-tong-ket-2024/Thông báo số 7.txt")]
    with zipfile.ZipFile(SAMPLES / NAMES[2]) as zf:
        assert all(i.flag_bits & 0x800 for i in zf.infolist() if not i.filename.isascii())


def test_no_payload_is_shared_between_samples() -> None:
    seen: dict[str, str] = {}
    for name, entries in payload_files().items():
        for _, content in entries:
            digest = hashlib.sha256(content).hexdigest()
            assert digest not in seen, f"{name} repeats a file of {seen.get(digest)}"
            seen[digest] = name


def test_every_sample_file_gets_a_puid() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(SAMPLES / NAMES[2]) as zf:
            zf.extractall(tmp)
        paths = [p for p in Path(tmp).rglob("*") if p.is_file()]
        paths += [p for p in (SAMPLES / NAMES[0]).iterdir()] + [
            p for p in (SAMPLES / NAMES[1] / "data").iterdir()
        ]
        results = get_engine("siegfried").identify(paths)
        assert {p.name: r.puid for p, r in results.items() if r.puid == UNIDENTIFIED} == {}
        puids = {r.puid for r in results.values()}
    assert {"fmt/18", "fmt/412", "fmt/214", "fmt/1756", "fmt/11", "fmt/353", "fmt/101"} <= puids


def test_bag_is_valid() -> None:
    bagit.Bag(str(SAMPLES / NAMES[1])).validate()


def test_samples_stay_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 200_000


_ = ROOT
