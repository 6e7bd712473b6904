"""TT 05/2025 Điều 8 technical parameters measured per file: resolution, colour depth, bit rate,
the PDF text layer ("hai lớp").

Each measurement is a property ``tt05_<name>`` whose value is a :class:`Level`, next to the
measured figure; a figure below the floor gives a ``tt05.*`` finding of severity warning (or info
for a grey image, which is fine when the original is monochrome). They never make a file invalid:
the floors are a digitisation rule, not the file's integrity, and only the records' context says
whether they apply (a born-digital photo is not a scan).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from preservation.characteristics import PropertyValue
from preservation.findings import Finding, Severity
from preservation.planning.parameters import TechnicalParameters

Measures = tuple[dict[str, PropertyValue], list[Finding]]


class Level(StrEnum):
    PASS = "pass"
    BELOW = "below"
    NOT_STATED = "not stated"  # the file does not say (an image without a resolution)
    UNKNOWN = "unknown"  # the file says, but not in a way we can measure


_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_BITS_PER_PIXEL = {
    "1": 1,
    "L": 8,
    "P": 8,
    "LA": 16,
    "La": 16,
    "PA": 16,
    "I;16": 16,
    "I;16L": 16,
    "I;16B": 16,
    "I;16N": 16,
    "I": 32,
    "F": 32,
    "RGB": 24,
    "YCbCr": 24,
    "LAB": 24,
    "HSV": 24,
    "RGBA": 32,
    "RGBa": 32,
    "RGBX": 32,
    "CMYK": 32,
}


def resolution(dpi: float | None, params: TechnicalParameters, where: str) -> Measures:
    """Dots per inch against the image floor; ``None`` (or a placeholder of 1 dpi) is "not stated"."""
    floor = params.image_dpi
    props: dict[str, PropertyValue] = {"tt05_resolution_minimum": floor}
    if dpi is None or dpi <= 1:
        props["tt05_resolution"] = Level.NOT_STATED.value
        return props, [
            Finding(
                "tt05.resolution_not_stated",
                Severity.INFO,
                where,
                f"the file states no resolution: TT 05 asks at least {floor} dpi",
                {"minimum": floor},
            )
        ]
    props["tt05_resolution"] = (Level.PASS if dpi >= floor else Level.BELOW).value
    if dpi >= floor:
        return props, []
    return props, [
        Finding(
            "tt05.resolution_below",
            Severity.WARNING,
            where,
            f"{dpi:g} dpi, below the {floor} dpi of TT 05 Điều 8",
            {"dpi": round(dpi, 1), "minimum": floor},
        )
    ]


def colour_depth(bits: int | None, grey: bool, params: TechnicalParameters, where: str) -> Measures:
    """Bits per pixel against the colour floor. A grey or bilevel image is reported below it with
    an info finding only: TT 05 keeps the original's colours, and a monochrome original is fine."""
    floor = params.colour_depth
    props: dict[str, PropertyValue] = {"tt05_colour_depth_minimum": floor}
    if bits is None:
        props["tt05_colour_depth"] = Level.UNKNOWN.value
        return props, []
    props["colour_depth"] = bits
    if not grey and bits >= floor:
        props["tt05_colour_depth"] = Level.PASS.value
        return props, []
    props["tt05_colour_depth"] = Level.BELOW.value
    if grey:
        return props, [
            Finding(
                "tt05.monochrome",
                Severity.INFO,
                where,
                f"grey or bilevel ({bits} bits per pixel): TT 05 asks {floor}-bit colour "
                "unless the original is monochrome",
                {"bits": bits, "minimum": floor},
            )
        ]
    return props, [
        Finding(
            "tt05.colour_depth_below",
            Severity.WARNING,
            where,
            f"{bits} bits per pixel, below the {floor}-bit colour of TT 05 Điều 8",
            {"bits": bits, "minimum": floor},
        )
    ]


