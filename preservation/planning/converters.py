"""The converters, one per ``Action.tool``, and their registry.

A converter turns the argument lists of docs/planning.md into one sandboxed run: it gets the
source (linked into the sandbox's folder under a neutral name, so no file name is ever read as an
option and no tool writes lock files beside the original), the path its output must have, the
action and the memory limit, and returns the :class:`~.sandbox.SandboxResult`. It never decides
whether the output is good: :mod:`.verify` does.

``MEMORY_FLOOR_MB``: ``RLIMIT_AS`` counts address space, and some programs map a lot of it before
reading a byte (ffmpeg's shared libraries and libx264's thread pools, tesseract's threads); below
the floor they cannot start at all, so the limit used is ``max(action.memory_mb, floor)``.
Measured here (2 cores): ffmpeg failed to load its libraries at 256 MB and libx264 failed to open
at 512 MB; ocrmypdf could not start a thread at 256 MB; LibreOffice converted at 256 MB. libx264's
thread pool grows with the number of cores, so give video actions ``memory_mb = 4096`` on big
servers.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import PIL
from PIL import Image, ImageCms

from preservation.errors import ToolError
from preservation.planning.model import Action
from preservation.planning.sandbox import Sandbox, SandboxResult, libreoffice_profile
from preservation.planning.verify import PDFA_PUIDS
from preservation.tools import run_tool


class Converter(Protocol):
    name: str  # the program, as the PREMIS agent names it
    memory_floor_mb: int

    def version(self, action: Action) -> str: ...

    def run(
        self, source: Path, output: Path, action: Action, box: Sandbox, memory_mb: int
    ) -> SandboxResult: ...


@functools.cache
def program_version(argv: tuple[str, ...], token: int = -1) -> str:
    """The first line of ``argv``'s output (``soffice --version``...), or one word of it; cached
    for the life of the process. "missing" when the program is not installed."""
    try:
        run = run_tool(argv[0], argv, timeout=60)
    except ToolError:
        return "missing"
    lines = (run.stdout or run.stderr).strip().splitlines()
    if not lines:
        return "unknown"
    words = lines[0].split()
    return words[token] if token >= 0 and len(words) > token else lines[0].strip()


def _pdfa_part(action: Action, default: str = "2") -> str:
    return PDFA_PUIDS.get(action.output_puid, (default, "B"))[0]


def _has_option(args: Sequence[str], *names: str) -> bool:
    return any(a == n or a.startswith(n + "=") for a in args for n in names)


class LibreOfficeConverter:
    """``soffice --headless --convert-to``: office documents to PDF/A (``writer_pdf_Export`` with
    ``SelectPdfVersion`` = the PDF/A part of the output PUID, ``EmbedStandardFonts``), or to
    another office format by extension (``ods``: ``calc8``). For PDF, ``args`` are extra filter
    options ``Name=value``; otherwise ``args[0]`` may name the export filter."""

    name = "LibreOffice"
    memory_floor_mb = 1024

    def version(self, action: Action) -> str:
        return program_version(("soffice", "--version"), 1)

    @staticmethod
    def target(action: Action) -> str:
        ext = action.output_extension.lower()
        if ext != "pdf":
            return f"{ext}:{action.args[0]}" if action.args else ext
        options: dict[str, dict[str, str]] = {
            "SelectPdfVersion": {"type": "long", "value": _pdfa_part(action)},
            "EmbedStandardFonts": {"type": "boolean", "value": "true"},
        }
        for arg in action.args:
            key, _, value = arg.partition("=")
            kind = "boolean" if value in ("true", "false") else "long" if value.isdigit() else "string"
            options[key] = {"type": kind, "value": value}
        return "pdf:writer_pdf_Export:" + json.dumps(options, separators=(",", ":"))

    def run(self, source: Path, output: Path, action: Action, box: Sandbox, memory_mb: int) -> SandboxResult:
        outdir = box.work / "lo-out"
        outdir.mkdir()
        argv = [
            "soffice",
            f"-env:UserInstallation={libreoffice_profile(box, program_version(('soffice', '--version')))}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            self.target(action),
            "--outdir",
            str(outdir),
            str(source),
        ]
        run = box.run(argv, timeout=action.timeout, memory_mb=memory_mb, env={"SAL_USE_VCLPLUGIN": "svp"})
        # soffice exits 0 even when it could not load the file; the output's absence tells.
        produced = sorted(outdir.glob(f"*.{action.output_extension.lower()}"))
        if produced:
            produced[0].rename(output)
        return run


def _srgb_profile(box: Sandbox) -> Path:
    """Ghostscript's own sRGB profile, else one made by LittleCMS (Pillow), copied into the
    sandbox so that the path Ghostscript reads is ours and safe inside a PostScript string."""
    target = box.work / "srgb.icc"
    shipped = sorted(glob.glob("/usr/share/ghostscript/*/iccprofiles/srgb.icc"))
    if shipped:
        shutil.copyfile(shipped[-1], target)
    else:
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        target.write_bytes(profile.tobytes())
    return target


def _ps_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


_PDFA_DEF = """%!
/ICCProfile {icc} def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} << /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {{icc_PDFA}}
  /OutputConditionIdentifier (sRGB) /Info (sRGB IEC61966-2.1) >> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""
