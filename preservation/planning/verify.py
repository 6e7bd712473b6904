"""Verifying a conversion's output before it is kept: the checks of :class:`~.model.Check`.

Each check compares the output with the action's promise or with the source, and says what it
compared (``CheckResult.detail``). A check that cannot run on a file it must judge (the output does
not open, a tool is missing) fails: an output is kept only when every listed check passed. Where
the *source* side is unknown (an office file that does not record its page count, a source
without text), the check passes and its detail says the comparison was not made; it never claims
a comparison it did not make.

What stands in for veraPDF (not available here): ``PDFA`` checks that the XMP metadata declares
the PDF/A part and conformance the action promised, that the document has a PDF/A output intent,
and that every font the pages, their forms and their annotations use is embedded. That is what a
converter most often gets wrong, not full PDF/A conformance (docs/planning.md).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pikepdf
from lxml import etree
from PIL import Image

from preservation.characteristics import Validity
from preservation.characterize import AvCharacterizer, ImageCharacterizer, PdfCharacterizer
from preservation.characterize.base import Characterizer, guarded
from preservation.characterize.xml import XmlCharacterizer, hardened_parser
from preservation.formats import FormatMatch
from preservation.planning.model import Action, Check, CheckResult
from preservation.planning.sandbox import SandboxOptions
from preservation.planning.text_compare import extract_text, similarity, words

CHECK_TIMEOUT = 300.0  # seconds one parser may spend on one output

PDFA_PUIDS = {
    "fmt/95": ("1", "A"),
    "fmt/354": ("1", "B"),
    "fmt/476": ("2", "A"),
    "fmt/477": ("2", "B"),
    "fmt/478": ("2", "U"),
    "fmt/479": ("3", "A"),
    "fmt/480": ("3", "B"),
    "fmt/481": ("3", "U"),
}
"""PRONOM's PDF/A formats: part and conformance level."""

_STRICTER = {"B": {"A", "B", "U"}, "U": {"A", "U"}, "A": {"A"}}
"""Within one part, a file that conforms at level A or U also conforms at level B (ISO 19005-2
§2): a PDF/A-2a output satisfies an action promising PDF/A-2b."""

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "tif", "tiff", "jp2", "j2k", "gif", "bmp", "webp"})
AV_EXTENSIONS = frozenset(
    {"mp3", "wav", "mp4", "m4a", "aac", "flac", "ogg", "oga", "mkv", "avi", "mov", "webm"}
)
ZIPPED_XML = {
    "odt": "content.xml",
    "ods": "content.xml",
    "odp": "content.xml",
    "odg": "content.xml",
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}


def accepted_puids(output_puid: str) -> frozenset[str]:
    """The PUIDs that satisfy an action promising ``output_puid``: itself, and for a PDF/A level
    the stricter levels of the same part (Siegfried names the level the XMP declares)."""
    level = PDFA_PUIDS.get(output_puid)
    if level is None:
        return frozenset({output_puid})
    part, conformance = level
    return frozenset(puid for puid, (p, c) in PDFA_PUIDS.items() if p == part and c in _STRICTER[conformance])


def verify(
    source: Path,
    output: Path,
    action: Action,
    *,
    identify: Callable[[Path], str | None],
    options: SandboxOptions | None = None,
) -> tuple[CheckResult, ...]:
    """Run every check ``action`` lists on ``output``; never raises (a check that breaks fails)."""
    results: list[CheckResult] = []
    for check in action.checks:
        try:
            results.append(_CHECKS[check](source, output, action, identify, options))
        except Exception as exc:  # a parser's surprise is a failed check, not a crash
            results.append(CheckResult(check, False, f"could not check: {type(exc).__name__}: {exc}"))
    return tuple(results)


_Checker = Callable[[Path, Path, Action, Callable[[Path], str | None], SandboxOptions | None], CheckResult]


def _extension(path: Path) -> str:
    return path.suffix.lower().lstrip(".")


def check_opens(source: Path, output: Path, action: Action, identify: object, options: object) -> CheckResult:
    ext = _extension(output)
    chosen: Characterizer | None = None
    if ext == "pdf":
        chosen = PdfCharacterizer()
    elif ext in IMAGE_EXTENSIONS:
        chosen = ImageCharacterizer()
    elif ext in AV_EXTENSIONS:
        chosen = AvCharacterizer()
    elif ext == "xml":
        chosen = XmlCharacterizer()
    elif ext in ZIPPED_XML:
        return _zipped_xml_opens(output, ZIPPED_XML[ext])
    if chosen is None:
        return CheckResult(
            Check.OPENS, False, f"no parser for .{ext} outputs here: remove 'opens' from the action"
        )
    found = guarded(chosen, output, FormatMatch(action.output_puid), CHECK_TIMEOUT)
    if found is None:
        return CheckResult(Check.OPENS, False, f"{chosen.name} gave no result for the output")
    problems = "; ".join(f.message for f in found.findings)[:300]
    passed = found.validity is Validity.VALID
    detail = f"{found.agent.identifier}: {found.validity.value}" + (f" ({problems})" if problems else "")
    return CheckResult(Check.OPENS, passed, detail)


