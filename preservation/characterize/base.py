"""The characterizer protocol, its options, and choosing characterizers by format.

Which validator applies is decided from the identification (MIME type and PUID), not from the
file name: a ``.pdf`` that is really HTML must not be "validated" as a PDF.

One file must never fail a whole ingest (issue 11 item 5): the libraries behind the
characterizers (Pillow, pikepdf, lxml) raise whatever their parsers happen to raise on hostile or
damaged input, and a parser can block (a schema include of a FIFO). :func:`characterize`
therefore runs every characterizer under a guard: an exception of any kind becomes a "could not
check" result with a ``characterize.failed`` finding naming the file, and a run that outlasts the
per-file time limit becomes a "could not check" result with ``characterize.timeout``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from preservation.characteristics import Characterization, Validity
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch
from preservation.planning.parameters import TechnicalParameters
from preservation.validation_config import ExternalValidator

DEFAULT_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class CharacterizeOptions:
    """Args:
    ffprobe: the ffprobe program.
    ffprobe_timeout: seconds before ffprobe is stopped.
    xml_schema_catalog: namespace URI -> local XSD, for offline schema validation.
    xml_search_root: a relative ``schemaLocation`` (and every include or import of that schema) is
        resolved only inside this folder.
    timeout: seconds one characterizer may spend on one file before the file is reported "could
        not check" (``characterize.timeout``).
    parameters: the TT 05 technical floors files are measured against.
    office_load: ``parser``, ``libreoffice`` or ``both`` (see :mod:`preservation.characterize.office`).
    soffice: the LibreOffice program; soffice_timeout: seconds before one load is stopped.
    external: the deployer's own validators (:mod:`preservation.characterize.external`).
    """

    ffprobe: str = "ffprobe"
    ffprobe_timeout: float = 120.0
    xml_schema_catalog: Mapping[str, Path] = field(default_factory=dict)
    xml_search_root: Path | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    parameters: TechnicalParameters = field(default_factory=TechnicalParameters)
    office_load: str = "parser"
    soffice: str = "soffice"
    soffice_timeout: float = 120.0
    external: tuple[ExternalValidator, ...] = ()


class Characterizer(Protocol):
    """``applies`` decides from the identification; ``characterize`` may return None when it
    has nothing to say about this file after all (a PDF that makes no PDF/A claim)."""

    name: str

    def applies(self, fmt: FormatMatch) -> bool: ...

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization | None: ...


def characterize(
    path: Path,
    fmt: FormatMatch,
    chosen: Sequence[Characterizer],
    *,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
) -> list[Characterization]:
    """Run every characterizer that applies to ``fmt``; an empty list means none applies.

    Never raises for a file's content: see the module docstring. ``timeout`` None means no limit.
    """
    results = (guarded(c, path, fmt, timeout) for c in chosen if c.applies(fmt))
    return [r for r in results if r is not None]


def guarded(c: Characterizer, path: Path, fmt: FormatMatch, timeout: float | None) -> Characterization | None:
    """One characterizer on one file, its exceptions and its hangs turned into findings.

    The work runs in a daemon thread so that the caller can stop waiting; a thread blocked inside
    a C library cannot be killed, so a timed-out thread is abandoned (it holds no lock of ours and
    its result is discarded). The schema resolver of the XML characterizer is what keeps that from
    happening on hostile input; this limit is the safety net behind it.
    """
    box: dict[str, Characterization | BaseException | None] = {}

    def work() -> None:
        try:
            box["result"] = c.characterize(path, fmt)
        except BaseException as exc:  # any failure of a library is a finding, not a crash
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"characterize-{c.name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return Characterization(
            c.name,
            _agent(c),
            Validity.COULD_NOT_CHECK,
            (
                Finding(
                    "characterize.timeout",
                    Severity.WARNING,
                    path.name,
                    f"{c.name} check of {path.name} stopped after {timeout:g} s",
                    {"validator": c.name, "seconds": timeout},
                ),
            ),
        )
    error = box.get("error")
    if isinstance(error, KeyboardInterrupt | SystemExit):
        raise error
    if isinstance(error, BaseException):
        text = str(error).replace(str(path), path.name)
        return Characterization(
            c.name,
            _agent(c),
            Validity.COULD_NOT_CHECK,
            (
                Finding(
                    "characterize.failed",
                    Severity.WARNING,
                    path.name,
                    f"{c.name} check of {path.name} failed: {type(error).__name__}: {text}",
                    {"validator": c.name, "error": type(error).__name__},
                ),
            ),
        )
    result = box["result"]
    assert result is None or isinstance(result, Characterization)
    return result


def _agent(c: Characterizer) -> Agent:
    """The characterizer's agent, or a stand-in when even that cannot be had (a missing tool)."""
    try:
        agent = getattr(c, "agent", None)
    except Exception:  # the agent of a broken tool is still worth naming
        agent = None
    return agent if isinstance(agent, Agent) else Agent(name=c.name, version="unknown")