"""The PDF/A output intent (sRGB), Ghostscript's ``lib/PDFA_def.ps`` reduced to RGB. It is written
under another name: Ghostscript would find its own ``PDFA_def.ps`` (relative profile path) first."""


class GhostscriptConverter:
    """``gs -sDEVICE=pdfwrite -dPDFA=2 -dPDFACompatibilityPolicy=1 -sColorConversionStrategy=RGB``
    with an sRGB output intent. Policy 1: a feature PDF/A forbids is dropped with a warning and
    the conversion goes on (policy 2 would abort)."""

    name = "Ghostscript"
    memory_floor_mb = 256

    def version(self, action: Action) -> str:
        return program_version(("gs", "--version"))

    def run(self, source: Path, output: Path, action: Action, box: Sandbox, memory_mb: int) -> SandboxResult:
        icc = _srgb_profile(box)
        defs = box.work / "kholuu_pdfa_def.ps"
        defs.write_text(_PDFA_DEF.format(icc=_ps_string(str(icc))), encoding="ascii")
        argv = [
            "gs",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-dNOOUTERSAVE",
            f"-dPDFA={_pdfa_part(action)}",
            "-dPDFACompatibilityPolicy=1",
            "-sColorConversionStrategy=RGB",
            "-sDEVICE=pdfwrite",
            f"--permit-file-read={icc}",
            f"-sOutputFile={output}",
            *action.args,
            str(defs),
            str(source),
        ]
        return box.run(argv, timeout=action.timeout, memory_mb=memory_mb)


class OcrmypdfConverter:
    """``ocrmypdf -l vie --output-type pdfa-2 --skip-text``: a PDF or an image becomes PDF/A with a
    text layer ("PDF/A hai lớp"). Defaults, each replaced when ``args`` give their own:
    ``-l vie``; ``--skip-text`` (pages that already have text are kept as they are, only scanned
    pages get OCR; ``--redo-ocr`` replaces an earlier OCR layer, ``--force-ocr`` rasterizes every
    page and loses vector text); ``--image-dpi 300`` for an image that records no resolution."""

    name = "OCRmyPDF"
    memory_floor_mb = 1024

    def version(self, action: Action) -> str:
        tesseract = program_version(("tesseract", "--version"), 1)
        return f"{program_version(('ocrmypdf', '--version'))} (tesseract {tesseract})"

    def run(self, source: Path, output: Path, action: Action, box: Sandbox, memory_mb: int) -> SandboxResult:
        args = list(action.args)
        if not _has_option(args, "-l", "--language"):
            args[:0] = ["-l", "vie"]
        if not _has_option(args, "--skip-text", "--redo-ocr", "--force-ocr"):
            args.append("--skip-text")
        if not _has_option(args, "--image-dpi") and _image_without_dpi(source):
            args += ["--image-dpi", "300"]
        argv = [
            "ocrmypdf",
            "--output-type",
            f"pdfa-{_pdfa_part(action)}",
            *args,
            "--",
            str(source),
            str(output),
        ]
        return box.run(argv, timeout=action.timeout, memory_mb=memory_mb, env={"OMP_THREAD_LIMIT": "1"})


