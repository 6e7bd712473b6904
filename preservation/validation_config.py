"""What a deployer configures about file validation, kept apart from the validators themselves so
that reading the settings does not load pikepdf, Pillow and the rest.

:class:`ExternalValidator` describes a deployer's own validator (veraPDF, JHOVE...) run as a
command by :mod:`preservation.characterize.external`; :class:`OfficeLoad` says how much
LibreOffice is used to open office documents (:mod:`preservation.characterize.office`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class OfficeLoad(StrEnum):
    """``parser``: the parsers, LibreOffice only where no parser reads the content; ``libreoffice``:
    LibreOffice wherever it imports the format; ``both``: the parsers and LibreOffice."""

    PARSER = "parser"
    LIBREOFFICE = "libreoffice"
    BOTH = "both"


@dataclass(frozen=True)
class ExternalValidator:
    """One external validator. Attributes:
    name: short stable name, used as the validator's name in results (``verapdf``, ``jhove``).
    argv: the command, one argument per item; ``{input}`` is replaced by the file's path.
    puids: PRONOM ids it validates.
    mime_types: MIME types it validates (either list may be empty, not both).
    valid_exit_codes / invalid_exit_codes: exit codes meaning valid / invalid (any other:
        could not check). Used when ``valid_pattern`` is empty.
    valid_pattern / invalid_pattern: regular expressions searched in standard output; the
        invalid one wins when both match; neither: could not check.
    timeout_seconds: past this the program (and its children) are killed: could not check.
    version: what the agent records as the tool's version (the deployer knows it).
    """

    name: str
    argv: tuple[str, ...]
    puids: tuple[str, ...] = ()
    mime_types: tuple[str, ...] = ()
    valid_exit_codes: tuple[int, ...] = (0,)
    invalid_exit_codes: tuple[int, ...] = (1,)
    valid_pattern: str = ""
    invalid_pattern: str = ""
    timeout_seconds: float = 300.0
    version: str = "unknown"

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with this configuration, as (key, problem); empty when it can run."""
        out: list[tuple[str, str]] = []
        if not re.fullmatch(r"[a-z0-9_-]+", self.name):
            out.append(("name", "lower-case letters, digits, '-' and '_' only"))
        if not self.argv or not any("{input}" in a for a in self.argv):
            out.append(("argv", "needs the program and an argument with {input}"))
        if not self.puids and not self.mime_types:
            out.append(("puids", "give the PUIDs and/or mime_types it validates"))
        for key in ("valid_pattern", "invalid_pattern"):
            try:
                re.compile(getattr(self, key))
            except re.error as exc:
                out.append((key, f"not a regular expression: {exc}"))
        if self.invalid_pattern and not self.valid_pattern:
            out.append(("valid_pattern", "needed with invalid_pattern"))
        if self.timeout_seconds <= 0:
            out.append(("timeout_seconds", "must be positive"))
        return out
