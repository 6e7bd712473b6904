"""The fixity a PREMIS document records for each file object, read as a stream.

A fixity audit compares what an AIP's PREMIS says of every file (PREMIS 3 Data Dictionary §1.5.2
``fixity``, §1.5.3 ``size``) with what the catalog recorded at ingest. It needs four values of each
file object and none of the events, agents or characterization that make up most of the document,
so it does not build the whole tree (:func:`preservation.premis_read.read_premis` does, for the
catalog rebuild): each top-level element is read, used and dropped, so memory stays at one element
whatever the number of files, and a document of 4,000 files with 12,000 events is read about ten
times faster (issue 14).

The same rules as :func:`~preservation.premis_read.read_premis` apply to what is read: one
``local`` object identifier, a SHA-256 and a SHA-512 of the right length, a size in digits;
otherwise the document is not one we wrote and :class:`PremisReadError` says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from lxml import etree

from preservation.premis import PREMIS_NS, XSI_NS
from preservation.premis_records import PremisReadError

_OBJECT = f"{{{PREMIS_NS}}}object"
_TOP = frozenset({_OBJECT, f"{{{PREMIS_NS}}}event", f"{{{PREMIS_NS}}}agent", f"{{{PREMIS_NS}}}rights"})
_P = f"{{{PREMIS_NS}}}"
_DIGEST_LENGTHS = {"SHA-256": 64, "SHA-512": 128}
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True)
class FileFixity:
    """What one PREMIS file object records: its path in the AIP (the ``local`` identifier), size and
    digests (lower-case hex)."""

    aip_path: str
    size: int
    sha256: str
    sha512: str


def iter_file_fixity(stream: IO[bytes], where: str) -> Iterator[FileFixity]:
    """Each file object's fixity, in document order.

    Raises:
        PremisReadError: ``xml.not_well_formed`` when it is not XML; ``premis.invalid`` when it is
            not PREMIS 3 or a file object lacks one of the values above.
    """
    events = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    )
    try:
        _, root = next(events)
        if root.tag != f"{_P}premis" or not str(root.get("version", "")).startswith("3."):
            raise PremisReadError(
                where, f"root element {root.tag} version {root.get('version')!r} is not PREMIS 3"
            )
        for kind, element in events:
            if kind != "end" or element.tag not in _TOP or element.getparent() is not root:
                continue
            if element.tag == _OBJECT and _object_type(element, where) == "file":
                yield _file(element, where)
            element.clear()
            del root[0 : root.index(element) + 1]  # what was read goes: memory stays at one element
    except etree.XMLSyntaxError as exc:
        raise PremisReadError(where, f"not well-formed XML: {exc}", code="xml.not_well_formed") from None


def _object_type(obj: etree._Element, where: str) -> str:
    value = obj.get(f"{{{XSI_NS}}}type", "")
    prefix, _, local = value.rpartition(":")
    if obj.nsmap.get(prefix or None) != PREMIS_NS:
        raise PremisReadError(where, f"object with xsi:type {value!r} outside the PREMIS namespace")
    return local


def _file(obj: etree._Element, where: str) -> FileFixity:
    locals_ = [
        i.findtext(f"{_P}objectIdentifierValue") or ""
        for i in obj.iterfind(f"{_P}objectIdentifier")
        if i.findtext(f"{_P}objectIdentifierType") == "local"
    ]
    if len(locals_) != 1 or not locals_[0]:
        raise PremisReadError(
            where, f"a file object has {len(locals_)} local objectIdentifiers, expected one"
        )
    path = locals_[0]
    chars = obj.find(f"{_P}objectCharacteristics")
    if chars is None:
        raise PremisReadError(where, f"file {path} has no objectCharacteristics")
    digests: dict[str, str] = {}
    for fixity in chars.iterfind(f"{_P}fixity"):
        algorithm = fixity.findtext(f"{_P}messageDigestAlgorithm") or ""
        value = (fixity.findtext(f"{_P}messageDigest") or "").strip().lower()
        if algorithm in _DIGEST_LENGTHS:
            if len(value) != _DIGEST_LENGTHS[algorithm] or not _HEX.fullmatch(value):
                raise PremisReadError(where, f"file {path} has a malformed {algorithm} digest {value!r}")
            digests[algorithm] = value
    missing = sorted(set(_DIGEST_LENGTHS) - set(digests))
    if missing:
        raise PremisReadError(where, f"file {path} has no {' or '.join(missing)} fixity")
    size = chars.findtext(f"{_P}size") or ""
    if not size.isdigit():
        raise PremisReadError(where, f"file {path} has size {size!r}")
    return FileFixity(path, int(size), digests["SHA-256"], digests["SHA-512"])


__all__ = ["FileFixity", "iter_file_fixity"]
