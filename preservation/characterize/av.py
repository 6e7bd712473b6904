"""Audio and video: ffprobe reads the container and streams; errors mean damage.

TT 05/2025 Điều 8 sets bit-rate floors for digitised audio and video (vn-standards.md §2.1): each
file's audio and video bit rates are measured against them (``tt05_parameters``), reported and
never a reason to call the file invalid.
"""

from __future__ import annotations

import json
from pathlib import Path

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.characterize.tt05_parameters import av_measures
from preservation.errors import ToolError
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch
from preservation.planning.parameters import TechnicalParameters
from preservation.tools import run_tool

AV_PUIDS = frozenset(
    {
        "fmt/6",
        "fmt/141",
        "fmt/142",
        "fmt/134",
        "fmt/199",
        "x-fmt/384",
        "fmt/5",
        "fmt/133",
        "fmt/585",
        "fmt/649",
        "fmt/640",
        "fmt/596",
        "fmt/104",
        "fmt/132",
        "x-fmt/136",
        "fmt/569",
        "fmt/203",
        "fmt/527",
    }
)


class AvCharacterizer:
    name = "av"

    def __init__(
        self,
        *,
        ffprobe: str = "ffprobe",
        timeout: float = 120.0,
        parameters: TechnicalParameters | None = None,
    ) -> None:
        self.ffprobe = ffprobe
        self.parameters = parameters or TechnicalParameters()
        self.timeout = timeout
        self._agent: Agent | None = None

    @property
    def agent(self) -> Agent:
        if self._agent is None:
            try:
                run = run_tool("ffprobe", [self.ffprobe, "-version"], timeout=30)
                first = run.stdout.splitlines()[0] if run.stdout else ""
                version = first.split(" ")[2] if first.startswith("ffprobe version") else "unknown"
            except ToolError:
                version = "missing"
            self._agent = Agent(name="ffprobe", version=version)
        return self._agent

    def applies(self, fmt: FormatMatch) -> bool:
        return fmt.mime.startswith(("audio/", "video/")) or fmt.puid in AV_PUIDS

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        argv = [
            self.ffprobe,
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ]
        try:
            run = run_tool("ffprobe", argv, timeout=self.timeout)
        except ToolError as exc:
            code = "av.tool_missing" if exc.code == "tool.missing" else "av.tool_failed"
            return Characterization(
                "av",
                self.agent,
                Validity.COULD_NOT_CHECK,
                (Finding(code, Severity.WARNING, path.name, str(exc).replace(str(path), path.name)),),
                {},
            )
        props: dict[str, PropertyValue] = {}
        try:
            info = json.loads(run.stdout or "{}")
        except json.JSONDecodeError:
            info = {}
        fmt_info = info.get("format", {})
        streams = info.get("streams", [])
        for key, cast in (("format_name", str), ("duration", float), ("bit_rate", int)):
            if key in fmt_info:
                try:
                    props[key] = cast(fmt_info[key])
                except (TypeError, ValueError):
                    pass
        props["streams"] = len(streams)
        codecs = [s.get("codec_name", "?") for s in streams]
        if codecs:
            props["codecs"] = ",".join(codecs)
        for s in streams:
            for key in ("width", "height", "sample_rate", "channels"):
                if key in s and key not in props:
                    try:
                        props[key] = int(s[key])
                    except (TypeError, ValueError):
                        pass
        if run.exit_code != 0 or run.stderr.strip() or not streams:
            message = run.stderr_excerpt or f"ffprobe exit code {run.exit_code}, {len(streams)} streams"
            message = message.replace(str(path), path.name)  # no quarantine paths in findings
            return Characterization(
                "av",
                self.agent,
                Validity.INVALID,
                (Finding("av.damaged", Severity.ERROR, path.name, message, {"exit_code": run.exit_code}),),
                props,
            )
        short = riff_truncation(path)
        if short is not None:
            return Characterization(
                "av",
                self.agent,
                Validity.INVALID,
                (Finding("av.damaged", Severity.ERROR, path.name, short, {"exit_code": run.exit_code}),),
                props,
            )
        container_bps = props.get("bit_rate")
        measured, remarks = av_measures(
            streams, container_bps if isinstance(container_bps, int) else None, self.parameters, path.name
        )
        props.update(measured)
        return Characterization("av", self.agent, Validity.VALID, tuple(remarks), props)


def riff_truncation(path: Path) -> str | None:
    """Why a RIFF file (WAV, AVI) is cut short, or None: its header declares more bytes than the
    file holds. ffprobe plays a truncated PCM stream to its end without a word, so a WAV cut in
    half by a failed copy was called valid (EBU Tech 3285 / RIFF: the chunk size after "RIFF")."""
    with path.open("rb") as fh:
        head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF":
        return None
    declared = int.from_bytes(head[4:8], "little") + 8
    actual = path.stat().st_size
    if declared > actual:
        return f"the RIFF header declares {declared} bytes, the file has {actual}: it is truncated"
    return None
