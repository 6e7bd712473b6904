"""File names as submitted, as stored and as compared.

A name is kept byte for byte: an NFD name from a macOS submitter stays NFD on disk, in the AIP and
in PREMIS ``originalName``; the catalog also keeps its NFC form so that "Quyết định" typed on any
keyboard finds it (Unicode normalization forms, UAX #15). Names that are not valid UTF-8 (old
Windows-1258 zips) cannot be written into UTF-8 XML or an OCFL inventory as they are; they get a
percent-escaped UTF-8 name for storage and their exact bytes are recorded alongside.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from preservation.errors import UnsafePackageError

_CONTROL = {*range(0x00, 0x20), 0x7F}
NAME_MAX_BYTES = 255
"""Bytes of one name (one path component) that ext4, NTFS (as UTF-16 units) and most file systems
accept; a longer one cannot be written, restored or exported anywhere."""
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)
"""Device names Windows reserves in every folder, with or without an extension (``NUL.txt``)."""
WINDOWS_FORBIDDEN = frozenset('<>:"|?*\\')
"""Characters no Windows name may hold (besides control characters, refused already)."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """The comparison form of Vietnamese free text: NFC first, then no diacritics (NFD, combining
    marks dropped), ``đ``/``Đ`` → ``d``, case-folded, runs of white space collapsed to one space.

    Search "ignores diacritics when asked to" and legacy values ("VĨNH VIỄN", decomposed "Vĩnh
    viễn") are matched with this one function. ``đ`` has no decomposition in Unicode, so it is
    mapped by hand; so are ``Ð``/``ð`` (U+00D0/U+00F0), which texts converted from TCVN3/VNI fonts
    often carry for ``Đ``/``đ``.
    """
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.translate({0x0111: "d", 0x0110: "d", 0x00D0: "d", 0x00F0: "d"})
    return " ".join(bare.casefold().split())


def is_valid_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def readable(raw: bytes) -> str:
    """A lossless text form of ``raw``: the UTF-8 text, with undecodable bytes as ``%XX``.

    A literal ``%`` is escaped as ``%25`` only when the name also has undecodable bytes, so valid
    UTF-8 names come back unchanged.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    i = 0
    while i < len(raw):
        # Decode the longest valid UTF-8 run starting at i.
        for length in (4, 3, 2, 1):
            chunk = raw[i : i + length]
            if len(chunk) < length:
                continue
            try:
                char = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append("%25" if char == "%" else char)
            i += length
            break
        else:
            out.append(f"%{raw[i]:02X}")
            i += 1
    return "".join(out)


def resolve_relative(base: tuple[bytes, ...], target: bytes) -> tuple[bytes, ...] | None:
    """Resolve a ``/``-separated relative ``target`` against the folder ``base``, lexically.

    Returns ``None`` when the target is absolute (``/x``, ``C:x``, ``\\x``) or climbs above the
    root with ``..``: links, manifests and METS hrefs in a package may only point inside it.
    """
    if target.startswith((b"/", b"\\")) or (
        len(target) >= 2 and target[1:2] == b":" and target[:1].isalpha()
    ):
        return None
    stack = list(base)
    for part in target.split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            if not stack:
                return None
            stack.pop()
        else:
            stack.append(part)
    return tuple(stack)


def check_component(raw: bytes, *, where: str) -> None:
    """Refuse a path component no honest package contains.

    Raises:
        UnsafePackageError: for empty, ``.``/``..``, slash, NUL or control characters (which also
            break line-oriented tools such as BagIt manifests and ClamAV's report).
    """
    if raw in (b"", b".", b".."):
        raise UnsafePackageError(
            f"path component {raw!r} is not allowed", code="unpack.bad_component", path=where
        )
    if b"/" in raw or any(byte in _CONTROL for byte in raw):
        raise UnsafePackageError(
            "file name contains a control character", code="unpack.control_character", path=where
        )
    if len(raw) > NAME_MAX_BYTES:
        raise UnsafePackageError(
            f"a name of {len(raw)} bytes (limit {NAME_MAX_BYTES} per name)",
            code="unpack.component_too_long",
            path=where,
            params={"limit": NAME_MAX_BYTES, "value": len(raw)},
        )
    problem = windows_problem(readable(raw))
    if problem is not None:
        raise UnsafePackageError(
            f"{readable(raw)!r} cannot be a file name on Windows ({problem})",
            code="unpack.windows_name",
            path=where,
            params={"name": readable(raw), "problem": problem},
        )


def windows_problem(name: str) -> str | None:
    """Why ``name`` (one component) cannot exist on Windows, or None.

    The archive's users restore and receive packages on Windows: a name Windows cannot create is
    lost or silently renamed there (``CON``, ``NUL.txt``, a trailing dot or space), and a backslash
    is a path separator to every Windows unzip tool (``..\\..\\x`` is a zip-slip). Such names are
    refused on receipt like NFC/NFD twins, for the same reason: they cannot be restored.
    """
    bad = sorted({c for c in name if c in WINDOWS_FORBIDDEN})
    if bad:
        return "character " + " ".join(bad)
    if name.endswith((".", " ")):
        return "ends with a dot or a space"
    if name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        return "reserved device name"
    return None


def portable_path_problem(path: str) -> str | None:
    """Why a ``/``-separated relative path may not be a ZIP entry name given to another system
    (exports), or None: absolute, drive letters, ``..`` in either separator, names Windows cannot
    create. Exports check every entry with this, so an AIP stored before these rules were in force
    can never carry a zip-slip out."""
    if path.startswith(("/", "\\")) or (len(path) >= 2 and path[1] == ":"):
        return "absolute path"
    for part in path.split("/"):
        if part in ("", ".", "..") or ".." in part.split("\\"):
            return f"path component {part!r}"
        problem = windows_problem(part)
        if problem is not None:
            return f"{part!r}: {problem}"
    return None


@dataclass(frozen=True)
class FileName:
    """A relative path inside a package, in its three forms.

    Attributes:
        raw: the exact bytes as submitted (``/``-separated).
        text: the path as text: identical to the submitted name when it is UTF-8 (NFD stays NFD),
            else :func:`readable`. This is the name the file has inside the AIP.
        normalized: NFC form of ``text``; what the catalog compares and searches.
    """

    raw: bytes

    @property
    def text(self) -> str:
        return readable(self.raw)

    @property
    def normalized(self) -> str:
        return nfc(self.text)

    @property
    def is_utf8(self) -> bool:
        return is_valid_utf8(self.raw)

    def uri(self) -> str:
        """The path as a relative URI reference (RFC 3986), for METS ``xlink:href``."""
        return quote(self.text.encode("utf-8"), safe="/")


def from_text(text: str) -> FileName:
    """A :class:`FileName` from a str path as ``os`` returns it (undecodable bytes as surrogates)."""
    return FileName(text.encode("utf-8", "surrogateescape"))
