"""The policy file: its shape, its vocabulary, and the strict reading of one file.

:mod:`preservation.planning.policy` lays the shipped file and the override over each other; this
module reads one of them (``config/planning/formats.toml`` documents the shape) and checks every
value, so that a mistake is reported with the file, the entry (a PUID, ``actions.NAME`` or
``parameters``) and the field, never discovered when a conversion runs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from preservation.errors import ErrorKind, PreservationError
from preservation.planning.model import Action, Check, Risk
from preservation.planning.parameters import TechnicalParameters
from preservation.shipped import shipped_dir

DEFAULT_FILE = shipped_dir("config") / "planning" / "formats.toml"
#: Regulation keys of ``accepted``; the first governs whether a format is converted for preservation.
REGULATIONS = ("tt05", "tt02")
GOVERNING = REGULATIONS[0]
MEDIA = ("text", "image", "audio", "video", "other")
#: Converters registered in ``preservation.planning.convert`` (``Action.tool``).
TOOLS = ("libreoffice", "ghostscript", "ocrmypdf", "image", "ffmpeg", "command")
#: The action reference that means "no action" (an override uses it to remove a shipped one).
NO_ACTION = "none"
PUID = re.compile(r"^(x-)?fmt/[1-9][0-9]*$")
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,10}$")
_ACTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Every field of a format entry, as ``policy show`` lists them (``accepted`` per regulation).
FIELDS = ("name", "risk", "media", *(f"accepted.{r}" for r in REGULATIONS), "preservation", "access")
FIELDS += ("ocr", "unacceptable")
_FORMAT_KEYS = ("name", "risk", "media", "accepted", "preservation", "access", "ocr", "unacceptable")
_TOP_KEYS = ("parameters", "actions", "formats")
_DEFAULT_CHECKS = Action(tool="", output_puid="", output_extension="").checks
#: The numeric fields of an action: (type, minimum, maximum or None).
_LIMITS: dict[str, tuple[type, float, float | None]] = {
    "timeout": (float, 1.0, None),  # seconds
    "memory_mb": (int, 16, None),
    "page_tolerance": (int, 0, None),
    "duration_tolerance": (float, 0.0, None),  # seconds
    "text_similarity": (float, 0.0, 1.0),
}


class Source(StrEnum):
    """Where the effective value of a field came from."""

    SHIPPED = "shipped"  # config/planning/formats.toml
    OVERRIDE = "override"  # the data folder's override
    DEFAULT = "default"  # neither file sets it: the model's default


class PolicyError(PreservationError):
    """A policy file is malformed. ``file`` is the file, ``entry`` the PUID, ``actions.NAME`` or
    ``parameters`` the problem is in (``—`` at the top level), ``field`` the key; ``puid`` is the
    PUID when the entry is a format, else empty."""

    code = "policy.invalid"
    kind = ErrorKind.USAGE

    def __init__(
        self,
        message: str,
        *,
        file: Path | str,
        entry: str = "—",
        field: str = "—",
        code: str | None = None,
        kind: ErrorKind | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        puid = entry if PUID.match(entry) else ""
        super().__init__(
            f"{file}: {entry}: {field}: {message}",
            code=code,
            kind=kind,
            params={"file": str(file), "entry": entry, "field": field, "problem": message, **(params or {})},
        )
        self.file = Path(file)
        self.entry = entry
        self.field = field
        self.puid = puid


@dataclass
class Layer:
    """One parsed file: its parameters, actions and format fields, each value checked."""

    path: Path
    source: Source
    parameters: dict[str, int]
    actions: dict[str, Action]
    formats: dict[str, dict[str, Any]]


def parse_file(path: Path, source: Source) -> Layer:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(
            f"not valid TOML: {exc}", file=path, code="policy.not_toml", params={"problem": str(exc)}
        ) from exc
    except OSError as exc:
        problem = str(exc.strerror or exc)
        raise PolicyError(
            f"cannot be read: {problem}", file=path, code="policy.unreadable", params={"problem": problem}
        ) from exc
    for key in raw:
        if key not in _TOP_KEYS:
            raise PolicyError("unknown key", file=path, entry="—", field=key, code="policy.unknown_key")
    parameters = _parse_parameters(path, _table(path, "—", "parameters", raw.get("parameters", {})))
    actions: dict[str, Action] = {}
    for name, table in _table(path, "—", "actions", raw.get("actions", {})).items():
        entry = f"actions.{name}"
        if not _ACTION_NAME.match(name) or name == NO_ACTION:
            raise PolicyError(
                "an action name is letters, digits, '-', '_' or '.', and not 'none'",
                file=path,
                entry=entry,
                field="—",
                code="policy.bad_value",
                params={"value": name, "allowed": "[A-Za-z0-9_.-]"},
            )
        actions[name] = parse_action(path, entry, "", _table(path, entry, "—", table))
    formats: dict[str, dict[str, Any]] = {}
    for puid, table in _table(path, "—", "formats", raw.get("formats", {})).items():
        if not PUID.match(puid):
            raise PolicyError(
                "not a PRONOM identifier (fmt/N or x-fmt/N)",
                file=path,
                entry=puid,
                code="policy.bad_puid",
                params={"value": puid},
            )
        formats[puid] = _parse_format(path, puid, _table(path, puid, "—", table))
    return Layer(path, source, parameters, actions, formats)


def puid_order(puid: str) -> tuple[int, int]:
    """Sort key of a PUID: ``fmt/`` before ``x-fmt/``, each by number."""
    prefix, _, number = puid.partition("/")
    return (0 if prefix == "fmt" else 1, int(number))


def _table(path: Path, entry: str, field: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong_type(path, entry, field, "table", value)
    return value


def _wrong_type(path: Path, entry: str, field: str, expected: str, value: Any) -> PolicyError:
    message = f"expected {expected}, got {type(value).__name__} {value!r}"
    return _invalid(path, entry, field, "policy.wrong_type", message, expected=expected, value=repr(value))


def _bad_value(path: Path, entry: str, field: str, value: Any, allowed: str) -> PolicyError:
    message = f"{value!r} is not allowed: {allowed}"
    return _invalid(path, entry, field, "policy.bad_value", message, value=repr(value), allowed=allowed)


def _invalid(path: Path, entry: str, field: str, code: str, message: str, **params: str) -> PolicyError:
    return PolicyError(message, file=path, entry=entry, field=field, code=code, params=params)


def _parse_parameters(path: Path, table: Mapping[str, Any]) -> dict[str, int]:
    known = {f.name for f in fields(TechnicalParameters)}
    out: dict[str, int] = {}
    for key, value in table.items():
        if key not in known:
            raise PolicyError(
                "unknown key", file=path, entry="parameters", field=key, code="policy.unknown_key"
            )
        out[key] = _number(path, "parameters", key, value, int, minimum=1)
    return out


def _parse_format(path: Path, puid: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """The fields ``table`` sets, checked, keyed as in :data:`FIELDS`; action fields hold an action
    name (resolved once every file is read), :data:`NO_ACTION`, or an :class:`Action`."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _FORMAT_KEYS:
            raise PolicyError("unknown key", file=path, entry=puid, field=key, code="policy.unknown_key")
        if key == "name":
            out[key] = _text(path, puid, key, value)
        elif key == "risk":
            out[key] = _choice(path, puid, key, value, tuple(r.value for r in Risk))
        elif key == "media":
            out[key] = _choice(path, puid, key, value, MEDIA)
        elif key in ("ocr", "unacceptable"):
            out[key] = _flag(path, puid, key, value)
        elif key == "accepted":
            for regulation, flag in _table(path, puid, key, value).items():
                field = f"accepted.{regulation}"
                if regulation not in REGULATIONS:
                    raise PolicyError(
                        "unknown key", file=path, entry=puid, field=field, code="policy.unknown_key"
                    )
                out[field] = _flag(path, puid, field, flag)
        elif isinstance(value, dict):
            out[key] = parse_action(path, puid, f"{key}.", value)
        else:
            out[key] = _text(path, puid, key, value)
    return out


