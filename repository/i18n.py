"""Message catalogs: the texts users read, by stable code, in Vietnamese and English.

Errors and findings carry a code and parameters; this module turns them into a sentence in the
user's language. The catalogs are data (``config/messages/<lang>.toml``), so an archivist can fix a
wording without touching code. A code missing from a catalog falls back to English, then to the
English message the exception carried, so a user never sees nothing.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from repository.settings import CONFIG_DIR

MESSAGES_DIR = CONFIG_DIR / "messages"
LANGUAGES = ("vi", "en")


@cache
def _catalog(language: str) -> dict[str, str]:
    path = MESSAGES_DIR / f"{language}.toml"
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return dict(_flatten(data))


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, f"{full}."))
        else:
            out.append((full, str(value)))
    return out


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def has_text(code: str, language: str) -> bool:
    return code in _catalog(language)


def codes(language: str) -> set[str]:
    return set(_catalog(language))


@dataclass(frozen=True)
class Translator:
    """Renders coded messages in one language (with English as the fallback)."""

    language: str = "vi"

    def text(self, code: str, params: Mapping[str, Any] | None = None, *, default: str | None = None) -> str:
        template = _catalog(self.language).get(code) or _catalog("en").get(code)
        if template is None:
            return default if default is not None else code
        values = _Lenient({k: _display(v) for k, v in (params or {}).items()})
        return string.Formatter().vformat(template, (), values)

    def label(self, key: str) -> str:
        """A UI label (``label.*`` keys)."""
        return self.text(f"label.{key}", default=key)


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_display(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_display(v)}" for k, v in value.items()) or "—"
    if isinstance(value, Path):
        return str(value)
    return str(value)
