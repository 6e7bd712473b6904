"""The ``image`` converter's program: Pillow, run as its own process inside the sandbox.

    python -m preservation.planning.image_tool SOURCE OUTPUT [quality=90]

Decoding an untrusted image is where memory blows up (a TIFF declaring 100 000 x 100 000 pixels),
so it happens in a process the sandbox limits, not in the worker. Pillow's own decompression-bomb
limit is therefore lifted here: the sandbox's address-space limit is the guard, and a legitimate
A0 scan at 600 dpi (about 560 million pixels) must still convert.

The first frame of a multi-page image is converted. Pixel dimensions, resolution (dpi) and the
ICC profile are kept; modes the output format cannot hold are converted: 16-bit and float samples
are scaled to 8 bits, transparency is flattened onto white for JPEG, CMYK with a profile is
converted to sRGB through LittleCMS (without one, Pillow's naive conversion).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image, ImageCms

FORMATS = {
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "png": "PNG",
    "tif": "TIFF",
    "tiff": "TIFF",
    "jp2": "JPEG2000",
    "webp": "WEBP",
}
_KEEPS_ALPHA = {"PNG", "TIFF", "WEBP", "JPEG2000"}


def _eight_bit(im: Image.Image) -> Image.Image:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        scale = 1 / 256 if im.mode.startswith("I;16") or im.getextrema()[1] > 255 else 1  # type: ignore[operator]
        return im.convert("I").point(lambda v: v * scale).convert("L")
    if im.mode == "F":
        return im.point(lambda v: v * 255).convert("L")
    return im


def prepare(im: Image.Image, fmt: str) -> tuple[Image.Image, bytes | None]:
    """``im`` in a mode ``fmt`` can store, with the ICC profile to embed."""
    icc = im.info.get("icc_profile")
    im = _eight_bit(im)
    if im.mode == "CMYK" and fmt != "TIFF":
        if icc:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                im, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            im, icc = (converted, None) if converted is not None else (im.convert("RGB"), icc)
        else:
            im = im.convert("RGB")
    if im.mode in ("P", "PA", "LA", "RGBA", "1") and fmt not in _KEEPS_ALPHA:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    elif im.mode not in ("L", "RGB", "RGBA", "LA", "CMYK", "1"):
        im = im.convert("RGB")
    return im, icc if isinstance(icc, bytes) else None


def convert(source: Path, output: Path, options: dict[str, str]) -> None:
    fmt = FORMATS.get(output.suffix.lower().lstrip("."))
    if fmt is None:
        raise SystemExit(f"image: no Pillow writer for {output.suffix} outputs")
    Image.MAX_IMAGE_PIXELS = None  # the sandbox's memory limit is the guard (module docstring)
    with Image.open(source) as opened:
        opened.seek(0)
        dpi = opened.info.get("dpi")
        im, icc = prepare(opened, fmt)
        save: dict[str, object] = {}
        if fmt in ("JPEG", "WEBP"):
            save["quality"] = int(options.get("quality", "90"))
        if fmt == "TIFF":
            save["compression"] = options.get("compression", "tiff_lzw")
        if dpi:
            save["dpi"] = tuple(round(float(d)) for d in dpi)
        if icc:
            save["icc_profile"] = icc
        im.save(output, fmt, **save)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: image_tool SOURCE OUTPUT [key=value ...]", file=sys.stderr)
        return 2
    options = dict(a.split("=", 1) for a in argv[2:] if "=" in a)
    try:
        convert(Path(argv[0]), Path(argv[1]), options)
    except (OSError, ValueError, SyntaxError, TypeError, ImageCms.PyCMSError) as exc:
        print(f"image: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