def _image_without_dpi(path: Path) -> bool:
    try:
        with Image.open(path) as im:
            return not im.info.get("dpi")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False


class ImageConverter:
    """Pillow in its own sandboxed process (:mod:`.image_tool`); ``args``: ``quality=90`` (JPEG,
    WebP), ``compression=tiff_lzw`` (TIFF)."""

    name = "Pillow"
    memory_floor_mb = 512

    def version(self, action: Action) -> str:
        return str(PIL.__version__)

    def run(self, source: Path, output: Path, action: Action, box: Sandbox, memory_mb: int) -> SandboxResult:
        argv = [
            sys.executable,
            "-m",
            "preservation.planning.image_tool",
            str(source),
            str(output),
            *action.args,
        ]
        code_root = str(Path(__file__).resolve().parents[2])
        return box.run(argv, timeout=action.timeout, memory_mb=memory_mb, env={"PYTHONPATH": code_root})


FFMPEG_DEFAULTS: dict[str, tuple[str, ...]] = {
    "mp3": ("-vn", "-c:a", "libmp3lame", "-b:a", "192k"),
    "wav": ("-vn", "-c:a", "pcm_s16le"),
    "m4a": ("-vn", "-c:a", "aac", "-b:a", "192k"),
    "mp4": (
        "-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart",
    ),
}  # fmt: skip
"""Encoder arguments by output extension, used when the action gives none: MP3 at 192 kbit/s
(TT 05 asks at least 128), MP4 H.264 + AAC, WAV 16-bit PCM."""


class FfmpegConverter:
    """``ffmpeg -nostdin -n -i SOURCE -map_metadata 0 ARGS OUTPUT``; ``args`` replace the encoder
    defaults of :data:`FFMPEG_DEFAULTS`."""

    name = "FFmpeg"
    memory_floor_mb = 1024

    def version(self, action: Action) -> str:
        return program_version(("ffmpeg", "-version"), 2)

    def run(self, source: Path, output: Path, action: Action, box: Sandbox, memory_mb: int) -> SandboxResult:
        codec = action.args or FFMPEG_DEFAULTS.get(action.output_extension.lower(), ())
        argv = [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-n",
            "-i", str(source), "-map_metadata", "0", *codec, str(output),
        ]  # fmt: skip
        return box.run(argv, timeout=action.timeout, memory_mb=memory_mb)


class CommandConverter:
    """A deployer's own program: ``args`` is the whole argument list, ``{input}`` and ``{output}``
    replaced in each argument (never through a shell). Its version is the SHA-256 of the program
    file, so the PREMIS agent names exactly what ran."""

    name = "command"
    memory_floor_mb = 0

    def version(self, action: Action) -> str:
        program = shutil.which(action.args[0]) if action.args else None
        if program is None:
            return "missing"
        return "sha256:" + _file_digest(program)[:16]

    def run(self, source: Path, output: Path, action: Action, box: Sandbox, memory_mb: int) -> SandboxResult:
        argv = [a.replace("{input}", str(source)).replace("{output}", str(output)) for a in action.args]
        return box.run(argv, timeout=action.timeout, memory_mb=memory_mb)


@functools.cache
def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_CONVERTERS: dict[str, Converter] = {}


def register_converter(tool: str, converter: Converter) -> None:
    """Make ``converter`` the one for actions whose ``tool`` is ``tool``.

    Raises:
        ValueError: an empty name or an object without the converter's methods.
    """
    if not tool or not all(callable(getattr(converter, m, None)) for m in ("run", "version")):
        raise ValueError(f"cannot register converter {tool!r}")
    _CONVERTERS[tool] = converter


def get_converter(tool: str) -> Converter | None:
    return _CONVERTERS.get(tool)


def converter_names() -> list[str]:
    return sorted(_CONVERTERS)


for _tool, _converter in (
    ("libreoffice", LibreOfficeConverter()),
    ("ghostscript", GhostscriptConverter()),
    ("ocrmypdf", OcrmypdfConverter()),
    ("image", ImageConverter()),
    ("ffmpeg", FfmpegConverter()),
    ("command", CommandConverter()),
):
    register_converter(_tool, _converter)
