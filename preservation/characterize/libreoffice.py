"""Opening a document in LibreOffice, headless, as the check that it loads.

The file is converted to a throwaway format (text, CSV or PDF, the cheapest export of its kind)
with the import filter forced (``--infilter``): without it LibreOffice falls back to importing
anything as plain text, and a load proves nothing. LibreOffice runs in a profile folder of its
own (never the user's), without macros (the default security level runs none unsigned), with
the launcher and its ``soffice.bin`` killed as a group past the time limit. No output file, or
"source file could not be loaded", is invalid; a missing program or a timeout is "could not
check". A first run creates the profile (a few seconds more); later runs reuse it.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.characterize.office_formats import office_format
from preservation.errors import ToolError
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch
from preservation.tools import run_tool

PREPARE_BATCH = 32
"""Files given to one soffice start."""


class LibreOfficeLoader:
    """Runs the load check; shared by the characterizer and anything else that must open a file."""

    def __init__(self, soffice: str = "soffice", timeout: float = 120.0) -> None:
        self.soffice = soffice
        self.timeout = timeout
        self._profiles = threading.local()
        self._agent: Agent | None = None

    @property
    def agent(self) -> Agent:
        if self._agent is None:
            try:
                run = run_tool("LibreOffice", [self.soffice, "--version"], timeout=60, kill_group=True)
                words = run.stdout.split()
                version = words[1] if len(words) > 1 and words[0] == "LibreOffice" else "unknown"
            except ToolError:
                version = "missing"
            self._agent = Agent(name="LibreOffice", version=version)
        return self._agent

    def _profile_dir(self) -> Path:
        """This thread's LibreOffice profile: two soffice processes cannot share one, and the
        ingest characterizes files on several threads (``[ingest] workers``)."""
        profile: Path | None = getattr(self._profiles, "path", None)
        if profile is None:
            profile = Path(tempfile.mkdtemp(prefix="kholuu-lo-profile-"))
            weakref.finalize(self, shutil.rmtree, profile, True)
            self._profiles.path = profile
        return profile

    def load(self, path: Path, import_filter: str, output: str) -> tuple[Validity, Finding | None]:
        """Validity and, unless valid, the finding that says why."""
        with tempfile.TemporaryDirectory(prefix="kholuu-lo-") as work:
            out_dir = Path(work)
            argv = [
                self.soffice,
                f"-env:UserInstallation={self._profile_dir().as_uri()}",
                "--headless",
                "--invisible",
                "--nologo",
                "--norestore",
                "--nodefault",
                "--nolockcheck",
                f"--infilter={import_filter}",
                "--convert-to",
                output,
                "--outdir",
                str(out_dir),
                str(path),
            ]
            try:
                run = run_tool("LibreOffice", argv, timeout=self.timeout, cwd=out_dir, kill_group=True)
            except ToolError as exc:
                code = (
                    "office.libreoffice_missing"
                    if exc.code == "tool.missing"
                    else "office.libreoffice_timeout"
                )
                return Validity.COULD_NOT_CHECK, Finding(code, Severity.WARNING, path.name, str(exc))
            produced = [p for p in out_dir.iterdir() if p.is_file() and p.stat().st_size > 0]
        if produced:
            return Validity.VALID, None
        said = " ".join(
            line for line in (run.stdout + "\n" + run.stderr).splitlines() if "javaldx" not in line
        ).strip()
        said = said.replace(str(path), path.name) or f"exit code {run.exit_code}, no output"
        return Validity.INVALID, Finding(
            "office.not_loaded",
            Severity.ERROR,
            path.name,
            f"LibreOffice could not load it with the {import_filter} filter: {said}",
            {"filter": import_filter},
        )

    def load_many(
        self, items: Sequence[tuple[Path, str, str]]
    ) -> dict[Path, tuple[Validity, Finding | None]]:
        """The load check of several files (path, import filter, output) with one soffice start
        per filter: starting LibreOffice costs seconds, loading a small file milliseconds. A file
        the batch produced nothing for is loaded again alone, so its finding is its own."""
        out: dict[Path, tuple[Validity, Finding | None]] = {}
        groups: dict[tuple[str, str], list[Path]] = {}
        for path, import_filter, output in items:
            groups.setdefault((import_filter, output), []).append(path)
        for (import_filter, output), paths in groups.items():
            loaded = self._load_batch(paths, import_filter, output) if len(paths) > 1 else set()
            for path in paths:
                out[path] = (
                    (Validity.VALID, None) if path in loaded else self.load(path, import_filter, output)
                )
        return out

    def _load_batch(self, paths: Sequence[Path], import_filter: str, output: str) -> set[Path]:
        """The files of ``paths`` one soffice run converted (none when it failed or timed out)."""
        with tempfile.TemporaryDirectory(prefix="kholuu-lo-") as work:
            inputs, out_dir = Path(work) / "in", Path(work) / "out"
            inputs.mkdir()
            out_dir.mkdir()
            names: dict[str, Path] = {}
            for i, path in enumerate(paths):  # short distinct names: no two outputs collide
                link = inputs / f"{i}{path.suffix}"
                link.symlink_to(path.resolve())
                names[str(i)] = path
            argv = [
                self.soffice,
                f"-env:UserInstallation={self._profile_dir().as_uri()}",
                "--headless",
                "--invisible",
                "--nologo",
                "--norestore",
                "--nodefault",
                "--nolockcheck",
                f"--infilter={import_filter}",
                "--convert-to",
                output,
                "--outdir",
                str(out_dir),
                *(str(inputs / f"{i}{path.suffix}") for i, path in enumerate(paths)),
            ]
            try:
                run_tool("LibreOffice", argv, timeout=self.timeout * len(paths), cwd=out_dir, kill_group=True)
            except ToolError:
                return set()
            return {
                names[p.stem]
                for p in out_dir.iterdir()
                if p.is_file() and p.stat().st_size > 0 and p.stem in names
            }


class LibreOfficeCharacterizer:
    """The load check as a characterizer. ``families`` limits it to the formats no parser covers
    (the default, ``office_load = "parser"``); None loads every format LibreOffice imports."""

    name = "libreoffice"

    def __init__(self, loader: LibreOfficeLoader, *, only_without_parser: bool = True) -> None:
        self.loader = loader
        self.only_without_parser = only_without_parser
        self._prepared: dict[Path, tuple[Validity, Finding | None]] = {}

    @property
    def agent(self) -> Agent:
        return self.loader.agent

    def applies(self, fmt: FormatMatch) -> bool:
        office = office_format(fmt)
        if office is None or not office.filter:
            return False
        return not (self.only_without_parser and office.parser_checks_content)

    def prepare(self, files: Sequence[tuple[Path, FormatMatch]]) -> None:
        """Load the files this characterizer applies to in batches (:meth:`LibreOfficeLoader.load_many`);
        :meth:`characterize` then answers from the results, once each."""
        items = []
        for path, fmt in files:
            office = office_format(fmt)
            if office is not None and self.applies(fmt):
                items.append((path, office.filter, office.output))
        for start in range(0, len(items), PREPARE_BATCH):
            self._prepared.update(self.loader.load_many(items[start : start + PREPARE_BATCH]))

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        office = office_format(fmt)
        assert office is not None
        prepared = self._prepared.pop(path, None)
        validity, finding = prepared or self.loader.load(path, office.filter, office.output)
        props: dict[str, PropertyValue] = {"filter": office.filter}
        return Characterization("libreoffice", self.agent, validity, (finding,) if finding else (), props)
