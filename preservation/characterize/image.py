"""Raster image validation and characterization with Pillow.

``verify()`` checks structure without decoding; a full decode (``load()``) follows for images of
reasonable size, because truncated data is often only found while decoding. Decompression-bomb
sized images are reported, never decoded (Pillow's global limit is left alone).
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import PIL
from PIL import Image, UnidentifiedImageError

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.characterize.tt05_parameters import image_measures
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch
from preservation.planning.parameters import TechnicalParameters

FULL_DECODE_MAX_PIXELS = 50_000_000
IMAGE_PUIDS = frozenset(
    {
        "fmt/11",
        "fmt/12",
        "fmt/13",
        "fmt/935",
        "fmt/3",
        "fmt/4",
        "fmt/41",
        "fmt/42",
        "fmt/43",
        "fmt/44",
        "fmt/645",
        "fmt/353",
        "fmt/153",
        "fmt/154",
        "fmt/155",
        "fmt/156",
        "fmt/7",
        "fmt/8",
        "fmt/9",
        "fmt/10",
        "fmt/114",
        "fmt/115",
        "fmt/116",
        "fmt/117",
        "fmt/118",
        "fmt/119",
        "x-fmt/391",
        "x-fmt/392",
        "fmt/392",
        "fmt/463",
    }
)
_NOT_PILLOW = {"image/svg+xml", "image/x-icns", "image/vnd.djvu"}
_DAMAGE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    TypeError,
    struct.error,
    IndexError,
    KeyError,
    ZeroDivisionError,
)
"""What Pillow's decoders raise on damaged data: a TIFF page without dimensions is a ``TypeError``
("Missing dimensions"), a short tag a ``struct.error``. Anything else is left to the guard in
:func:`preservation.characterize.characterize` ("could not check")."""


class ImageCharacterizer:
    name = "image"

    def __init__(self, *, parameters: TechnicalParameters | None = None) -> None:
        self.agent = Agent(name="Pillow", version=PIL.__version__)
        self.parameters = parameters or TechnicalParameters()

    def applies(self, fmt: FormatMatch) -> bool:
        return fmt.puid in IMAGE_PUIDS or (fmt.mime.startswith("image/") and fmt.mime not in _NOT_PILLOW)

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        findings: list[Finding] = []
        props: dict[str, PropertyValue] = {}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with Image.open(path) as im:
                    props.update(self._properties(im))
                    im.verify()
                if any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught):
                    findings.append(
                        Finding(
                            "image.very_large",
                            Severity.WARNING,
                            path.name,
                            f"{props.get('width')}x{props.get('height')} pixels: not decoded",
                        )
                    )
            pixels = int(props.get("width", 0)) * int(props.get("height", 0))
            if pixels and pixels <= FULL_DECODE_MAX_PIXELS and not findings:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                    with Image.open(path) as im:
                        for frame in range(int(props.get("frames", 1))):
                            im.seek(frame)
                            im.load()
        except Image.DecompressionBombError as exc:
            return Characterization(
                "image",
                self.agent,
                Validity.COULD_NOT_CHECK,
                (Finding("image.very_large", Severity.WARNING, path.name, str(exc)),),
                props,
            )
        except _DAMAGE as exc:
            text = (str(exc) or type(exc).__name__).replace(str(path), path.name)
            findings.append(Finding("image.damaged", Severity.ERROR, path.name, text))
            return Characterization("image", self.agent, Validity.INVALID, tuple(findings), props)
        measured, remarks = image_measures(props, self.parameters, path.name)
        props.update(measured)
        return Characterization("image", self.agent, Validity.VALID, tuple(findings + remarks), props)

    @staticmethod
    def _properties(im: Image.Image) -> dict[str, PropertyValue]:
        props: dict[str, PropertyValue] = {
            "format": str(im.format or ""),
            "width": im.width,
            "height": im.height,
            "mode": im.mode,
            "frames": int(getattr(im, "n_frames", 1)),
            "icc_profile": bool(im.info.get("icc_profile")),
        }
        dpi = im.info.get("dpi")
        if isinstance(dpi, tuple) and len(dpi) == 2:
            props["dpi_x"], props["dpi_y"] = float(dpi[0]), float(dpi[1])
        bits = im.info.get("bits")
        if isinstance(bits, int):
            props["bits"] = bits
        return props
