"""Format identification results (PRONOM), shared by the engines and the package writers."""

from __future__ import annotations

from dataclasses import dataclass, field

from preservation.events import Agent

UNIDENTIFIED = "unidentified"
"""What we record, explicitly, when no engine could name the format."""


@dataclass(frozen=True)
class FormatMatch:
    """One candidate format an engine proposed.

    Attributes:
        puid: PRONOM unique identifier, e.g. ``fmt/276``; ``UNIDENTIFIED`` when none.
        name: PRONOM format name, e.g. ``Acrobat PDF 1.7 - Portable Document Format``.
        version: PRONOM format version, ``""`` when PRONOM gives none.
        mime: the MIME type PRONOM lists, ``""`` when none.
        basis: why the engine chose it (``eventOutcomeDetail``), e.g. ``byte match at 0, 8``.
        warning: the engine's own caveat, e.g. ``extension mismatch``.
    """

    puid: str
    name: str = ""
    version: str = ""
    mime: str = ""
    basis: str = ""
    warning: str = ""

    @property
    def identified(self) -> bool:
        return self.puid != UNIDENTIFIED


@dataclass(frozen=True)
class FormatIdentification:
    """An engine's answer for one file: the chosen match plus every candidate it gave.

    Attributes:
        agent: the engine, its version and signature file (e.g. ``Siegfried 1.11.9``, note with
            ``DROID_SignatureFile_V125.xml; container-signature-20260119.xml``).
        chosen: the match we record as the file's format (first-result semantics).
        candidates: all matches in the engine's order; fido often gives several.
    """

    agent: Agent
    chosen: FormatMatch
    candidates: tuple[FormatMatch, ...] = field(default_factory=tuple)

    @property
    def puid(self) -> str:
        return self.chosen.puid
