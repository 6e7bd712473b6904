"""Running one conversion program in a sandbox: its own folders, a time limit, a memory limit, no
network, no shell.

A converter reads untrusted files (a submitted DOCX may carry macros, a PDF may be built to make a
renderer loop or allocate without end), so every conversion program runs:

- in a fresh temporary folder with its own ``HOME`` and ``TMPDIR`` (removed afterwards), with a
  minimal environment (no credentials or settings of ours leak into it);
- in its own process group, killed whole (``SIGKILL``) when the wall-clock limit passes: soffice
  forks ``soffice.bin``, ocrmypdf forks tesseract and Ghostscript;
- with ``RLIMIT_AS`` (address space) set through ``prlimit``, so a program that allocates without
  end fails instead of taking the server down. ``RLIMIT_AS`` counts mapped address space, not
  resident memory: shared libraries and thread stacks count too, which is why each converter
  states a floor (:data:`MEMORY_FLOOR_MB` in ``convert.py``);
- in new network and PID namespaces (``unshare --net --pid --fork --kill-child``) where the kernel
  lets us create them (as root, or with unprivileged user namespaces): no network at all, and
  every process it started dies with it, even one that left the process group. Where that is not
  possible the program still runs, and :class:`Isolation` says so (``network=False`` with the
  reason), so the PREMIS event can tell the truth;
- with stdout and stderr written to files in its folder, of which only the tail is kept.

LibreOffice also gets a profile of its own per run (:func:`libreoffice_profile`) whose macro
security forbids every macro, so two runs never share or corrupt a profile and can run in parallel.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import escape as xml_escape

OUTPUT_EXCERPT_BYTES = 4000
"""How much of the end of stdout and stderr a result keeps."""

_PATH = "/usr/local/bin:/usr/bin:/bin"

_NAMESPACES = ("--net", "--pid", "--fork", "--kill-child")
_PROBES: tuple[tuple[str, ...], ...] = (_NAMESPACES, ("--user", "--map-root-user", *_NAMESPACES))
"""Tried in order: as root the first works; an unprivileged user needs a user namespace."""


@dataclass(frozen=True)
class SandboxOptions:
    """Args:
    unshare: the ``unshare`` program (util-linux); a path that does not exist turns namespaces off.
    prlimit: the ``prlimit`` program; when missing, the memory limit is not applied and
        :class:`Isolation` says so.
    temp_root: where the temporary folders are made (default: the system's temporary folder).
    """

    unshare: str = "unshare"
    prlimit: str = "prlimit"
    temp_root: Path | None = None


@dataclass(frozen=True)
class Isolation:
    """What the sandbox could actually enforce on one run.

    Attributes:
        network: the program ran without any network (its own empty network namespace).
        processes: the program ran in its own PID namespace (everything it started died with it).
        memory_mb: the address-space limit applied, 0 when none could be applied.
        note: why something was not available, e.g. "unshare: Operation not permitted".
    """

    network: bool
    processes: bool
    memory_mb: int
    note: str = ""

    def describe(self) -> str:
        """One line for an event detail, e.g. ``no network, own PID namespace, memory 2048 MB``."""
        parts = ["no network" if self.network else "network NOT isolated"]
        if self.processes:
            parts.append("own PID namespace")
        parts.append(f"memory {self.memory_mb} MB" if self.memory_mb else "no memory limit")
        text = ", ".join(parts)
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class SandboxResult:
    """One program run. ``exit_code`` is None when the program was killed for its time limit or
    could not be started (``missing``)."""

    argv: tuple[str, ...]
    exit_code: int | None
    timed_out: bool
    missing: bool
    stdout: str
    stderr: str
    duration: float  # seconds
    isolation: Isolation

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@functools.cache
def _namespace_prefix(unshare: str) -> tuple[tuple[str, ...], str]:
    """The ``unshare`` arguments that work here (probed once per process), or why none does."""
    program = shutil.which(unshare)
    if program is None:
        return (), f"{unshare} not found"
    reason = ""
    for flags in _PROBES:
        try:
            probe = subprocess.run(
                [program, *flags, "--", "true"], capture_output=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = str(exc)
            continue
        if probe.returncode == 0:
            return (program, *flags, "--"), ""
        lines = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit code {probe.returncode}"
    return (), f"namespaces not available: {reason}"


def _tail(path: Path, limit: int = OUTPUT_EXCERPT_BYTES) -> str:
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - limit))
            data = fh.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace").strip()
    return ("…" + text) if size > limit else text


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Sandbox:
    """A fresh folder for one conversion, removed on exit: ``work`` (the current folder of the
    programs, where inputs are linked and outputs written), ``home`` and ``tmp``.

    Use as a context manager; :meth:`run` may be called several times inside it (a converter that
    needs two programs).
    """

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.root = Path(tempfile.mkdtemp(prefix="kholuu-convert-", dir=self.options.temp_root))
        self.work = self.root / "work"
        self.home = self.root / "home"
        self.tmp = self.root / "tmp"
        for folder in (self.work, self.home, self.tmp):
            folder.mkdir(mode=0o700)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment a program sees: nothing of ours is inherited."""
        env = {
            "PATH": _PATH,
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        env.update(extra or {})
        return env

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        memory_mb: int,
        env: Mapping[str, str] | None = None,
    ) -> SandboxResult:
        """Run ``argv`` (no shell) in :attr:`work`; never raises for what the program does.

        Args:
            argv: the program and its arguments.
            timeout: wall-clock seconds before the whole process group is killed.
            memory_mb: ``RLIMIT_AS`` in MiB for the program and each process it starts; 0 = none.
            env: variables added to the minimal environment.
        """
        prefix, note = _namespace_prefix(self.options.unshare)
        if shutil.which(argv[0], path=_PATH) is None:
            return SandboxResult(
                tuple(argv),
                None,
                False,
                True,
                "",
                f"{argv[0]} not found",
                0.0,
                Isolation(False, False, 0, note),
            )
        limit: list[str] = []
        applied_mb = 0
        if memory_mb > 0:
            prlimit = shutil.which(self.options.prlimit)
            if prlimit:
                limit = [prlimit, f"--as={memory_mb * 1024 * 1024}", "--"]
                applied_mb = memory_mb
            else:
                note = "; ".join(filter(None, (note, f"{self.options.prlimit} not found")))
        isolation = Isolation(network=bool(prefix), processes=bool(prefix), memory_mb=applied_mb, note=note)
        full = [*prefix, *limit, *argv]
        out_path, err_path = self.root / "stdout", self.root / "stderr"
        started = time.monotonic()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            try:
                proc = subprocess.Popen(
                    full,
                    cwd=self.work,
                    env=self.environment(env),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            except OSError as exc:  # e.g. not executable
                return SandboxResult(
                    tuple(argv), None, False, False, "", str(exc), time.monotonic() - started, isolation
                )
            timed_out = False
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill_group(proc.pid)  # also what a finished program left running in its group
            proc.wait()
        duration = time.monotonic() - started
        exit_code = None if timed_out else proc.returncode
        return SandboxResult(
            tuple(argv), exit_code, timed_out, False, _tail(out_path), _tail(err_path), duration, isolation
        )


_XCU_ITEM = (
    '<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
)
_SECURITY = "/org.openoffice.Office.Common/Security/Scripting"
LIBREOFFICE_SETTINGS: tuple[tuple[str, str, str], ...] = (
    (_SECURITY, "MacroSecurityLevel", "3"),
    (_SECURITY, "DisableMacrosExecution", "true"),
    (_SECURITY, "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Misc", "UseOpenCL", "false"),
    ("/org.openoffice.Office.Common/Misc", "FirstRun", "false"),
    ("/org.openoffice.Setup/Office", "ooSetupInstCompleted", "true"),
)
"""The settings of every fresh LibreOffice profile: macro security "very high" (3: only signed
macros from trusted locations, and there are none) and macro execution disabled outright, links
to untrusted referers blocked, no OpenCL probing, no first-start work."""


def libreoffice_profile(box: Sandbox, version_line: str = "") -> str:
    """Create a fresh LibreOffice user profile inside ``box`` and return the value for
    ``-env:UserInstallation=``; LibreOffice fills in the rest on its start.

    ``version_line`` is ``soffice --version``'s (``LibreOffice 7.4.7.2 40(Build:2)``): recording
    that this profile already ran this version keeps LibreOffice from running its graphics render
    tests and upgrade checks on every start of a new profile (measured: 3.8 s → 1.4 s a start).
    """
    settings = list(LIBREOFFICE_SETTINGS)
    words = version_line.split()
    if len(words) >= 3 and words[0] == "LibreOffice":
        settings.append(
            ("/org.openoffice.Setup/Product", "ooSetupLastVersion", ".".join(words[1].split(".")[:2]))
        )
        settings.append(("/org.openoffice.Setup/Office", "LastCompatibilityCheckID", xml_escape(words[2])))
    items = "\n".join(_XCU_ITEM.format(path=p, name=n, value=v) for p, n, v in settings)
    profile = box.root / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}\n</oor:items>\n",
        encoding="utf-8",
    )
    return profile.as_uri()
