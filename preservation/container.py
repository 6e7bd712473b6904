"""Limits for ZIP-based files we open ourselves (XLSX workbooks), checked before any library reads them.

The archive bomb guard of :mod:`preservation.safepath` covers the submission's own container; a
file *inside* a folder that we then open (a mục lục XLSX read by openpyxl) is a second container,
and a 1.5 MB workbook whose sheet inflates to 1.5 GiB once took an ingest to 4.9 GB of memory
(issue 11 item 19). :func:`check_zip_container` reads the central directory (declared sizes: cheap,
refuses most bombs at once) and then inflates every member through a streaming decompressor,
counting bytes and holding one block at a time (headers can lie; zipfile also stops a member at
its declared size and checks its CRC), before the library is allowed to open the file.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from preservation.errors import PreservationError

BLOCK = 1 << 20


@dataclass(frozen=True)
class ContainerLimits:
    """Attributes:
    max_members: entries in the container.
    max_total_bytes: uncompressed bytes of all members together.
    max_ratio: uncompressed bytes / container bytes, enforced past ``ratio_floor_bytes``.
    ratio_floor_bytes: below this many uncompressed bytes the ratio is not enforced (XML
        compresses very well; a small workbook may legitimately inflate 50 times).
    """

    max_members: int = 10_000
    max_total_bytes: int = 512 << 20
    max_ratio: float = 150.0
    ratio_floor_bytes: int = 32 << 20


class ContainerLimitError(PreservationError):
    """A ZIP-based file is over a limit; ``params``: limit, value, allowed, member."""

    code = "container.limits"


def check_zip_container(path: Path, limits: ContainerLimits | None = None) -> None:
    """Refuse ``path`` (a ZIP-based file) when it is over ``limits``; memory stays at one block.

    Raises:
        ContainerLimitError: over a limit.
        zipfile.BadZipFile, OSError, zlib.error: not a readable ZIP (the caller's "damaged").
    """
    limits = limits or ContainerLimits()
    size = max(path.stat().st_size, 1)
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if len(members) > limits.max_members:
            _over("max_members", len(members), limits.max_members, "")
        declared = 0
        for info in members:
            declared += info.file_size
            _check(limits, declared, size, info.filename)
        actual = 0
        for info in members:
            with zf.open(info) as fh:
                while block := fh.read(BLOCK):
                    actual += len(block)
                    _check(limits, actual, size, info.filename)


def _check(limits: ContainerLimits, total: int, size: int, member: str) -> None:
    if total > limits.max_total_bytes:
        _over("max_total_bytes", total, limits.max_total_bytes, member)
    if total > limits.ratio_floor_bytes and total / size > limits.max_ratio:
        _over("max_ratio", round(total / size, 1), limits.max_ratio, member)


def _over(limit: str, value: float, allowed: float, member: str) -> None:
    raise ContainerLimitError(
        f"{limit} exceeded ({value} > {allowed}) at member {member!r}",
        params={"limit": limit, "value": value, "allowed": allowed, "member": member},
    )
