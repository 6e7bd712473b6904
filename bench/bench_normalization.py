"""Normalization throughput per action (issue 12): prints figures, asserts nothing.

    .venv/bin/python bench/bench_normalization.py [--repeat 3] [--actions docx-pdfa,pdf-pdfa,...]

For each action (LibreOffice DOCX → PDF/A-2b, Ghostscript PDF → PDF/A-2b, Pillow TIFF → JPEG,
FFmpeg WAV → MP3, OCRmyPDF one scanned page → PDF/A-2b) on a corpus file (or one made here), run
``--repeat`` times, three ways, in the same run:

- ``raw``: the tool's own command line, as an operator would type it (no sandbox, no checks;
  LibreOffice with one profile reused between runs, its usual set-up);
- ``ours, cold``: a fresh Python process per file calling ``convert()`` (sandbox, fresh
  LibreOffice profile, verification with Siegfried, pikepdf, pdftotext, ffprobe; tool versions
  and Siegfried's signatures loaded again each time): what one ``kholuu`` command per file costs;
- ``ours, warm``: one process converting the files one after another (the ingest workflow's case).

Files/s and MB/s (source bytes) for each, and the time we add over the raw tool.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from preservation.planning.model import Action, Check  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "format-corpus"
PDFA = (Check.OPENS, Check.FORMAT, Check.PAGES, Check.TEXT, Check.PDFA)

ACTIONS: dict[str, Action] = {
    "docx-pdfa": Action("libreoffice", "fmt/477", "pdf", checks=PDFA),
    "pdf-pdfa": Action("ghostscript", "fmt/477", "pdf", checks=PDFA),
    "tiff-jpeg": Action("image", "fmt/43", "jpg", checks=(Check.OPENS, Check.FORMAT, Check.IMAGE)),
    "wav-mp3": Action("ffmpeg", "fmt/134", "mp3", checks=(Check.OPENS, Check.FORMAT, Check.DURATION)),
    "ocr-page": Action("ocrmypdf", "fmt/477", "pdf", checks=PDFA),
}

ONE = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from bench.bench_normalization import ACTIONS, convert_one
convert_one(Path(sys.argv[1]), ACTIONS[sys.argv[2]], Path(sys.argv[3]))
"""


def convert_one(source: Path, action: Action, out_dir: Path) -> None:
    from preservation.identify.siegfried import SiegfriedEngine
    from preservation.planning.convert import convert
    from preservation.planning.model import ConversionOutcome, Purpose

    engine = SiegfriedEngine(workers=1)
    done = convert(
        source, action, Purpose.PRESERVATION, out_dir, identify=lambda p: engine.identify([p])[p].puid
    )
    if done.outcome is not ConversionOutcome.SUCCESS:
        raise SystemExit(f"{source.name}: {done.message}")


def sources(work: Path) -> dict[str, Path]:
    """One input per action: corpus files where the corpus has them, else made here."""
    from PIL import Image, ImageDraw, ImageFont

    wav = work / "speech.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=60", "-ac", "2", str(wav)], check=True
    )
    scan = work / "scan.png"
    page = Image.new("L", (1654, 2339), "white")  # A4 at 200 dpi
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 32)
    for n in range(40):
        draw.text(
            (120, 150 + n * 50), f"Dòng {n + 1}: hồ sơ lưu trữ của Ủy ban nhân dân tỉnh", font=font, fill=0
        )
    page.save(scan, dpi=(200, 200))
    docx = "vnd.openxmlformats-officedocument.wordprocessingml.document"
    return {
        "docx-pdfa": CORPUS / "variations" / "variations" / "application" / docx / "lorem-ipsum.docx",
        "pdf-pdfa": CORPUS / "pdfCabinetOfHorrors" / "test_fontArialNotEmbedded.pdf",
        "tiff-jpeg": CORPUS
        / "tiff-examples"
        / "old-style-jpeg-compression"
        / "old-style-jpeg-compression.tif",
        "wav-mp3": wav,
        "ocr-page": scan,
    }


def raw_command(name: str, source: Path, out: Path, profile: Path) -> list[str]:
    if name == "docx-pdfa":
        spec = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
        return ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", spec,
                "--outdir", str(out.parent), str(source)]  # fmt: skip
    if name == "pdf-pdfa":
        return ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dPDFA=2", "-dPDFACompatibilityPolicy=1",
                "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite", f"-sOutputFile={out}",
                str(source)]  # fmt: skip
    if name == "tiff-jpeg":
        code = (
            "import sys; from PIL import Image; "
            "Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2], quality=90)"
        )
        return [sys.executable, "-c", code, str(source), str(out)]
    if name == "wav-mp3":
        return ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-b:a", "192k", str(out)]
    return ["ocrmypdf", "-q", "-l", "vie", "--output-type", "pdfa-2", str(source), str(out)]


def timed(runs: int, step: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(runs):
        step(i)
    return time.perf_counter() - started


def measure(name: str, source: Path, runs: int, work: Path) -> None:
    from preservation.planning.model import ConversionOutcome

    action = ACTIONS[name]
    ext = action.output_extension
    folder = work / name
    folder.mkdir()

    def raw(i: int) -> None:
        out = folder / f"raw-{i}" / f"{source.stem}.{ext}"
        out.parent.mkdir()
        subprocess.run(raw_command(name, source, out, work / "lo-profile"), check=True, capture_output=True)

    def cold(i: int) -> None:
        script = ONE.format(root=str(ROOT))
        subprocess.run(
            [sys.executable, "-c", script, str(source), name, str(folder / f"cold-{i}")], check=True
        )

    from preservation.identify.siegfried import SiegfriedEngine
    from preservation.planning.convert import convert
    from preservation.planning.model import Purpose

    engine = SiegfriedEngine(workers=1)

    def warm(i: int) -> None:
        done = convert(
            source,
            action,
            Purpose.PRESERVATION,
            folder / f"warm-{i}",
            identify=lambda p: engine.identify([p])[p].puid,
        )
        if done.outcome is not ConversionOutcome.SUCCESS:
            raise SystemExit(f"{name}: {done.message}")

    mb = source.stat().st_size / 1e6
    figures = {
        label: timed(runs, step) for label, step in (("raw", raw), ("ours, cold", cold), ("ours, warm", warm))
    }
    base = figures["raw"] / runs
    for label, seconds in figures.items():
        per = seconds / runs
        added = "" if label == "raw" else f"  +{per - base:5.2f} s a file over raw"
        rates = f"{runs / seconds:6.2f} files/s {mb * runs / seconds:7.2f} MB/s"
        print(f"{name:<10} {label:<11} {rates}  {per:6.2f} s a file{added}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="conversions of each file (default 3)")
    parser.add_argument(
        "--actions", default=",".join(ACTIONS), help="comma-separated, from: " + ", ".join(ACTIONS)
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-normalization-") as tmp:
        work = Path(tmp)
        inputs = sources(work)
        for name in args.actions.split(","):
            source = inputs[name]
            print(f"{name}: {source.name}, {source.stat().st_size / 1e6:.2f} MB, {args.repeat} runs")
            measure(name, source, args.repeat, work)


if __name__ == "__main__":
    main()