def parse_action(path: Path, entry: str, prefix: str, table: Mapping[str, Any]) -> Action:
    """Check one action table (``[actions.NAME]`` or an inline ``preservation = {...}``) and build
    the :class:`Action`. ``prefix`` is put before each field name in errors (``preservation.``)."""
    known = {f.name for f in fields(Action)}
    for key in table:
        if key not in known:
            raise PolicyError(
                "unknown key", file=path, entry=entry, field=prefix + key, code="policy.unknown_key"
            )
    for key in ("tool", "output_puid", "output_extension"):
        if key not in table:
            raise PolicyError(
                "an action needs it", file=path, entry=entry, field=prefix + key, code="policy.missing_field"
            )
    tool = _text(path, entry, prefix + "tool", table["tool"])
    if tool not in TOOLS:
        raise PolicyError(
            f"unknown tool {tool!r}",
            file=path,
            entry=entry,
            field=prefix + "tool",
            code="policy.unknown_tool",
            params={"value": tool, "allowed": ", ".join(TOOLS)},
        )
    output_puid = _text(path, entry, prefix + "output_puid", table["output_puid"])
    if not PUID.match(output_puid):
        raise PolicyError(
            "not a PRONOM identifier (fmt/N or x-fmt/N)",
            file=path,
            entry=entry,
            field=prefix + "output_puid",
            code="policy.bad_puid",
            params={"value": output_puid},
        )
    extension = _text(path, entry, prefix + "output_extension", table["output_extension"])
    if not _EXTENSION.match(extension):
        raise _bad_value(
            path, entry, prefix + "output_extension", extension, "1-10 letters or digits, no dot"
        )
    args = tuple(
        _text(path, entry, f"{prefix}args[{i}]", a, empty=True)
        for i, a in enumerate(_list(path, entry, prefix + "args", table.get("args", [])))
    )
    if tool == "command" and not (
        {"{input}", "{output}"} <= {p for a in args for p in re.findall(r"\{\w+\}", a)}
    ):
        raise _bad_value(
            path, entry, prefix + "args", list(args), "an argument list naming {input} and {output}"
        )
    checks = _checks(path, entry, prefix, table.get("checks", [c.value for c in _DEFAULT_CHECKS]))
    numbers = {
        key: _number(path, entry, prefix + key, table[key], kind, minimum=low, maximum=high)
        for key, (kind, low, high) in _LIMITS.items()
        if key in table
    }
    return Action(
        tool=tool,
        output_puid=output_puid,
        output_extension=extension,
        args=args,
        checks=checks,
        **numbers,
    )


