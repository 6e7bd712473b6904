"""Virus check with ClamAV (``clamscan``), recording exactly which signatures were used.

One ``clamscan`` run covers the whole quarantined submission. A file ClamAV could not scan whole
(over its size limits, archives nested too deep, a password-protected archive or document) is
reported, never silently passed: ``--alert-exceeds-max`` and ``--alert-encrypted-*`` turn it into a
detection, which is kept apart from infections as "unscanned".

The PREMIS agent carries the engine version and the signature database versions
(the ``.cvd``/``.cld`` headers), or, for a local signature file such as the EICAR-only test file
in ``config/clamav``, its name, SHA-256 and signature count, so nobody can mistake a test scan for
a real one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from preservation.errors import ToolError
from preservation.events import Agent
from preservation.tools import ToolRun, run_tool

DEFAULT_DATABASE_DIR = Path("/var/lib/clamav")
SIGNATURE_SUFFIXES = (
    ".cvd",
    ".cld",
    ".cud",
    ".ndb",
    ".ndu",
    ".hdb",
    ".hsb",
    ".hdu",
    ".hsu",
    ".mdb",
    ".msb",
    ".ldb",
    ".ldu",
    ".cdb",
    ".idb",
    ".fp",
    ".sfp",
    ".pdb",
    ".wdb",
    ".yar",
    ".yara",
    ".cbc",
    ".ign2",
)
_FOUND = re.compile(r"^(?P<path>.+): (?P<signature>\S+) FOUND$")


@dataclass(frozen=True)
class SignatureDatabase:
    directory: Path
    description: str
    signatures: int
    official: bool


def default_database_dir() -> Path:
    return DEFAULT_DATABASE_DIR


def _cvd_header(path: Path) -> str | None:
    with path.open("rb") as fh:
        header = fh.read(512)
    if not header.startswith(b"ClamAV-VDB:"):
        return None
    fields = header.decode("ascii", "replace").rstrip("\x00 ").split(":")
    # ClamAV-VDB:<build time>:<version>:<signatures>:<functionality level>:<md5>:<signature>:<builder>:<time>
    try:
        built, version, sigs = fields[1], fields[2], int(fields[3])
    except (IndexError, ValueError):
        return None
    return f"{path.name} v{version} ({built.strip()}, {sigs} signatures)"


def database_info(directory: Path) -> SignatureDatabase:
    """Describe the signature files in ``directory``.

    Raises:
        ToolError: ``virus.no_database`` when there are none (a scan would prove nothing).
    """
    parts: list[str] = []
    total = 0
    official = False
    files = (
        sorted(p for p in directory.iterdir() if p.suffix in SIGNATURE_SUFFIXES) if directory.is_dir() else []
    )
    for p in files:
        if p.suffix in (".cvd", ".cld", ".cud"):
            described = _cvd_header(p)
            if described:
                official = True
                parts.append(described)
                total += int(described.rsplit("(", 1)[1].split(",")[1].split()[0])
                continue
        data_lines = 0
        digest = hashlib.sha256()
        with p.open("rb") as fh:
            for line in fh:
                digest.update(line)
                if line.strip() and not line.startswith(b"#"):
                    data_lines += 1
        total += data_lines
        parts.append(
            f"{p.name} (sha256 {digest.hexdigest()[:16]}…, "
            f"{data_lines} signature{'s' if data_lines != 1 else ''})"
        )
    if not parts:
        raise ToolError(
            f"no ClamAV signature database in {directory}: run `freshclam`, or set [virus_check] database "
            "in kholuu.toml to a folder with signatures",
            tool="clamscan",
            code="virus.no_database",
            path=str(directory),
        )
    return SignatureDatabase(
        directory=directory, description="; ".join(parts), signatures=total, official=official
    )


UNSCANNED_PREFIX = "Heuristics.Limits.Exceeded"
"""What clamscan reports (with ``--alert-exceeds-max``) for a file beyond its limits: size, scan
size, number of files in an archive, or archive nesting (``...MaxRecursion``)."""
ENCRYPTED_PREFIX = "Heuristics.Encrypted"
"""What clamscan reports (with ``--alert-encrypted``) for a password-protected archive or document,
whose content it cannot read: an EICAR inside a passworded inner zip used to be recorded clean."""

_UNSCANNED_REASONS = (
    ("Heuristics.Limits.Exceeded.MaxRecursion", "archives nested deeper than ClamAV's recursion limit"),
    ("Heuristics.Limits.Exceeded.MaxFiles", "an archive with more files than ClamAV's limit"),
    ("Heuristics.Limits.Exceeded.MaxFileSize", "over ClamAV's file size limit"),
    ("Heuristics.Limits.Exceeded.MaxScanSize", "over ClamAV's scan size limit"),
    ("Heuristics.Limits.Exceeded", "over ClamAV's limits"),
    ("Heuristics.Encrypted", "encrypted (password-protected): its content could not be read"),
)


def is_unscanned(signature: str) -> bool:
    """Whether a clamscan detection means "not (fully) scanned" rather than "infected"."""
    return signature.startswith((UNSCANNED_PREFIX, ENCRYPTED_PREFIX))


def unscanned_reason(signature: str) -> str:
    """Why a file was not fully scanned, in words, from clamscan's heuristic name: the nesting
    limit must not be reported as a size limit (issue 11 item 20)."""
    return next((text for prefix, text in _UNSCANNED_REASONS if signature.startswith(prefix)), signature)


@dataclass(frozen=True)
class ScanResult:
    """Attributes:
    infected: relative path -> signature, for files with a detection.
    unscanned: relative path -> clamscan's heuristic name, for files ClamAV could not scan whole
        (over its size, file-count or nesting limits, or encrypted; see :func:`unscanned_reason`);
        never reported as clean, and refused or accepted by policy (``refuse_unscanned``).
    """

    infected: dict[str, str]
    scanned_files: int
    run: ToolRun
    unscanned: dict[str, str] = field(default_factory=dict)


class ClamAV:
    """One configured scanner. ``agent`` is computed once (engine version + database)."""

    def __init__(
        self,
        *,
        clamscan: str = "clamscan",
        database: Path | None = None,
        timeout: float = 3600.0,
        max_filesize_mb: int = 4000,
        max_scansize_mb: int = 4000,
        temp_dir: Path | None = None,
    ) -> None:
        """``temp_dir``: where clamscan unpacks archives while it scans (``--tempdir``). Give a
        folder the caller removes (a job's working folder): a killed scan leaves its temporary
        files there, not in the system temporary folder, where nothing would ever remove them."""
        self.clamscan = clamscan
        self.database = database or default_database_dir()
        self.timeout = timeout
        self.max_filesize_mb = max_filesize_mb
        self.max_scansize_mb = max_scansize_mb
        self.temp_dir = temp_dir
        self._agent: Agent | None = None

    @property
    def agent(self) -> Agent:
        if self._agent is None:
            db = database_info(self.database)
            run = run_tool("clamscan", [self.clamscan, "--version"], timeout=60)
            if run.exit_code != 0:
                raise ToolError(
                    f"clamscan --version failed (exit {run.exit_code})",
                    tool="clamscan",
                    exit_code=run.exit_code,
                    stderr=run.stderr_excerpt,
                    code="virus.scan_failed",
                )
            version = run.stdout.strip().split("/")[0].removeprefix("ClamAV ").strip()
            kind = "official database" if db.official else "LOCAL SIGNATURES ONLY (not the official database)"
            self._agent = Agent(name="ClamAV", version=version, note=f"{kind}: {db.description}")
        return self._agent

    def scan(self, root: Path) -> ScanResult:
        """Scan every file under ``root`` (recursively, archives unpacked by ClamAV).

        Raises:
            ToolError: ``tool.missing``, ``tool.timeout``, ``virus.no_database``, ``virus.scan_failed``.
        """
        _ = self.agent  # fails early, naming the problem, if the database or clamscan is missing
        argv = [
            self.clamscan,
            "--recursive",
            "--stdout",
            "--infected",
            f"--database={self.database}",
            f"--max-filesize={self.max_filesize_mb}M",
            f"--max-scansize={self.max_scansize_mb}M",
            "--alert-exceeds-max=yes",
            "--alert-encrypted-archive=yes",
            "--alert-encrypted-doc=yes",
        ]
        if self.temp_dir is not None:
            self.temp_dir.mkdir(parents=True, exist_ok=True)
            argv.append(f"--tempdir={self.temp_dir}")
        argv += ["--", str(root)]
        started = datetime.now(UTC)
        run = run_tool("clamscan", argv, timeout=self.timeout)
        if run.exit_code not in (0, 1):
            raise ToolError(
                f"clamscan failed with exit code {run.exit_code} "
                f"after {(datetime.now(UTC) - started).seconds} s",
                tool="clamscan",
                exit_code=run.exit_code,
                stderr=run.stderr_excerpt or run.stdout[-2000:],
                code="virus.scan_failed",
            )
        infected: dict[str, str] = {}
        unscanned: dict[str, str] = {}
        scanned = 0
        prefix = str(root).rstrip("/") + "/"
        for line in run.stdout.splitlines():
            m = _FOUND.match(line)
            if m:
                path = m.group("path")
                rel = path[len(prefix) :] if path.startswith(prefix) else path
                signature = m.group("signature")
                if is_unscanned(signature):
                    unscanned[rel] = signature
                else:
                    infected[rel] = signature
            elif line.startswith("Scanned files:"):
                scanned = int(line.split(":", 1)[1].strip())
        if run.exit_code == 1 and not infected and not unscanned:
            raise ToolError(
                "clamscan reported an infection but no file could be read from its report",
                tool="clamscan",
                exit_code=run.exit_code,
                stderr=run.stdout[-2000:],
                code="virus.scan_failed",
            )
        return ScanResult(infected=infected, scanned_files=scanned, run=run, unscanned=unscanned)
