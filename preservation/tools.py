"""Running external tools: argument lists, exit codes, stderr excerpts.

No shell, no command templates (style guide item 10). Every run keeps what an operator needs to
answer "failed, but why?": the command, the exit code and the tail of stderr.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from preservation.errors import ToolError

STDERR_EXCERPT_CHARS = 2000


@dataclass(frozen=True)
class ToolRun:
    """The result of one external command."""

    tool: str
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def stderr_excerpt(self) -> str:
        return excerpt(self.stderr)


def excerpt(text: str, limit: int = STDERR_EXCERPT_CHARS) -> str:
    """The last ``limit`` characters, where tools usually say what went wrong."""
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def which(program: str) -> Path | None:
    found = shutil.which(program)
    return Path(found) if found else None


def run_tool(
    tool: str,
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    cwd: Path | None = None,
    kill_group: bool = False,
    env: Mapping[str, str] | None = None,
) -> ToolRun:
    """Run ``argv`` and capture its output; never raises for a non-zero exit (callers decide).
    ``env`` replaces the environment when given (a private HOME and TMPDIR for tools that write
    there).

    ``kill_group`` runs the program in a session of its own and, past ``timeout``, kills the whole
    process group: LibreOffice's ``soffice`` starts ``soffice.bin`` as a child, which would
    outlive a kill of the launcher alone.

    Raises:
        ToolError: when the program is missing or exceeds ``timeout`` seconds.
    """
    try:
        proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            start_new_session=kill_group,
            env=dict(env) if env is not None else None,
        )
    except FileNotFoundError as exc:
        raise ToolError(
            f"{tool} is not installed ({argv[0]} not found)", tool=tool, code="tool.missing"
        ) from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if kill_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        _, err = proc.communicate()
        raise ToolError(
            f"{tool} did not finish within {timeout} s",
            tool=tool,
            stderr=excerpt(err.decode("utf-8", "replace")),
            code="tool.timeout",
        ) from None
    return ToolRun(
        tool=tool,
        argv=tuple(argv),
        exit_code=proc.returncode,
        stdout=out.decode("utf-8", "surrogateescape"),
        stderr=err.decode("utf-8", "replace"),
    )
