"""What a PDF's pages draw: images, text, invisible text (an OCR layer), and the resolution of a
page-sized scan.

TT 05/2025 Điều 8 asks digitised paper as PDF/A "hai lớp": the scanned image with an invisible
text layer above it (OCRmyPDF writes text render mode 3). This reads each page's content stream
with pikepdf (qpdf's tokenizer), following Form XObjects a few levels deep, and counts the pages
that carry an image, text, or both. The resolution of a scan is the image's pixel width over the
page width in inches, taken only on pages that show no visible text and whose biggest image has
the page's proportions (a figure on a born-digital page says nothing about scanning).
"""

from __future__ import annotations

from dataclasses import dataclass

import pikepdf

MAX_PAGES = 2000
"""Pages read at most; a longer PDF is judged on its first pages (``pages_read`` says so)."""
MAX_FORM_DEPTH = 4
_TEXT_OPERATORS = {"Tj", "TJ", "'", '"'}
_OPERATORS = "Tj TJ ' \" Tr Do"
_COMPONENTS = {"/DeviceRGB": 3, "/CalRGB": 3, "/Lab": 3, "/DeviceCMYK": 4, "/DeviceGray": 1, "/CalGray": 1}


@dataclass
class PageLayers:
    """Counts over the pages read. ``scan_dpi`` and ``scan_bits`` are the lowest over page-sized
    images (None when no page is a scan)."""

    pages: int = 0
    pages_read: int = 0
    image_pages: int = 0
    image_pages_without_text: int = 0
    text_pages: int = 0
    invisible_text_pages: int = 0
    scan_dpi: float | None = None
    scan_bits: int | None = None
    scan_grey: bool = False


@dataclass
class _Page:
    images: list[pikepdf.Object]
    text: bool = False
    invisible: bool = False
    visible: bool = False


def page_layers(pdf: pikepdf.Pdf) -> PageLayers:
    """Read every page (up to :data:`MAX_PAGES`); a page whose content cannot be parsed counts as
    drawing nothing (the structure check reports the damage)."""
    out = PageLayers(pages=len(pdf.pages))
    for page in list(pdf.pages)[:MAX_PAGES]:
        out.pages_read += 1
        seen = _Page(images=[])
        try:
            _walk(page.obj, page.obj.get("/Resources"), seen, 0)
        except (pikepdf.PdfError, ValueError, TypeError, AttributeError, KeyError):
            continue
        if seen.text:
            out.text_pages += 1
        if seen.invisible:
            out.invisible_text_pages += 1
        if seen.images:
            out.image_pages += 1
            if not seen.text:
                out.image_pages_without_text += 1
            if not seen.visible:  # a scan: only an image, perhaps under invisible OCR text
                _scan_figures(page, seen.images, out)
    return out


def _walk(content: pikepdf.Object, resources: pikepdf.Object | None, seen: _Page, depth: int) -> None:
    mode = 0
    for instruction in pikepdf.parse_content_stream(content, _OPERATORS):
        operands, op = list(instruction.operands), str(instruction.operator)
        if op == "Tr" and operands:
            mode = int(operands[0])
        elif op in _TEXT_OPERATORS and _has_text(operands):
            seen.text = True
            seen.invisible = seen.invisible or mode == 3
            seen.visible = seen.visible or mode != 3
        elif op == "INLINE IMAGE":
            seen.images.append(pikepdf.Dictionary())
        elif op == "Do" and operands and resources is not None:
            xobjects = resources.get("/XObject")
            xobject = xobjects.get(str(operands[0])) if xobjects is not None else None
            if not isinstance(xobject, pikepdf.Stream):
                continue
            subtype = xobject.get("/Subtype")
            if subtype == pikepdf.Name.Image:
                seen.images.append(xobject)
            elif subtype == pikepdf.Name.Form and depth < MAX_FORM_DEPTH:
                _walk(xobject, xobject.get("/Resources", resources), seen, depth + 1)


def _has_text(operands: list[pikepdf.Object]) -> bool:
    for operand in operands:
        if isinstance(operand, pikepdf.String) and len(bytes(operand)):
            return True
        if isinstance(operand, pikepdf.Array) and any(
            isinstance(item, pikepdf.String) and len(bytes(item)) for item in operand
        ):
            return True
    return False


def _scan_figures(page: pikepdf.Page, images: list[pikepdf.Object], out: PageLayers) -> None:
    """The resolution and bit depth of the page-sized image, if there is one."""
    try:
        box = [float(v) for v in page.mediabox]
    except (TypeError, ValueError):
        return
    width_pt, height_pt = abs(box[2] - box[0]), abs(box[3] - box[1])
    if int(page.obj.get("/Rotate", 0)) % 180:
        width_pt, height_pt = height_pt, width_pt
    if width_pt <= 0 or height_pt <= 0:
        return
    sized = [i for i in images if "/Width" in i and "/Height" in i]
    if not sized:
        return
    biggest = max(sized, key=lambda i: int(i.Width) * int(i.Height))
    w, h = int(biggest.Width), int(biggest.Height)
    for px_w, px_h in ((w, h), (h, w)):  # a scan may be drawn rotated
        if px_h and abs(px_w / px_h - width_pt / height_pt) <= 0.03 * (width_pt / height_pt):
            dpi = px_w / (width_pt / 72)
            out.scan_dpi = dpi if out.scan_dpi is None else min(out.scan_dpi, dpi)
            bits, grey = _image_bits(biggest)
            if bits is not None:
                out.scan_bits = bits if out.scan_bits is None else min(out.scan_bits, bits)
                out.scan_grey = out.scan_grey or grey
            return


def _image_bits(image: pikepdf.Object) -> tuple[int | None, bool]:
    """Bits per pixel of an image XObject (components × bits per component) and whether it is grey."""
    if image.get("/ImageMask"):
        return 1, True
    space = image.get("/ColorSpace")
    components: int | None = None
    if isinstance(space, pikepdf.Name):
        components = _COMPONENTS.get(str(space))
    elif isinstance(space, pikepdf.Array) and len(space):
        family = str(space[0])
        if family == "/ICCBased" and isinstance(space[1], pikepdf.Stream):
            components = int(space[1].get("/N", 0)) or None
        elif family == "/Indexed":  # a palette: colour, at the index's bits
            return int(image.get("/BitsPerComponent", 8)), False
        else:
            components = _COMPONENTS.get(family)
    filters = image.get("/Filter")
    if components is None and str(filters) == "/JPXDecode":
        return None, False
    bpc = int(image.get("/BitsPerComponent", 8))
    return (components * bpc if components else None), components == 1