def _zipped_xml_opens(output: Path, main: str) -> CheckResult:
    """An OpenDocument or OOXML package: a sound ZIP whose main part is well-formed XML."""
    try:
        with zipfile.ZipFile(output) as zf:
            bad = zf.testzip()
            if bad is not None:
                return CheckResult(Check.OPENS, False, f"damaged member {bad} in the ZIP package")
            with zf.open(main) as stream:
                etree.parse(stream, hardened_parser())
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, OSError) as exc:
        return CheckResult(Check.OPENS, False, f"package does not open: {exc}")
    return CheckResult(Check.OPENS, True, f"ZIP package sound, {main} well-formed (lxml)")


def check_format(
    source: Path, output: Path, action: Action, identify: Callable[[Path], str | None], options: object
) -> CheckResult:
    found = identify(output)
    accepted = accepted_puids(action.output_puid)
    passed = found in accepted
    expected = " or ".join(sorted(accepted))
    return CheckResult(Check.FORMAT, passed, f"identified as {found or 'unidentified'}, expected {expected}")


def page_count(path: Path) -> tuple[int | None, str]:
    """The number of pages of a PDF, OOXML/ODF document or (multi-page) image, and where it came
    from; ``(None, reason)`` when unknown."""
    with path.open("rb") as fh:
        head = fh.read(5)
    if head == b"%PDF-":
        try:
            with pikepdf.open(path) as pdf:
                return len(pdf.pages), "pikepdf"
        except (pikepdf.PdfError, pikepdf.PasswordError, OSError, ValueError) as exc:
            return None, f"PDF does not open ({type(exc).__name__})"
    if head.startswith(b"PK\x03\x04"):
        return _office_pages(path)
    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1)), "Pillow"
    except (OSError, ValueError, SyntaxError):
        return None, "no page count for this format"


def _office_pages(path: Path) -> tuple[int | None, str]:
    """The page count the saving application recorded (DOCX ``docProps/app.xml`` <Pages>, ODF
    ``meta.xml`` page-count): a claim, possibly stale, and absent from many files."""
    claims = (
        (
            "docProps/app.xml",
            "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Pages",
        ),
        ("meta.xml", "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}document-statistic"),
    )
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            for member, tag in claims:
                if member not in names:
                    continue
                with zf.open(member) as stream:
                    root = etree.parse(stream, hardened_parser()).getroot()
                for elem in root.iter(tag):
                    value = (
                        elem.text
                        if member.startswith("docProps")
                        else elem.get("{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}page-count")
                    )
                    if value and value.strip().isdigit():
                        return int(value), f"{member}, as last saved by its application"
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, OSError):
        pass
    return None, "the document does not record it"


def check_pages(source: Path, output: Path, action: Action, identify: object, options: object) -> CheckResult:
    produced, _how = page_count(output)
    if produced is None:
        return CheckResult(Check.PAGES, False, "output page count unknown")
    expected, how = page_count(source)
    if expected is None:
        return CheckResult(
            Check.PAGES, True, f"{_pages(produced)}; source page count unknown ({how}): not compared"
        )
    passed = abs(produced - expected) <= action.page_tolerance
    tolerance = f", tolerance {action.page_tolerance}" if action.page_tolerance else ""
    return CheckResult(Check.PAGES, passed, f"{_pages(produced)}, source {expected} ({how}{tolerance})")


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"


def duration(path: Path) -> float | None:
    found = guarded(AvCharacterizer(), path, FormatMatch("unknown"), CHECK_TIMEOUT)
    value = found.properties.get("duration") if found is not None else None
    return float(value) if isinstance(value, int | float) else None


def check_duration(
    source: Path, output: Path, action: Action, identify: object, options: object
) -> CheckResult:
    produced = duration(output)
    if produced is None:
        return CheckResult(Check.DURATION, False, "output duration unknown (ffprobe)")
    expected = duration(source)
    if expected is None:
        return CheckResult(Check.DURATION, True, f"{produced:.2f} s; source duration unknown: not compared")
    passed = abs(produced - expected) <= action.duration_tolerance
    return CheckResult(
        Check.DURATION,
        passed,
        f"{produced:.2f} s, source {expected:.2f} s (tolerance {action.duration_tolerance:g} s)",
    )


def check_text(
    source: Path, output: Path, action: Action, identify: object, options: SandboxOptions | None
) -> CheckResult:
    produced = extract_text(output, options=options)
    if produced is None:
        return CheckResult(Check.TEXT, False, "no text could be read from the output")
    out_words = words(produced)
    original = extract_text(source, options=options)
    src_words = words(original or "")
    if not src_words:
        why = "source has no text layer" if original is not None else "source text cannot be read here"
        return CheckResult(
            Check.TEXT, True, f"{why}: not compared; output has {sum(out_words.values())} words"
        )
    ratio = similarity(src_words, out_words)
    kept = f"{ratio:.1%} of the source's {sum(src_words.values())} words kept"
    return CheckResult(
        Check.TEXT, ratio >= action.text_similarity, f"{kept} (threshold {action.text_similarity:.0%})"
    )


