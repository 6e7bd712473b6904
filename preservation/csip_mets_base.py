"""What every CSIP METS check shares: the namespaces, the document being checked, and its links.

:class:`MetsCheckBase` holds the state of one METS document's check (the report, the package root,
the IDs seen so far) and the checks of an ``xlink:href`` every section makes (the file exists inside
the package, its SIZE and CHECKSUM agree); the section checks are in :mod:`preservation.csip_mets`
and :mod:`preservation.csip_mets_structmap`, which both build on it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote_to_bytes

from lxml import etree

from preservation.csip_requirements import Report, vocabulary
from preservation.names import resolve_relative

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
NS = {"mets": METS, "xlink": XLINK, "csip": CSIP}
HREF = f"{{{XLINK}}}href"
XTYPE = f"{{{XLINK}}}type"
XTITLE = f"{{{XLINK}}}title"
HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_DATETIME = re.compile(r"^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def is_datetime(value: str) -> bool:
    """An xs:dateTime as METS attributes carry it (CREATED, CREATEDATE)."""
    if not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class MetsCheckBase:
    """One METS document's check: the state every section check reads, and the link checks."""

    rel: str
    """The METS file being checked, relative to the package root."""
    base: str
    """Its folder, against which its ``xlink:href`` values resolve."""
    is_root: bool

    def __init__(
        self,
        report: Report,
        package_root: Path,
        ids: dict[str, str],
        *,
        expected_type: str | None,
        verify_checksums: bool,
    ) -> None:
        self.r = report
        self.root = package_root
        self.ids = ids  # every xml ID seen in the package -> where
        self.expected_type = expected_type
        self.verify = verify_checksums
        self.vocab = vocabulary

    def _w(self, el: etree._Element | None = None) -> str:
        return f"{self.rel}:{el.sourceline}" if el is not None and el.sourceline else self.rel

    def _target(
        self,
        link: etree._Element,
        href_req: str,
        *,
        check: tuple[str, str, str],
        holder: etree._Element | None = None,
    ) -> str | None:
        """Resolve ``xlink:href`` inside the package; check the holder's CHECKSUM, SIZE and CHECKSUMTYPE."""
        holder = link if holder is None else holder
        checksum_req, size_req, type_req = check
        href = link.get(HREF)
        if not href:
            self.r.add(href_req, self._w(link), "xlink:href is missing")
            return None
        rel = resolve_href(href, self.base)
        if rel is None:
            self.r.add(href_req, self._w(link), f"xlink:href {href!r} points outside the package")
            return None
        path = self.root / rel
        exists = path.is_file()
        if not exists:
            self.r.add(href_req, self._w(link), f"xlink:href {href!r}: no such file in the package", path=rel)
        size = holder.get("SIZE")
        if not size or not size.isdigit():
            self.r.add(size_req, self._w(holder), f"SIZE is missing or not a number ({size!r})")
        elif exists and int(size) != path.stat().st_size:
            self.r.add(
                size_req,
                self._w(holder),
                f"SIZE {size} differs from the file's {path.stat().st_size} bytes",
                path=rel,
                expected=size,
                found=path.stat().st_size,
            )
        ctype = holder.get("CHECKSUMTYPE")
        if not ctype or ctype not in self.vocab("checksum_type"):
            self.r.add(type_req, self._w(holder), f"CHECKSUMTYPE is missing or not a METS value ({ctype!r})")
        checksum = holder.get("CHECKSUM")
        if not checksum:
            self.r.add(checksum_req, self._w(holder), "CHECKSUM is missing")
        elif exists and self.verify and ctype in HASHES:
            found = file_digest(path, HASHES[ctype])
            if found != checksum.lower():
                self.r.add(
                    checksum_req,
                    self._w(holder),
                    f"{ctype} of {rel} is {found}, METS says {checksum.lower()}",
                    path=rel,
                    expected=checksum.lower(),
                    found=found,
                )
        return rel

    def _ids_exist(self, idrefs: str) -> bool:
        return all(i in self.ids for i in idrefs.split())

    def _files_under(self, folder: str) -> list[str]:
        base = self.root / self.base / folder if self.base else self.root / folder
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())


def resolve_href(href: str, base: str) -> str | None:
    """An ``xlink:href`` as a path inside the package, or None when it points outside it."""
    if "://" in href:
        return None
    resolved = resolve_relative(tuple(p.encode() for p in base.split("/") if p), unquote_to_bytes(href))
    return None if resolved is None else b"/".join(resolved).decode("utf-8", "surrogateescape")


def file_digest(path: Path, algorithm: str) -> str:
    """A file's digest, read in blocks (a payload file may be larger than memory)."""
    h = hashlib.new(algorithm)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
