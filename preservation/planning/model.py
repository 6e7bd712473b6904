"""The vocabulary of preservation planning: format policies, actions, and what a conversion produced.

These types are the contract between the policy registry (``preservation.planning.policy``), the
converters and their verification (``preservation.planning.convert``), and the workflows that use
them (normalization at ingest, migration, access copies for DIPs). They hold data only: a policy is
read from ``config/planning/formats.toml`` (and the data folder's override), never written in code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path


class Risk(StrEnum):
    """How likely a format is to become unreadable (the policy's judgement, not a measurement)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNKNOWN = "unknown"


class Purpose(StrEnum):
    """Why a derivative is made. The value is also the suffix of the representation it goes to
    (``rep1`` → ``rep1-preservation`` / ``rep1-access``)."""

    PRESERVATION = "preservation"
    ACCESS = "access"


class Check(StrEnum):
    """How a conversion's output is verified before it is kept (docs/planning.md describes each)."""

    OPENS = "opens"  # the output can be opened by a parser for its format
    FORMAT = "format"  # identified as the action's output PUID
    PAGES = "pages"  # page count equals the source's within ``page_tolerance``
    DURATION = "duration"  # duration equals the source's within ``duration_tolerance``
    TEXT = "text"  # extracted text similar to the source's (``text_similarity``)
    PDFA = "pdfa"  # declares PDF/A part and conformance in XMP, and embeds every font
    IMAGE = "image"  # same pixel dimensions as the source


@dataclass(frozen=True)
class Action:
    """One conversion: a tool run on a file, its output, and how the output is checked.

    ``tool`` names a converter registered in ``preservation.planning.convert`` (``libreoffice``,
    ``ghostscript``, ``ocrmypdf``, ``image``, ``ffmpeg``, or ``command`` for a deployer's own
    program). ``args`` are extra arguments the converter passes on; a ``command`` action's args are
    the whole argument list with ``{input}`` and ``{output}`` placeholders.
    """

    tool: str
    output_puid: str
    output_extension: str
    args: tuple[str, ...] = ()
    checks: tuple[Check, ...] = (Check.OPENS, Check.FORMAT)
    timeout: float = 600.0  # seconds
    memory_mb: int = 2048
    page_tolerance: int = 0
    duration_tolerance: float = 1.0  # seconds
    text_similarity: float = 0.9  # 0..1

    def fingerprint(self) -> str:
        """Changes when anything that affects the output changes (``kholuu migrate`` uses it to
        find holdings whose action changed since they were converted)."""
        blob = json.dumps(asdict(self), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class FormatPolicy:
    """What the archive does with one format (a PRONOM PUID).

    ``accepted`` maps a regulation key (``tt05``: Thông tư 05/2025/TT-BNV, ``tt02``: Thông tư
    02/2019/TT-BNV) to whether the format may be kept as the preservation master under it
    (vn-standards.md §2.2). ``media`` groups formats for the TT 05 technical parameters
    (``text``, ``image``, ``audio``, ``video``, ``other``). ``unacceptable`` means an ingest of the
    format fails when its preservation action fails (the default keeps the original).
    """

    puid: str
    name: str
    risk: Risk = Risk.UNKNOWN
    media: str = "other"
    accepted: dict[str, bool] = field(default_factory=dict)
    preservation: Action | None = None
    access: Action | None = None
    ocr: bool = False
    unacceptable: bool = False

    def action(self, purpose: Purpose) -> Action | None:
        return self.preservation if purpose is Purpose.PRESERVATION else self.access


class ConversionOutcome(StrEnum):
    SUCCESS = "success"  # output written and every check passed
    FAILED = "failed"  # the tool failed, or a check did not pass; no output is kept
    TIMED_OUT = "timed out"  # the tool outlasted the action's time limit and was stopped


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool
    detail: str  # what was compared, e.g. "12 pages, source 12"


@dataclass(frozen=True)
class Conversion:
    """What one action did to one file. ``output`` is set only when ``outcome`` is SUCCESS.

    ``tool_name``/``tool_version`` name the program for the PREMIS ``normalization``/``migration``
    event and its agent; ``stderr`` is the tool's own explanation when it failed (an excerpt).
    """

    source: Path
    purpose: Purpose
    action: Action
    outcome: ConversionOutcome
    output: Path | None
    tool_name: str
    tool_version: str
    started: datetime
    ended: datetime
    checks: tuple[CheckResult, ...] = ()
    stderr: str = ""
    message: str = ""  # one line a person understands: why it failed, or what was produced
    message_code: str = ""  # the message's code in config/messages ([planning.convert]), for i18n
    message_params: dict[str, str] = field(default_factory=dict)  # the values the code's text names
    isolation: str = ""  # what the sandbox enforced, e.g. "no network, own PID namespace, memory 2048 MB"
