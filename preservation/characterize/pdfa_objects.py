"""Walking what a PDF's pages use: resource dictionaries, fonts, annotations, device colour.

Only objects reachable from the pages are visited (an orphan object in the file is not part of
the document, and veraPDF ignores it too). Each walk remembers what it saw, so a Form XObject
that draws itself, or a shared resource dictionary, is visited once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pikepdf

MAX_CONTENT_STREAMS = 5000

STANDARD_STRUCTURE_TYPES = frozenset(
    """Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private P H H1 H2 H3 H4
    H5 H6 L LI Lbl LBody Table TR TH TD THead TBody TFoot Span Quote Note Reference BibEntry Code
    Link Annot Ruby RB RT RP Warichu WT WP Figure Formula Form""".split()  # noqa: SIM905
)
"""ISO 32000-1 §14.8.4 standard structure types (PDF/A-1a 6.8.3.4, PDF/A-2a 6.7.3.4)."""

_DEVICE = {"/DeviceRGB": "DeviceRGB", "/DeviceCMYK": "DeviceCMYK", "/DeviceGray": "DeviceGray"}
_OPERATOR_SPACE = {
    "rg": "DeviceRGB",
    "RG": "DeviceRGB",
    "k": "DeviceCMYK",
    "K": "DeviceCMYK",
    "g": "DeviceGray",
    "G": "DeviceGray",
}
_DEFAULTS = {"DeviceRGB": "/DefaultRGB", "DeviceCMYK": "/DefaultCMYK", "DeviceGray": "/DefaultGray"}


def _key(obj: pikepdf.Object) -> tuple[int, int] | int:
    return obj.objgen if obj.is_indirect else id(obj)


def resource_dicts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every resource dictionary in use: pages', Form XObjects', patterns', Type 3 fonts' and
    annotation appearances'."""
    for res, _ in _resources_and_contents(pdf):
        if res is not None:
            yield res


def content_streams(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Object]:
    """Every content stream drawn: pages', Form XObjects' and annotation appearances'."""
    for _, content in _resources_and_contents(pdf):
        if content is not None:
            yield content


def _resources_and_contents(
    pdf: pikepdf.Pdf,
) -> Iterator[tuple[pikepdf.Dictionary | None, pikepdf.Object | None]]:
    seen: set[tuple[int, int] | int] = set()
    stack: list[tuple[pikepdf.Object | None, pikepdf.Object | None]] = []
    for page in pdf.pages:
        stack.append((page.obj.get("/Resources"), page.obj))
        for annot in _page_annotations(page):
            stack.extend((s.get("/Resources"), s) for s in _appearance_streams(annot))
    while stack and len(seen) < MAX_CONTENT_STREAMS:
        res, content = stack.pop()
        if content is not None:
            if _key(content) in seen:
                continue
            seen.add(_key(content))
        if not isinstance(res, pikepdf.Dictionary):
            yield None, content
            continue
        first = _key(res) not in seen
        seen.add(_key(res))
        yield (res if first else None), content
        if not first:
            continue
        for name in ("/XObject", "/Pattern"):
            for item in _dict_values(res.get(name)):
                if isinstance(item, pikepdf.Stream) and (
                    item.get("/Subtype") == pikepdf.Name.Form or name == "/Pattern"
                ):
                    stack.append((item.get("/Resources"), item))
                elif isinstance(item, pikepdf.Dictionary) and "/Resources" in item:
                    stack.append((item.get("/Resources"), None))
        for font in _dict_values(res.get("/Font")):
            if font.get("/Subtype") == pikepdf.Name.Type3 and "/Resources" in font:
                stack.append((font.get("/Resources"), None))


def _dict_values(maybe: pikepdf.Object | None) -> list[pikepdf.Object]:
    return list(maybe.values()) if isinstance(maybe, pikepdf.Dictionary) else []


def _page_annotations(page: pikepdf.Page) -> list[pikepdf.Dictionary]:
    annots = page.obj.get("/Annots")
    return (
        [a for a in annots if isinstance(a, pikepdf.Dictionary)] if isinstance(annots, pikepdf.Array) else []
    )


def _appearance_streams(annot: pikepdf.Dictionary) -> list[pikepdf.Stream]:
    ap = annot.get("/AP")
    out: list[pikepdf.Stream] = []
    for value in _dict_values(ap):
        if isinstance(value, pikepdf.Stream):
            out.append(value)
        elif isinstance(value, pikepdf.Dictionary):
            out.extend(v for v in value.values() if isinstance(v, pikepdf.Stream))
    return out


def annotation_dicts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    for page in pdf.pages:
        yield from _page_annotations(page)


def fonts(pdf: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    """(name, font dictionary) for each font in use, each once; the name is its BaseFont."""
    seen: set[tuple[int, int] | int] = set()
    for res in resource_dicts(pdf):
        for key, font in (res.get("/Font") or pikepdf.Dictionary()).items():
            if not isinstance(font, pikepdf.Dictionary) or _key(font) in seen:
                continue
            seen.add(_key(font))
            base = font.get("/BaseFont")
            yield (str(base)[1:] if isinstance(base, pikepdf.Name) else str(key)[1:]), font


def device_colours(pdf: pikepdf.Pdf) -> set[str]:
    """The device colour spaces drawn with and not covered by a Default colour space: from colour
    space resources, images and shadings, and the content operators that set device colour."""
    used: set[str] = set()
    defaults: set[str] = set()
    for res in resource_dicts(pdf):
        spaces = res.get("/ColorSpace")
        if isinstance(spaces, pikepdf.Dictionary):
            defaults.update(str(k) for k in spaces if str(k).startswith("/Default"))
            for space in spaces.values():
                used.update(_spaces_in(space))
        for holder in (*_dict_values(res.get("/XObject")), *_dict_values(res.get("/Shading"))):
            if isinstance(holder, pikepdf.Dictionary) and not holder.get("/ImageMask"):
                used.update(_spaces_in(holder.get("/ColorSpace")))
    for content in content_streams(pdf):
        try:
            instructions = pikepdf.parse_content_stream(content, "rg RG k K g G cs CS")
        except (pikepdf.PdfError, TypeError, ValueError):
            continue
        for instruction in instructions:
            operands, op = list(instruction.operands), str(instruction.operator)
            if op in _OPERATOR_SPACE:
                used.add(_OPERATOR_SPACE[op])
            elif operands and str(operands[0]) in _DEVICE:
                used.add(_DEVICE[str(operands[0])])
    return {s for s in used if _DEFAULTS[s] not in defaults}


def _spaces_in(space: pikepdf.Object | None) -> set[str]:
    if isinstance(space, pikepdf.Name):
        return {_DEVICE[str(space)]} if str(space) in _DEVICE else set()
    if isinstance(space, pikepdf.Array) and len(space):
        out: set[str] = set()
        family = str(space[0])
        if family == "/Indexed" and len(space) > 1:
            out |= _spaces_in(space[1])
        elif family in {"/Separation", "/DeviceN"} and len(space) > 2:
            out |= _spaces_in(space[2])
        return out
    return set()
