"""A deployer's own validator, run as a command: where veraPDF, JHOVE or any other checker plugs in.

Configured as data (``[[characterization.external]]`` in kholuu.toml; docs/planning.md
"Validation"): the formats it applies to (PUIDs and/or MIME types), the argument list with
``{input}`` for the file, and how its answer is read: by exit code (``valid_exit_codes``,
``invalid_exit_codes``) or, when ``valid_pattern`` is set, by regular expressions on its standard
output. An answer that is neither valid nor invalid, a missing program or a run past the time
limit is "could not check" with a finding that says which; it is never "valid".
"""

from __future__ import annotations

import re
from pathlib import Path

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.errors import ToolError
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch
from preservation.tools import excerpt, run_tool
from preservation.validation_config import ExternalValidator

OUTPUT_EXCERPT_CHARS = 500


class ExternalCharacterizer:
    """Runs one :class:`ExternalValidator` on the files it applies to."""

    def __init__(self, config: ExternalValidator) -> None:
        self.config = config
        self.name = config.name
        self.agent = Agent(name=config.name, version=config.version, note=" ".join(config.argv))

    def applies(self, fmt: FormatMatch) -> bool:
        return fmt.puid in self.config.puids or (bool(fmt.mime) and fmt.mime in self.config.mime_types)

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        c = self.config
        argv = [a.replace("{input}", str(path)) for a in c.argv]
        try:
            run = run_tool(c.name, argv, timeout=c.timeout_seconds, kill_group=True)
        except ToolError as exc:
            code = "external.missing" if exc.code == "tool.missing" else "external.timeout"
            text = (
                f"{c.argv[0]} is not installed"
                if code == "external.missing"
                else f"stopped after {c.timeout_seconds:g} s"
            )
            return self._result(Validity.COULD_NOT_CHECK, path, code, text, {})
        props: dict[str, PropertyValue] = {"exit_code": run.exit_code}
        output = run.stdout.replace(str(path), path.name)
        if c.valid_pattern:
            if c.invalid_pattern and re.search(c.invalid_pattern, run.stdout):
                verdict = Validity.INVALID
            elif re.search(c.valid_pattern, run.stdout):
                verdict = Validity.VALID
            else:
                verdict = Validity.COULD_NOT_CHECK
        elif run.exit_code in c.valid_exit_codes:
            verdict = Validity.VALID
        elif run.exit_code in c.invalid_exit_codes:
            verdict = Validity.INVALID
        else:
            verdict = Validity.COULD_NOT_CHECK
        if verdict is Validity.VALID:
            return Characterization(c.name, self.agent, verdict, (), props)
        said = excerpt(output or run.stderr.replace(str(path), path.name), OUTPUT_EXCERPT_CHARS)
        if verdict is Validity.INVALID:
            return self._result(verdict, path, "external.invalid", said, props)
        return self._result(verdict, path, "external.no_verdict", f"exit code {run.exit_code}: {said}", props)

    def _result(
        self, validity: Validity, path: Path, code: str, text: str, props: dict[str, PropertyValue]
    ) -> Characterization:
        severity = Severity.ERROR if validity is Validity.INVALID else Severity.WARNING
        finding = Finding(
            code, severity, path.name, f"{self.config.name}: {text}", {"validator": self.config.name}
        )
        return Characterization(self.config.name, self.agent, validity, (finding,), props)