def image_measures(props: Mapping[str, PropertyValue], params: TechnicalParameters, where: str) -> Measures:
    """Resolution and colour depth of a raster image from the properties Pillow gave."""
    dpi_values = [float(v) for k in ("dpi_x", "dpi_y") if isinstance(v := props.get(k), int | float)]
    dpi = min(dpi_values) if dpi_values else None
    mode = str(props.get("mode", ""))
    out, findings = resolution(dpi, params, where)
    depth_props, depth_findings = colour_depth(_BITS_PER_PIXEL.get(mode), mode in _GREY_MODES, params, where)
    out.update(depth_props)
    return out, findings + depth_findings


def bit_rate(kind: str, bits_per_second: int | None, floor_kbps: int, where: str) -> Measures:
    """One stream kind's bit rate (``audio`` or ``video``) against its floor."""
    props: dict[str, PropertyValue] = {f"tt05_{kind}_bit_rate_minimum": floor_kbps}
    if bits_per_second is None or bits_per_second <= 0:
        props[f"tt05_{kind}_bit_rate"] = Level.UNKNOWN.value
        return props, []
    kbps = round(bits_per_second / 1000)
    props[f"{kind}_kbps"] = kbps
    ok = kbps >= floor_kbps
    props[f"tt05_{kind}_bit_rate"] = (Level.PASS if ok else Level.BELOW).value
    if ok:
        return props, []
    return props, [
        Finding(
            f"tt05.{kind}_bit_rate_below",
            Severity.WARNING,
            where,
            f"{kind} at {kbps} kbps, below the {floor_kbps} kbps of TT 05 Điều 8",
            {"kbps": kbps, "minimum": floor_kbps},
        )
    ]


def av_measures(
    streams: Sequence[Mapping[str, Any]], container_bps: int | None, params: TechnicalParameters, where: str
) -> Measures:
    """Audio and video bit rates from ffprobe's streams.

    A stream's own ``bit_rate`` is used when ffprobe gives one; Matroska and WebM do not, and
    there a lone stream takes the container's rate. Cover art in an MP3 (a video stream marked
    ``attached_pic``) is not video.
    """
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    props: dict[str, PropertyValue] = {}
    findings: list[Finding] = []
    for kind, chosen, floor in (("audio", audio, params.audio_kbps), ("video", video, params.video_kbps)):
        if not chosen:
            continue
        rate = _stream_rate(chosen[0])
        if rate is None and len(audio) + len(video) == 1:
            rate = container_bps
        if rate is None and kind == "video" and container_bps:
            known_audio = sum(_stream_rate(a) or 0 for a in audio)
            rate = container_bps - known_audio if known_audio or not audio else None
        p, f = bit_rate(kind, rate, floor, where)
        props.update(p)
        findings.extend(f)
    return props, findings


def _stream_rate(stream: Mapping[str, Any]) -> int | None:
    try:
        rate = int(stream.get("bit_rate") or 0)
    except (TypeError, ValueError):
        return None
    return rate or None


def text_layer(
    image_pages: int, image_pages_without_text: int, text_pages: int, pages: int, where: str
) -> Measures:
    """PDF "hai lớp" (TT 05 Điều 8): every page that carries a scanned image also carries text.

    A PDF without page images passes when it has text at all (a born-digital document); a PDF
    with neither text nor images is "unknown" (vector drawings, blank pages).
    """
    props: dict[str, PropertyValue] = {
        "image_pages": image_pages,
        "text_pages": text_pages,
    }
    if image_pages_without_text:
        props["tt05_text_layer"] = Level.BELOW.value
        props["image_pages_without_text"] = image_pages_without_text
        return props, [
            Finding(
                "tt05.no_text_layer",
                Severity.WARNING,
                where,
                f"{image_pages_without_text} of {pages} pages are images without a text layer: "
                'TT 05 Điều 8 asks PDF/A "hai lớp" (image and text)',
                {"pages": image_pages_without_text, "total": pages},
            )
        ]
    props["tt05_text_layer"] = (Level.PASS if text_pages else Level.UNKNOWN).value
    return props, []
