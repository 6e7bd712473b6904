"""The shipped policy names the PUIDs Siegfried really reports: for real files of the formats the
archive expects (the shared corpora, the samples, and files made here with Pillow and FFmpeg),
the identification engine's PUID has a policy entry. A PUID guessed from a register, or one that a
signature update renamed, fails here instead of leaving a whole holding without a policy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from preservation.identify.siegfried import SiegfriedEngine
from preservation.planning.policy import PolicyRegistry
from tests.conftest import CORPUS, SAMPLES

FORMATS = CORPUS / "format-corpus"

#: corpus file → the PUID Siegfried 1.11.9 gives it (checked, so a changed answer is noticed too)
CORPUS_FILES = {
    "office/wordprocessing/WordPerfect51/testWordPerfect_51_52.doc": "x-fmt/394",
    "office/wordprocessing/WordPerfect6/testWordPerfect_6_61.wpd": "x-fmt/44",
    "office/wordprocessing/WordPerfect50/testWordPerfect_50.doc": "x-fmt/393",
    "office/wordprocessing/rtf/testRTF.rtf": "fmt/45",
    "office/spreadsheet/wk1/PF.WK1": "x-fmt/114",
    "office/spreadsheet/xls/valid.xls": "fmt/61",
    "office-examples/Old Word file/NEWSSLID.DOC": "fmt/38",
    "office-examples/Old Access/reviews.mdb": "x-fmt/240",
    "office-examples/Old Access files2/acc95.mdb": "x-fmt/238",
    "office-examples/powerpoint4-mac/ecdl+paris2001.ppt": "fmt/126",
    "office-examples/LibreOffice7-ODF-1.3/LibreOfficeWriter_odt_1.3.odt": "fmt/1756",
    "office-examples/LibreOffice7-ODF-1.3/LibreOfficeCalc_ods_1.3.ods": "fmt/1755",
    "office-examples/LibreOffice7-ODF-1.3/LibreOfficeImpress_odp_1.3.odp": "fmt/1754",
    "office/wordprocessing/odt/demoLibreOfficeImagePasteBug.odt": "fmt/291",
    "fully-featured-pdf/PDF-Sample-Document-Fully-Featured-Layout.docx": "fmt/412",
    "ebooks/calibre 0.9.0/lorem-ipsum.epub": "fmt/483",
    "jp2k-formats/balloon.jp2": "x-fmt/392",
    "tiff-examples/old-style-jpeg-compression/old-style-jpeg-compression.tif": "fmt/353",
    "pdf-handbuilt-test-corpus/hello_world.pdf": "fmt/18",
    "variations/variations/application/msword/lorem-ipsum.doc": "fmt/40",
    "variations/variations/application/rtf/lorem-ipsum.rtf": "fmt/355",
}


def _made_files(folder: Path) -> dict[Path, str]:
    """Images from Pillow; audio and video from FFmpeg's test sources (a second each)."""
    out: dict[Path, str] = {}
    image = Image.new("RGB", (40, 30), (180, 40, 40))
    for name, puid in (("a.png", "fmt/11"), ("a.jpg", "fmt/43"), ("a.tif", "fmt/353"), ("a.bmp", "fmt/116")):
        image.save(folder / name, dpi=(300, 300))
        out[folder / name] = puid
    image.save(folder / "a.gif")  # GIF 87a, which TT 05 does not list
    image.save(folder / "b.gif", transparency=0)  # a transparency extension makes it 89a
    out |= {folder / "a.gif": "fmt/3", folder / "b.gif": "fmt/4"}
    sound = ["-f", "lavfi", "-i", "sine=duration=1"]
    picture = ["-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=25", *sound]
    made = {
        "a.wav": ([*sound], "fmt/141"),
        "a.mp3": ([*sound, "-b:a", "128k"], "fmt/134"),
        "a.wma": ([*sound, "-c:a", "wmav2"], "fmt/132"),
        "a.aac": ([*sound, "-c:a", "aac"], "fmt/1812"),
        "a.mp4": ([*picture, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"], "fmt/199"),
        "a.avi": ([*picture, "-c:v", "mpeg4", "-c:a", "mp3"], "fmt/5"),
        "a.wmv": ([*picture, "-c:v", "wmv2", "-c:a", "wmav2"], "fmt/133"),
        "a.mov": ([*picture, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"], "x-fmt/384"),
        "a.mpg": ([*picture, "-c:v", "mpeg1video", "-c:a", "mp2", "-f", "mpeg"], "x-fmt/385"),
        "b.mpg": ([*picture, "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob"], "x-fmt/386"),
    }
    for name, (args, puid) in made.items():
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(folder / name)], check=True, timeout=60)
        out[folder / name] = puid
    return out


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the audio and video samples")
def test_siegfried_s_puids_for_real_files_have_a_policy(tmp_path: Path) -> None:
    expected = {FORMATS / name: puid for name, puid in CORPUS_FILES.items()}
    missing_corpus = [p for p in expected if not p.is_file()]
    assert missing_corpus == [], f"corpus files not found (KHOLUU_TEST_CORPUS?): {missing_corpus}"
    expected |= {p: "" for p in SAMPLES.joinpath("sip-folder-quyet-dinh").iterdir()}
    expected |= {p: "" for p in SAMPLES.joinpath("sip-bag-cong-van", "data").iterdir()}
    expected |= _made_files(tmp_path)
    found = {p: ident.puid for p, ident in SiegfriedEngine().identify(sorted(expected)).items()}
    wrong = {str(p): (puid, found[p]) for p, puid in expected.items() if puid and found[p] != puid}
    assert wrong == {}
    registry = PolicyRegistry.load()
    assert sorted({puid for puid in found.values() if registry.get(puid) is None}) == []
