"""One conversion: run the action's converter in a sandbox, verify the output, keep it or not.

:func:`convert` never raises for a bad file or a failing, hanging or missing tool: the
:class:`~.model.Conversion` says FAILED or TIMED_OUT, with the tool's stderr and one line a person
understands (``message``, and ``message_code``/``message_params`` for the catalogs'
``[planning.convert]`` texts). The output is written and verified inside the sandbox's folder and
moved into ``out_dir`` only when every check passed, so ``out_dir`` never holds a partial or
unverified file. The output is named after the source (``report.docx`` → ``report.pdf``;
``report.docx.pdf`` when ``report.pdf`` is already there).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from preservation.planning.converters import get_converter
from preservation.planning.model import Action, CheckResult, Conversion, ConversionOutcome, Purpose
from preservation.planning.sandbox import Sandbox, SandboxOptions, SandboxResult
from preservation.planning.verify import verify

_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


@dataclass
class _Verdict:
    outcome: ConversionOutcome
    code: str
    params: dict[str, str]
    message: str
    run: SandboxResult | None = None
    checks: tuple[CheckResult, ...] = ()


def convert(
    source: Path,
    action: Action,
    purpose: Purpose,
    out_dir: Path,
    *,
    identify: Callable[[Path], str | None],
    options: SandboxOptions | None = None,
) -> Conversion:
    """Convert ``source`` by ``action`` into ``out_dir`` and verify the output by its checks.

    Args:
        source: the file to convert (read only; nothing is written beside it).
        action: what to run and how to check it.
        purpose: preservation or access (recorded in the result).
        out_dir: where the verified output goes (created when missing).
        identify: the PUID of a file (the workflow passes its configured engine).
        options: sandbox options (programs, temporary folder).
    """
    started = datetime.now(UTC)
    converter = get_converter(action.tool)
    output: Path | None = None
    params = {"tool": converter.name if converter else action.tool, "file": source.name}
    if converter is None:
        verdict = _Verdict(
            ConversionOutcome.FAILED,
            _msg(code="planning.convert.unknown_tool"),
            params,
            f"no converter is registered for tool {action.tool!r}",
        )
    elif action.tool == "command" and not any("{output}" in a for a in action.args):
        verdict = _Verdict(
            ConversionOutcome.FAILED,
            _msg(code="planning.convert.bad_command"),
            params,
            "the command action's arguments name no {output}",
        )
    else:
        with Sandbox(options) as box:
            suffix = source.suffix if _SAFE_SUFFIX.fullmatch(source.suffix) else ""
            link = box.work / f"input{suffix.lower()}"
            link.symlink_to(source.resolve())
            produced = box.work / f"output.{action.output_extension.lower()}"
            run = converter.run(link, produced, action, box, max(action.memory_mb, converter.memory_floor_mb))
            verdict = _judge(run, produced, source, action, params, identify, options)
            if verdict.outcome is ConversionOutcome.SUCCESS:
                output = _place(produced, out_dir, source, action.output_extension.lower())
                params["output"] = output.name
                verdict.message = (
                    f"{source.name} converted by {params['tool']} to {output.name}, every check passed"
                )
    ran = verdict.run
    return Conversion(
        source=source,
        purpose=purpose,
        action=action,
        outcome=verdict.outcome,
        output=output,
        tool_name=params["tool"],
        tool_version=converter.version(action) if converter else "",
        started=started,
        ended=datetime.now(UTC),
        checks=verdict.checks,
        stderr=(ran.stderr or ran.stdout) if ran and output is None else "",
        message=verdict.message,
        message_code=verdict.code,
        message_params=params,
        isolation=ran.isolation.describe() if ran else "",
    )


def _judge(
    run: SandboxResult,
    produced: Path,
    source: Path,
    action: Action,
    params: dict[str, str],
    identify: Callable[[Path], str | None],
    options: SandboxOptions | None,
) -> _Verdict:
    """What the run means: the first of missing tool, time-out, failure, no output, failed check."""
    tool, failed = params["tool"], ConversionOutcome.FAILED
    if run.missing:
        return _Verdict(
            failed, _msg(code="planning.convert.tool_missing"), params, f"{tool} is not installed", run
        )
    if run.timed_out:
        params["seconds"] = f"{action.timeout:g}"
        message = f"{tool} did not finish {source.name} within {action.timeout:g} s and was stopped"
        return _Verdict(
            ConversionOutcome.TIMED_OUT, _msg(code="planning.convert.timed_out"), params, message, run
        )
    if run.exit_code != 0:
        params["exit_code"] = str(run.exit_code)
        message = f"{tool} failed on {source.name} (exit code {run.exit_code}): {_last_line(run)}"
        return _Verdict(failed, _msg(code="planning.convert.tool_failed"), params, message, run)
    if not produced.is_file() or produced.stat().st_size == 0:
        message = f"{tool} wrote no output for {source.name}: {_last_line(run)}"
        return _Verdict(failed, _msg(code="planning.convert.no_output"), params, message, run)
    checks = verify(source, produced, action, identify=identify, options=options)
    if not all(c.passed for c in checks):
        params["checks"] = "; ".join(f"{c.check.value}: {c.detail}" for c in checks if not c.passed)
        message = f"the output of {tool} for {source.name} failed verification: {params['checks']}"
        return _Verdict(failed, _msg(code="planning.convert.check_failed"), params, message, run, checks)
    return _Verdict(ConversionOutcome.SUCCESS, _msg(code="planning.convert.done"), params, "", run, checks)


def _msg(*, code: str) -> str:
    """The message code (a function so that tests/test_messages.py finds every code here)."""
    return code


def _last_line(run: SandboxResult) -> str:
    text = (run.stderr or run.stdout or "no message").strip().splitlines()
    return text[-1][:200] if text else "no message"


def _place(produced: Path, out_dir: Path, source: Path, ext: str) -> Path:
    """Move the verified output into ``out_dir`` under a name no other file has: copied under a
    temporary name first, then linked to its final name (which fails, rather than overwrites,
    when another conversion took the name meanwhile)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    candidates = [f"{source.stem}.{ext}", f"{source.name}.{ext}"]
    candidates += [f"{source.stem}-{n}.{ext}" for n in range(2, 10_000)]
    partial = out_dir / f".{uuid.uuid4().hex}.partial"
    try:
        shutil.move(produced, partial)
        for name in candidates:
            try:
                os.link(partial, out_dir / name)
            except FileExistsError:
                continue
            return out_dir / name
        raise FileExistsError(f"no free name for the output of {source.name} in {out_dir}")
    finally:
        partial.unlink(missing_ok=True)
