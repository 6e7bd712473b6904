"""The PDF/A requirements we check, one function each, named by ISO 19005 clause.

Each check takes the open PDF and the claim and returns its failures (empty: passed). They read
only objects reachable from the catalog and the pages' resources, as veraPDF does; none of them
interprets page content beyond the colour operators.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pikepdf

from preservation.characterize.pdfa_claim import LEVELS, Claim, Failure, parse_xmp, xmp_bytes
from preservation.characterize.pdfa_objects import annotation_dicts, device_colours, fonts, resource_dicts

MAX_NAMED = 8


def check_identification(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.7.11, -2/-3 6.6.4, -4 6.7.3: part and conformance from the allowed values;
    PDF/A-4 also gives ``pdfaid:rev`` as a year. The file header's version fits the part."""
    out: list[Failure] = []
    allowed = LEVELS.get(claim.part)
    if allowed is None or claim.raw_conformance not in allowed:
        out.append(
            Failure(
                "identification",
                f"pdfaid part {claim.raw_part!r} with conformance "
                f"{claim.raw_conformance!r} is not a PDF/A level",
                {},
            )
        )
    if claim.part == 4 and not re.fullmatch(r"\d{4}", claim.rev):
        out.append(Failure("identification", "PDF/A-4 needs pdfaid:rev (a year)", {}))
    version = pdf.pdf_version
    if claim.part == 4 and not version.startswith("2."):
        out.append(Failure("identification", f"PDF/A-4 must be PDF 2.0, the header says {version}", {}))
    return out


