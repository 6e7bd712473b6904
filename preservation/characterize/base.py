"""The characterizer protocol, its options, and choosing characterizers by format.

Which validator applies is decided from the identification (MIME type and PUID), not from the
file name: a ``.pdf`` that is really HTML must not be "validated" as a PDF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from preservation.characteristics import Characterization
from preservation.formats import FormatMatch


@dataclass(frozen=True)
class CharacterizeOptions:
    """Args:
    ffprobe: the ffprobe program.
    ffprobe_timeout: seconds before ffprobe is stopped.
    xml_schema_catalog: namespace URI -> local XSD, for offline schema validation.
    xml_search_root: a relative ``schemaLocation`` is resolved only inside this folder.
    """

    ffprobe: str = "ffprobe"
    ffprobe_timeout: float = 120.0
    xml_schema_catalog: Mapping[str, Path] = field(default_factory=dict)
    xml_search_root: Path | None = None


class Characterizer(Protocol):
    name: str

    def applies(self, fmt: FormatMatch) -> bool: ...

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization: ...


def characterize(path: Path, fmt: FormatMatch, chosen: Sequence[Characterizer]) -> list[Characterization]:
    """Run every characterizer that applies to ``fmt``; an empty list means none applies."""
    return [c.characterize(path, fmt) for c in chosen if c.applies(fmt)]
