"""TT 05/2025 Điều 8 technical parameters measured per file and reported, never a reason for
"invalid": resolution and colour depth of images, bit rates of audio and video; JP2 conformance
with jpylyzer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from preservation.characteristics import Characterization, Validity
from preservation.characterize import CharacterizeOptions, characterize, characterizers
from preservation.formats import FormatMatch
from preservation.planning.parameters import TechnicalParameters
from tests.conftest import CORPUS

JPEG = FormatMatch("fmt/43", mime="image/jpeg")
PNG = FormatMatch("fmt/11", mime="image/png")


def one(path: Path, fmt: FormatMatch, options: CharacterizeOptions | None = None) -> Characterization:
    (r,) = characterize(path, fmt, characterizers(options or CharacterizeOptions()))
    return r


@pytest.mark.parametrize(
    ("dpi", "mode", "resolution", "depth", "codes"),
    [
        (300, "RGB", "pass", "pass", []),
        (150, "RGB", "below", "pass", ["tt05.resolution_below"]),
        (300, "L", "pass", "below", ["tt05.monochrome"]),
        (None, "RGB", "not stated", "pass", ["tt05.resolution_not_stated"]),
    ],
)
def test_image_resolution_and_colour_depth(
    tmp_path: Path, dpi: int | None, mode: str, resolution: str, depth: str, codes: list[str]
) -> None:
    path = tmp_path / "scan.jpg"
    Image.new(mode, (60, 40), "white").save(path, "JPEG", **({"dpi": (dpi, dpi)} if dpi else {}))
    r = one(path, JPEG)
    assert r.validity is Validity.VALID  # a figure below the floor never makes a file invalid
    assert (r.properties["tt05_resolution"], r.properties["tt05_colour_depth"]) == (resolution, depth)
    assert [f.code for f in r.findings] == codes
    if dpi == 150:
        assert r.findings[0].params == {"dpi": 150.0, "minimum": 200}


def test_palette_png_is_below_24_bit_colour(tmp_path: Path) -> None:
    path = tmp_path / "map.png"
    Image.new("RGB", (30, 30), "red").convert("P").save(path, dpi=(300, 300))
    r = one(path, PNG)
    assert (r.properties["colour_depth"], r.properties["tt05_colour_depth"]) == (8, "below")
    assert [f.code for f in r.findings] == ["tt05.colour_depth_below"]


def test_thresholds_come_from_the_parameters(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    Image.new("RGB", (60, 40)).save(path, "JPEG", dpi=(250, 250))
    strict = CharacterizeOptions(parameters=TechnicalParameters(text_dpi=300, photo_dpi=300))
    assert one(path, JPEG).properties["tt05_resolution"] == "pass"
    r = one(path, JPEG, strict)
    assert (r.properties["tt05_resolution"], r.properties["tt05_resolution_minimum"]) == ("below", 300)


FFMPEG = shutil.which("ffmpeg")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One second of tone and test picture, at bit rates on either side of the floors (a plain
    test picture encodes far below the rate asked; noise keeps it far above)."""
    if FFMPEG is None:
        pytest.skip(reason="ffmpeg is not installed (scripts/bootstrap installs it): no audio/video samples")
    folder = tmp_path_factory.mktemp("media")
    made = {}
    for name, args in {
        "low.mp3": ["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-b:a", "64k"],
        "high.mp3": ["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-b:a", "192k"],
        "low.mp4": [
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=0.5:size=320x240:rate=25",
            "-b:v",
            "300k",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
        "high.mp4": [
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=0.5:size=320x240:rate=25",
            "-vf",
            "noise=alls=40:allf=t",
            "-b:v",
            "2500k",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],  # noise: the encoder cannot go below the rate
    }.items():
        made[name] = folder / name
        subprocess.run([FFMPEG, "-v", "error", "-y", *args, str(made[name])], check=True, timeout=60)
    return made


@pytest.mark.parametrize(
    ("name", "kind", "level"),
    [
        ("low.mp3", "audio", "below"),
        ("high.mp3", "audio", "pass"),
        ("low.mp4", "video", "below"),
        ("high.mp4", "video", "pass"),
    ],
)
def test_audio_and_video_bit_rates(media: dict[str, Path], name: str, kind: str, level: str) -> None:
    fmt = (
        FormatMatch("fmt/134", mime="audio/mpeg")
        if kind == "audio"
        else FormatMatch("fmt/199", mime="video/mp4")
    )
    r = one(media[name], fmt)
    assert r.validity is Validity.VALID
    assert r.properties[f"tt05_{kind}_bit_rate"] == level
    assert [f.code for f in r.findings] == ([f"tt05.{kind}_bit_rate_below"] if level == "below" else [])


def test_audio_floor_is_configurable(media: dict[str, Path]) -> None:
    r = one(
        media["high.mp3"],
        FormatMatch("fmt/134"),
        CharacterizeOptions(parameters=TechnicalParameters(audio_kbps=1500)),
    )
    assert (r.properties["tt05_audio_bit_rate"], r.properties["tt05_audio_bit_rate_minimum"]) == (
        "below",
        1500,
    )


def test_jp2_validated_by_jpylyzer(tmp_path: Path) -> None:
    src = CORPUS / "format-corpus/jp2k-formats/balloon.jp2"
    jp2 = FormatMatch("x-fmt/392", mime="image/jp2")
    chosen = [c for c in characterizers(CharacterizeOptions()) if c.name == "jp2"]
    (good,) = characterize(src, jp2, chosen)
    assert (good.validity, good.agent.name, good.properties["width"]) == (Validity.VALID, "jpylyzer", 2717)
    cut = tmp_path / "cut.jp2"
    cut.write_bytes(src.read_bytes()[:200_000])
    (bad,) = characterize(cut, jp2, chosen)
    assert bad.validity is Validity.INVALID
    assert {f.code for f in bad.findings} == {"jp2.test_failed"}
    assert any("foundEOCMarker" in f.message for f in bad.findings)