def _checks(path: Path, entry: str, prefix: str, value: Any) -> tuple[Check, ...]:
    out: list[Check] = []
    for i, raw in enumerate(_list(path, entry, prefix + "checks", value)):
        name = _text(path, entry, f"{prefix}checks[{i}]", raw)
        if name not in {c.value for c in Check}:
            raise PolicyError(
                f"unknown check {name!r}",
                file=path,
                entry=entry,
                field=f"{prefix}checks[{i}]",
                code="policy.unknown_check",
                params={"value": name, "allowed": ", ".join(c.value for c in Check)},
            )
        out.append(Check(name))
    return tuple(out)


def _text(path: Path, entry: str, field: str, value: Any, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise _wrong_type(path, entry, field, "text", value)
    if not empty and not value.strip():
        raise _bad_value(path, entry, field, value, "not empty")
    return value


def _choice(path: Path, entry: str, field: str, value: Any, allowed: tuple[str, ...]) -> str:
    text = _text(path, entry, field, value)
    if text not in allowed:
        raise _bad_value(path, entry, field, text, ", ".join(allowed))
    return text


def _flag(path: Path, entry: str, field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _wrong_type(path, entry, field, "true/false", value)
    return value


def _list(path: Path, entry: str, field: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _wrong_type(path, entry, field, "list", value)
    return value


def _number(
    path: Path,
    entry: str,
    field: str,
    value: Any,
    kind: type,
    *,
    minimum: float,
    maximum: float | None = None,
) -> Any:
    """An int (``kind`` int) or a number (``kind`` float, ints allowed) within the limits."""
    ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        raise _wrong_type(path, entry, field, "whole number" if kind is int else "number", value)
    if value < minimum or (maximum is not None and value > maximum):
        limits = f"at least {minimum:g}" + (f" and at most {maximum:g}" if maximum is not None else "")
        raise _bad_value(path, entry, field, value, limits)
    return kind(value)
