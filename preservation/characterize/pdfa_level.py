"""PDF/A checks of the conformance levels (A and U), of attachments and of annotations."""

from __future__ import annotations

import re

import pikepdf

from preservation.characterize.pdfa_claim import Claim, Failure
from preservation.characterize.pdfa_objects import STANDARD_STRUCTURE_TYPES, annotation_dicts, fonts

MAX_NAMED = 8
MAX_STRUCTURE_ELEMENTS = 100_000
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_PREDEFINED_ENCODINGS = {"/WinAnsiEncoding", "/MacRomanEncoding", "/MacExpertEncoding", "/StandardEncoding"}
_ADOBE_ORDERINGS = {"Japan1", "CNS1", "GB1", "Korea1"}
_BAD_UNICODE = re.compile(rb"<\s*(0000|FEFF|FFFE)\s*>", re.IGNORECASE)


def _named(items: list[str]) -> str:
    items = sorted(set(items))
    return ", ".join(items[:MAX_NAMED]) + (", …" if len(items) > MAX_NAMED else "")


def check_unicode(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.3.8 (level A), -2 6.2.11.7.2 (levels A and U): every font maps its
    character codes to Unicode: a ToUnicode CMap, or a predefined encoding / Adobe CJK
    collection that implies one; and no code maps to U+0000, U+FEFF or U+FFFE (PDF/A-2 and
    later)."""
    if not claim.unicode:
        return []
    unmapped: list[str] = []
    bad: list[str] = []
    for name, font in fonts(pdf):
        to_unicode = font.get("/ToUnicode")
        if isinstance(to_unicode, pikepdf.Stream):
            if claim.part >= 2:
                try:
                    if _BAD_UNICODE.search(_cmap_targets(to_unicode.read_bytes())):
                        bad.append(name)
                except pikepdf.PdfError:
                    bad.append(name)
            continue
        if not _implied_unicode(font):
            unmapped.append(name)
    out = []
    if unmapped:
        out.append(
            Failure(
                "no_unicode_map",
                f"fonts without a Unicode map: {_named(unmapped)}",
                {"fonts": _named(unmapped)},
            )
        )
    if bad:
        out.append(
            Failure(
                "bad_unicode_map",
                f"fonts map codes to U+0000, U+FEFF or U+FFFE: {_named(bad)}",
                {"fonts": _named(bad)},
            )
        )
    return out


def _cmap_targets(cmap: bytes) -> bytes:
    """The destination side of a ToUnicode CMap's bfchar and bfrange entries, joined."""
    targets: list[bytes] = []
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        pairs = re.findall(rb"<[0-9A-Fa-f\s]*>", block)
        targets.extend(pairs[1::2])
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for line in re.findall(rb"<[^>]*>\s*<[^>]*>\s*(\[[^\]]*\]|<[^>]*>)", block):
            targets.append(line)
    return b" ".join(targets)


def _implied_unicode(font: pikepdf.Dictionary) -> bool:
    subtype = font.get("/Subtype")
    if subtype == pikepdf.Name.Type0:
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, pikepdf.Array) or not len(descendants):
            return False
        encoding = font.get("/Encoding")
        if isinstance(encoding, pikepdf.Stream):
            return _adobe_collection(encoding.get("/CIDSystemInfo"))
        return (
            _adobe_collection(descendants[0].get("/CIDSystemInfo"))
            and isinstance(encoding, pikepdf.Name)
            and not str(encoding).startswith("/Identity")
        )
    encoding = font.get("/Encoding")
    if isinstance(encoding, pikepdf.Name):
        return str(encoding) in _PREDEFINED_ENCODINGS
    if isinstance(encoding, pikepdf.Dictionary):
        base = encoding.get("/BaseEncoding")
        return base is None or str(base) in _PREDEFINED_ENCODINGS
    if encoding is None and subtype == pikepdf.Name.Type1:
        return _standard_glyph_names(font)
    return False


def _adobe_collection(info: pikepdf.Object | None) -> bool:
    return (
        isinstance(info, pikepdf.Dictionary)
        and str(info.get("/Registry", "")) == "Adobe"
        and str(info.get("/Ordering", "")) in _ADOBE_ORDERINGS
    )


_GLYPH_NAME = re.compile(r"^([A-Za-z]+|uni([0-9A-F]{4})+|u[0-9A-F]{4,6}|afii\d{5})(\.[A-Za-z0-9]+)?$")


def _standard_glyph_names(font: pikepdf.Dictionary) -> bool:
    """A Type 1 font on its built-in encoding maps to Unicode through its glyph names when they
    are Adobe Glyph List names. Without the list at hand, a name of letters only, ``uniXXXX``,
    ``uXXXX`` or ``afiiNNNNN`` counts as one (``sym00C`` or ``g12`` do not); the font's CharSet
    gives the names, and a font without one is not judged (passes)."""
    descriptor = font.get("/FontDescriptor")
    charset = descriptor.get("/CharSet") if isinstance(descriptor, pikepdf.Dictionary) else None
    if charset is None:
        return True
    names = [n for n in str(charset).split("/") if n and n != ".notdef"]
    return all(_GLYPH_NAME.match(n) for n in names)