def check_xmp(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005 6.7.2 / 6.6.2: the catalog's metadata stream is well-formed XMP; PDF/A-1 keeps
    it unfiltered."""
    data = xmp_bytes(pdf)
    if data is None:
        return [Failure("xmp", "the catalog has no XMP metadata stream", {})]
    if parse_xmp(data) is None:
        return [Failure("xmp", "its XMP metadata is not well-formed XML", {})]
    meta = pdf.Root.Metadata
    if claim.part == 1 and "/Filter" in meta:
        return [Failure("xmp", "its XMP metadata stream is compressed (PDF/A-1 forbids it)", {})]
    return []


def check_encryption(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.1.3, -2 6.1.3: no Encrypt key in the trailer."""
    if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
        return [Failure("encrypted", "it is encrypted", {})]
    return []


def check_fonts(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.3.4, -2 6.2.11.4: every font program is embedded (Type 3 fonts are their
    own glyph procedures)."""
    missing = sorted({name for name, font in fonts(pdf) if not _embedded(font)})
    if not missing:
        return []
    shown = ", ".join(missing[:MAX_NAMED]) + (", …" if len(missing) > MAX_NAMED else "")
    return [Failure("font_not_embedded", f"fonts not embedded: {shown}", {"fonts": shown})]


def _descriptor(font: pikepdf.Dictionary) -> pikepdf.Object | None:
    if font.get("/Subtype") == pikepdf.Name.Type0:
        descendants = font.get("/DescendantFonts")
        if isinstance(descendants, pikepdf.Array) and len(descendants):
            return descendants[0].get("/FontDescriptor")
        return None
    return font.get("/FontDescriptor")


def _embedded(font: pikepdf.Dictionary) -> bool:
    if font.get("/Subtype") == pikepdf.Name.Type3:
        return True
    descriptor = _descriptor(font)
    return isinstance(descriptor, pikepdf.Dictionary) and any(
        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
    )


_FORBIDDEN_ACTIONS = {"/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData", "/JavaScript"}
_FORBIDDEN_ACTIONS_2 = {"/Hide", "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView"}


def check_actions(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.6.1–6.6.2, -2 6.5.1–6.5.2: no JavaScript, no Launch/Sound/Movie/ResetForm/
    ImportData actions (PDF/A-2 and later also Hide, SetOCGState, Rendition, Trans, GoTo3DView),
    no additional-actions (AA) on the catalog or pages."""
    forbidden = _FORBIDDEN_ACTIONS | (_FORBIDDEN_ACTIONS_2 if claim.part >= 2 else set())
    found: set[str] = set()
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        found.add("JavaScript")
    for holder in [pdf.Root, *(p.obj for p in pdf.pages)]:
        if "/AA" in holder:
            found.add("AA (additional actions)")
    for action in _actions(pdf):
        kind = action.get("/S")
        if isinstance(kind, pikepdf.Name) and str(kind) in forbidden:
            found.add(str(kind)[1:])
    if not found:
        return []
    return [
        Failure(
            "forbidden_action",
            f"it has forbidden actions: {', '.join(sorted(found))}",
            {"actions": ", ".join(sorted(found))},
        )
    ]


def _actions(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    open_action = pdf.Root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary):
        yield open_action
    for annot in annotation_dicts(pdf):
        for key in ("/A",):
            action = annot.get(key)
            if isinstance(action, pikepdf.Dictionary):
                yield action
        additional = annot.get("/AA")
        if isinstance(additional, pikepdf.Dictionary):
            yield from (a for a in additional.values() if isinstance(a, pikepdf.Dictionary))
    yield from _outline_actions(pdf)


def _outline_actions(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    outlines = pdf.Root.get("/Outlines")
    stack = [outlines.get("/First")] if isinstance(outlines, pikepdf.Dictionary) else []
    seen: set[tuple[int, int]] = set()
    while stack:
        item = stack.pop()
        if not isinstance(item, pikepdf.Dictionary) or item.objgen in seen:
            continue
        seen.add(item.objgen)
        action = item.get("/A")
        if isinstance(action, pikepdf.Dictionary):
            yield action
        stack.extend([item.get("/Next"), item.get("/First")])


def _intent_profiles(pdf: pikepdf.Pdf) -> tuple[bool, list[int]]:
    """Whether a PDF/A output intent exists, and the component counts of its ICC profiles."""
    intents = pdf.Root.get("/OutputIntents")
    found, components = False, []
    for intent in intents if isinstance(intents, pikepdf.Array) else []:
        if isinstance(intent, pikepdf.Dictionary) and intent.get("/S") == pikepdf.Name("/GTS_PDFA1"):
            found = True
            profile = intent.get("/DestOutputProfile")
            if isinstance(profile, pikepdf.Stream):
                components.append(int(profile.get("/N", 0)))
    return found, components


def check_output_intent(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.2.2–6.2.3.3, -2 6.2.3–6.2.4.3: device-dependent colour (DeviceRGB, DeviceCMYK,
    DeviceGray without a Default colour space) needs a PDF/A OutputIntent with an ICC profile,
    of the same colour model for RGB and CMYK."""
    found, components = _intent_profiles(pdf)
    if found and not components:
        return [Failure("output_intent", "its PDF/A OutputIntent has no ICC profile", {})]
    used = device_colours(pdf)
    if not used:
        return []
    if not found:
        spaces = ", ".join(sorted(used))
        return [
            Failure(
                "output_intent",
                f"it uses device colour ({spaces}) without a PDF/A OutputIntent",
                {"spaces": spaces},
            )
        ]
    wrong = [s for s, n in (("DeviceRGB", 3), ("DeviceCMYK", 4)) if s in used and n not in components]
    if wrong:
        return [
            Failure(
                "output_intent",
                f"it uses {', '.join(wrong)} but the OutputIntent is another colour model",
                {"spaces": ", ".join(wrong)},
            )
        ]
    return []


def check_transparency(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.4: PDF/A-1 has no transparency: no transparency groups, no soft masks, no
    constant alpha below 1, blend modes Normal or Compatible only."""
    if claim.part != 1:
        return []
    found: set[str] = set()
    for page in pdf.pages:
        group = page.obj.get("/Group")
        if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
            found.add("transparency group")
    for res in resource_dicts(pdf):
        for state in _values(res.get("/ExtGState")):
            smask = state.get("/SMask")
            if smask is not None and smask != pikepdf.Name("/None"):
                found.add("soft mask")
            for key in ("/CA", "/ca"):
                if key in state and float(state[key]) != 1.0:
                    found.add("constant alpha")
            blend = state.get("/BM")
            if blend is not None and blend not in (pikepdf.Name("/Normal"), pikepdf.Name("/Compatible")):
                found.add("blend mode")
        for xobject in _values(res.get("/XObject")):
            if "/SMask" in xobject:
                found.add("soft mask")
            group = xobject.get("/Group")
            if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
                found.add("transparency group")
    if not found:
        return []
    return [
        Failure(
            "transparency",
            f"PDF/A-1 forbids transparency: {', '.join(sorted(found))}",
            {"kinds": ", ".join(sorted(found))},
        )
    ]


def _values(maybe: pikepdf.Object | None) -> list[pikepdf.Dictionary]:
    if not isinstance(maybe, pikepdf.Dictionary):
        return []
    return [v for v in maybe.values() if isinstance(v, pikepdf.Dictionary)]