def check_pdfa(source: Path, output: Path, action: Action, identify: object, options: object) -> CheckResult:
    with pikepdf.open(output) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            part, conformance = str(meta.get("pdfaid:part") or ""), str(meta.get("pdfaid:conformance") or "")
        intents = pdf.Root.get("/OutputIntents")
        has_intent = isinstance(intents, pikepdf.Array) and any(
            str(i.get("/S")) == "/GTS_PDFA1" for i in intents if isinstance(i, pikepdf.Dictionary)
        )
        missing = sorted(set(unembedded_fonts(pdf)))
    problems: list[str] = []
    declared = f"{part}{conformance.upper()}"
    if not part or not conformance:
        problems.append(f"XMP declares no PDF/A part and conformance ({declared or 'none'})")
    wanted = PDFA_PUIDS.get(action.output_puid)
    if wanted and part and (part != wanted[0] or conformance.upper() not in _STRICTER[wanted[1]]):
        problems.append(f"declares PDF/A-{declared}, the action promises PDF/A-{''.join(wanted)}")
    if not has_intent:
        problems.append("no PDF/A output intent")
    if missing:
        problems.append(f"fonts not embedded: {', '.join(missing[:10])}")
    if problems:
        return CheckResult(Check.PDFA, False, "; ".join(problems))
    return CheckResult(
        Check.PDFA, True, f"declares PDF/A-{declared}, output intent present, every font embedded"
    )


def unembedded_fonts(pdf: pikepdf.Pdf) -> Iterator[str]:
    """The names of fonts used by pages, their form XObjects and annotation appearances that carry
    no font program (FontFile, FontFile2, FontFile3). Type 3 fonts are their own glyph programs."""
    seen: set[tuple[int, int]] = set()

    def walk(resources: object, depth: int) -> Iterator[str]:
        if not isinstance(resources, pikepdf.Dictionary) or depth > 8:
            return
        fonts = resources.get("/Font")
        if isinstance(fonts, pikepdf.Dictionary):
            for _name, font in fonts.items():
                if isinstance(font, pikepdf.Dictionary) and not _embedded(font):
                    yield str(font.get("/BaseFont", "unnamed")).lstrip("/")
        xobjects = resources.get("/XObject")
        if isinstance(xobjects, pikepdf.Dictionary):
            for _name, xobj in xobjects.items():
                if _first_visit(xobj, seen) and xobj.get("/Subtype") == "/Form":
                    yield from walk(xobj.get("/Resources"), depth + 1)

    for page in pdf.pages:
        yield from walk(page.obj.get("/Resources"), 0)
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            appearance = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
            normal = appearance.get("/N") if isinstance(appearance, pikepdf.Dictionary) else None
            streams = [normal] if isinstance(normal, pikepdf.Stream) else []
            if isinstance(normal, pikepdf.Dictionary) and not isinstance(normal, pikepdf.Stream):
                streams = [s for _k, s in normal.items() if isinstance(s, pikepdf.Stream)]
            for stream in streams:
                if _first_visit(stream, seen):
                    yield from walk(stream.get("/Resources"), 1)


def _first_visit(obj: object, seen: set[tuple[int, int]]) -> bool:
    if not isinstance(obj, pikepdf.Object):
        return False
    key = obj.objgen
    if key == (0, 0):
        return True
    if key in seen:
        return False
    seen.add(key)
    return True


def _embedded(font: pikepdf.Dictionary) -> bool:
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return True
    if subtype == "/Type0":
        descendants = font.get("/DescendantFonts")
        return isinstance(descendants, pikepdf.Array) and all(
            isinstance(d, pikepdf.Dictionary) and _embedded(d) for d in descendants
        )
    descriptor = font.get("/FontDescriptor")
    return isinstance(descriptor, pikepdf.Dictionary) and any(
        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
    )


def pixel_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def check_image(source: Path, output: Path, action: Action, identify: object, options: object) -> CheckResult:
    produced = pixel_size(output)
    if produced is None:
        return CheckResult(Check.IMAGE, False, "output is not an image Pillow reads")
    expected = pixel_size(source)
    shown = f"{produced[0]}x{produced[1]} pixels"
    if expected is None:
        return CheckResult(Check.IMAGE, True, f"{shown}; source dimensions unknown: not compared")
    return CheckResult(Check.IMAGE, produced == expected, f"{shown}, source {expected[0]}x{expected[1]}")


_CHECKS: dict[Check, _Checker] = {
    Check.OPENS: check_opens,
    Check.FORMAT: check_format,
    Check.PAGES: check_pages,
    Check.DURATION: check_duration,
    Check.TEXT: check_text,
    Check.PDFA: check_pdfa,
    Check.IMAGE: check_image,
}
