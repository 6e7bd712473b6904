"""What a request reaches the archive through: the app's settings and catalog, and the reader's
language. Kept on the app object (``app.extensions``), never in a module global, so that two apps
in one process (tests) never share a catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask import current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from repository.i18n import LANGUAGES, Translator
from repository.settings import Settings

EXTENSION = "kholuu"


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    sessions: sessionmaker[Session]


def context() -> WebContext:
    return cast(WebContext, current_app.extensions[EXTENSION])


def requested_language() -> str | None:
    """``?lang=`` as given (None when absent); :func:`entrypoints.web.params.language` checks it."""
    return request.args.get("lang")


def translator() -> Translator:
    """The reader's language: ``?lang=vi|en``, else ``[ui] language`` (Vietnamese by default). An
    unknown ``lang`` falls back to the default here, so the page that says so can be read."""
    cached = g.get("translator")
    if isinstance(cached, Translator):
        return cached
    wanted = requested_language()
    language = wanted if wanted in LANGUAGES else context().settings.ui.language
    t = Translator(language)
    g.translator = t
    return t


__all__ = ["EXTENSION", "WebContext", "context", "requested_language", "translator"]