def check_structure(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.8.2.2 / 6.8.3 / 6.8.4 and -2 6.7.2.2 / 6.7.3 / 6.7.4 (level A): the document
    is marked (MarkInfo Marked true) with a structure tree whose element types are standard or
    role-mapped to standard ones, and every Lang is a language tag."""
    if not claim.level_a:
        return []
    root = pdf.Root
    out: list[Failure] = []
    mark = root.get("/MarkInfo")
    if not isinstance(mark, pikepdf.Dictionary) or not (
        isinstance(marked := mark.get("/Marked"), bool) and marked
    ):
        out.append(Failure("not_tagged", "the catalog's MarkInfo does not say Marked true", {}))
    tree = root.get("/StructTreeRoot")
    if not isinstance(tree, pikepdf.Dictionary):
        out.append(Failure("not_tagged", "it has no structure tree (StructTreeRoot)", {}))
        tree = pikepdf.Dictionary()
    role_map = tree.get("/RoleMap")
    roles = (
        {str(k)[1:]: str(v)[1:] for k, v in role_map.items()}
        if isinstance(role_map, pikepdf.Dictionary)
        else {}
    )
    unknown: list[str] = []
    langs: list[str] = []
    if not _language_tag(root.get("/Lang")):
        langs.append(str(root.Lang))
    for element in _structure_elements(tree):
        kind = element.get("/S")
        if isinstance(kind, pikepdf.Name) and _resolve(str(kind)[1:], roles) not in STANDARD_STRUCTURE_TYPES:
            unknown.append(str(kind)[1:])
        if not _language_tag(element.get("/Lang")):
            langs.append(str(element.Lang))
    if unknown:
        out.append(
            Failure(
                "structure_type",
                f"structure types neither standard nor role-mapped: {_named(unknown)}",
                {"types": _named(unknown)},
            )
        )
    if langs:
        out.append(
            Failure(
                "language",
                f"Lang values that are not language tags: {_named(langs)}",
                {"values": _named(langs)},
            )
        )
    return out


def _language_tag(value: pikepdf.Object | None) -> bool:
    """An absent or empty Lang means "unknown language", which is allowed; anything else must be
    an RFC 3066 / BCP 47 shaped tag."""
    return value is None or str(value) == "" or bool(_LANG.match(str(value)))


def _resolve(kind: str, roles: dict[str, str]) -> str:
    seen: set[str] = set()
    while kind in roles and kind not in STANDARD_STRUCTURE_TYPES and kind not in seen:
        seen.add(kind)
        kind = roles[kind]
    return kind


def _structure_elements(tree: pikepdf.Dictionary) -> list[pikepdf.Dictionary]:
    out: list[pikepdf.Dictionary] = []
    seen: set[tuple[int, int] | int] = set()
    stack = [tree.get("/K")]
    while stack and len(out) < MAX_STRUCTURE_ELEMENTS:
        kid = stack.pop()
        if isinstance(kid, pikepdf.Array):
            stack.extend(kid)
        elif isinstance(kid, pikepdf.Dictionary):
            key = kid.objgen if kid.is_indirect else id(kid)
            if key in seen or kid.get("/Type") in (pikepdf.Name.MCR, pikepdf.Name.OBJR):
                continue
            seen.add(key)
            out.append(kid)
            stack.append(kid.get("/K"))
    return out


def check_embedded_files(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.1.11: no embedded files. -2 6.8: embedded files are PDF/A themselves (here:
    they are PDFs). -3 6.8 and -4 6.9: each file specification has F, UF and AFRelationship and
    its stream a MIME Subtype."""
    specs = _embedded_file_specs(pdf)
    if claim.part == 4 and claim.conformance == "F" and not _has_embedded_files_tree(pdf):
        return [
            Failure("embedded_file", "PDF/A-4f needs at least one file in the EmbeddedFiles name tree", {})
        ]
    if not specs:
        return []
    if claim.part == 1:
        return [Failure("embedded_file", "PDF/A-1 forbids embedded files", {})]
    problems: list[str] = []
    associated = _associated_files(pdf)
    for name, spec in specs:
        stream = spec.get("/EF", pikepdf.Dictionary()).get("/F")
        if claim.part == 2 or (claim.part == 4 and claim.conformance != "F"):
            data = stream.read_bytes()[:1024] if isinstance(stream, pikepdf.Stream) else b""
            if b"%PDF-" not in data:
                problems.append(f"{name} (not a PDF)")
            continue
        missing = [k[1:] for k in ("/F", "/UF", "/AFRelationship") if k not in spec]
        if not isinstance(stream, pikepdf.Stream) or "/Subtype" not in stream:
            missing.append("Subtype")
        if claim.part == 3 and spec.is_indirect and spec.objgen not in associated:
            missing.append("AF association")
        if missing:
            problems.append(f"{name} (no {', '.join(missing)})")
    if not problems:
        return []
    return [
        Failure(
            "embedded_file",
            f"embedded files break PDF/A-{claim.part}: {_named(problems)}",
            {"files": _named(problems)},
        )
    ]


def _has_embedded_files_tree(pdf: pikepdf.Pdf) -> bool:
    names = pdf.Root.get("/Names")
    tree = names.get("/EmbeddedFiles") if isinstance(names, pikepdf.Dictionary) else None
    return isinstance(tree, pikepdf.Dictionary) and any(True for _ in pikepdf.NameTree(tree).items())


def _associated_files(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """File specifications named in some AF array (PDF/A-3 6.8: each embedded file is associated
    with the document or a part of it)."""
    out: set[tuple[int, int]] = set()
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            af = obj.get("/AF")
            if isinstance(af, pikepdf.Array):
                out.update(item.objgen for item in af if item.is_indirect)
    return out


def _embedded_file_specs(pdf: pikepdf.Pdf) -> list[tuple[str, pikepdf.Dictionary]]:
    out: list[tuple[str, pikepdf.Dictionary]] = []
    names = pdf.Root.get("/Names")
    tree = names.get("/EmbeddedFiles") if isinstance(names, pikepdf.Dictionary) else None
    if isinstance(tree, pikepdf.Dictionary):
        for name, spec in pikepdf.NameTree(tree).items():
            if isinstance(spec, pikepdf.Dictionary):
                out.append((str(name), spec))
    for annot in annotation_dicts(pdf):
        attached = annot.get("/FS")
        if annot.get("/Subtype") == pikepdf.Name.FileAttachment and isinstance(attached, pikepdf.Dictionary):
            out.append((str(attached.get("/UF", attached.get("/F", "attachment"))), attached))
    return out


_NO_APPEARANCE_NEEDED = {"/Popup", "/Link"}
_FORBIDDEN_ANNOTATIONS = {
    1: {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/3D", "/RichMedia"},
    2: {"/3D", "/Sound", "/Screen", "/Movie", "/RichMedia"},
    3: {"/3D", "/Sound", "/Screen", "/Movie", "/RichMedia"},
    4: {"/Sound", "/Screen", "/Movie"},
}
_PRINT, _HIDDEN, _INVISIBLE, _NOVIEW, _TOGGLE = 4, 2, 1, 32, 256


def check_annotations(pdf: pikepdf.Pdf, claim: Claim) -> list[Failure]:
    """ISO 19005-1 6.5.2–6.5.3, -2 6.3.1–6.3.3, -4 6.3: no forbidden annotation types; every
    annotation but Popup prints and is not hidden; every annotation but Popup and Link has a
    normal appearance (AP with only N; PDF/A-1 asks it when an AP is present)."""
    forbidden = _FORBIDDEN_ANNOTATIONS.get(claim.part, set())
    kinds: list[str] = []
    flags: list[str] = []
    appearance: list[str] = []
    for annot in annotation_dicts(pdf):
        subtype = str(annot.get("/Subtype", "/?"))
        if subtype in forbidden:
            kinds.append(subtype[1:])
        if subtype != "/Popup":
            f = int(annot.get("/F", 0))
            if not f & _PRINT or f & (_HIDDEN | _INVISIBLE | _NOVIEW | _TOGGLE):
                flags.append(subtype[1:])
        if subtype in _NO_APPEARANCE_NEEDED:
            continue
        ap = annot.get("/AP")
        if ap is None and claim.part == 1:
            continue
        if _zero_area(annot) and ap is None:
            continue
        if not isinstance(ap, pikepdf.Dictionary) or "/N" not in ap or set(ap.keys()) - {"/N"}:
            appearance.append(subtype[1:])
    out = []
    if kinds:
        out.append(
            Failure("annotation", f"forbidden annotation types: {_named(kinds)}", {"types": _named(kinds)})
        )
    if flags:
        out.append(
            Failure(
                "annotation",
                f"annotations that do not print or are hidden: {_named(flags)}",
                {"types": _named(flags)},
            )
        )
    if appearance:
        out.append(
            Failure(
                "annotation",
                f"annotations without a single normal appearance (AP N): {_named(appearance)}",
                {"types": _named(appearance)},
            )
        )
    return out


def _zero_area(annot: pikepdf.Dictionary) -> bool:
    try:
        x1, y1, x2, y2 = (float(v) for v in annot.get("/Rect", [0, 0, 0, 0]))
    except (TypeError, ValueError):
        return False
    return x1 == x2 and y1 == y2
