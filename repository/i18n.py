"""Message catalogs: the texts users read, by stable code, in Vietnamese and English.

Errors and findings carry a code and parameters; this module turns them into a sentence in the
user's language. The catalogs are data (``config/messages/<lang>.toml``), so an archivist can fix a
wording without touching code. A code missing from a catalog falls back to English, then to the
English message the exception carried, so a user never sees nothing.

A template whose placeholder has no value is a bug of the code that raised the error (the user
would read ``{algorithm}``). Outside tests the placeholder is left as it is, so a user still gets
the rest of the sentence; with ``KHOLUU_STRICT_MESSAGES=1`` (set for every test by
``tests/conftest.py``, and inherited by the ``kholuu`` processes tests start) :meth:`Translator.text`
raises :class:`UnfilledPlaceholder` instead, so any output with an unfilled placeholder fails a test.
"""

from __future__ import annotations

import os
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
STRICT_ENV = "KHOLUU_STRICT_MESSAGES"


class UnfilledPlaceholder(KeyError):
    """A message template names a value its caller did not give (strict mode only: a bug)."""

    def __init__(self, code: str, placeholder: str, template: str) -> None:
        super().__init__(f"message {code!r} needs {{{placeholder}}}, not given: {template!r}")
        self.code = code
        self.placeholder = placeholder


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


class _Strict(dict[str, Any]):
    def __init__(self, values: Mapping[str, Any], code: str, template: str) -> None:
        super().__init__(values)
        self.code = code
        self.template = template

    def __missing__(self, key: str) -> str:
        raise UnfilledPlaceholder(self.code, key, self.template)


def strict() -> bool:
    """Whether an unfilled placeholder raises (tests) rather than showing as ``{name}``."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def template(code: str, language: str) -> str | None:
    """The text of ``code`` in ``language`` as the catalog holds it, placeholders unfilled."""
    return _catalog(language).get(code)


def placeholders(text: str) -> set[str]:
    """The names a template interpolates (``{path}`` → ``path``)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


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
        shown = {k: _display(v) for k, v in (params or {}).items()}
        values = _Strict(shown, code, template) if strict() else _Lenient(shown)
        return string.Formatter().vformat(template, (), values)

    def event_detail(self, detail_code: str, params: Mapping[str, Any] | None, detail: str) -> str:
        """A PREMIS event's detail in this language: the ``event.<detail_code>`` text, or the English
        ``detail`` itself for an event recorded before codes existed (or with a code this version
        has no text for)."""
        if not detail_code:
            return detail
        return self.text(f"event.{detail_code}", params, default=detail)

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
