"""Query parameters, read strictly, and the helpers every template uses.

A parameter that is not what the page needs (a day that is not a YYYY-MM-DD date, a year that is
not a year, a language we do not have) is a :class:`BadParameter`: a 400 page naming the
parameter and the value in the reader's language, never a guess and never a traceback. An empty
value (a GET form left blank) counts as not given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import request, url_for

from entrypoints.web.access import current_actor, may
from entrypoints.web.context import context, requested_language, translator
from preservation.errors import ErrorKind, KholuuError
from repository.i18n import LANGUAGES
from workflows.custody.fixity_data import raw

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")


class BadParameter(KholuuError):
    """A query parameter the page cannot use. ``code`` and ``params`` give the reader's text."""

    kind = ErrorKind.USAGE

    def __init__(self, code: str, message: str, params: Mapping[str, Any]) -> None:
        super().__init__(message, code=code, params=params)


def _given(name: str, *, form: bool = False) -> str | None:
    value = (request.form if form else request.args).get(name, "").strip()
    return value or None


def day(name: str, *, form: bool = False) -> date | None:
    """``name=YYYY-MM-DD`` (a real calendar day) from the query string (``form``: the posted
    form), or None when absent."""
    raw = _given(name, form=form)
    if raw is None:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(
            "web.bad_date", f"{name}={raw!r} is not a day YYYY-MM-DD", {"name": name, "value": raw}
        ) from None


def year(name: str) -> int | None:
    """``name=YYYY``, or None when absent."""
    raw = _given(name)
    if raw is None:
        return None
    if not _YEAR.fullmatch(raw) or int(raw) < 1000:
        raise BadParameter("web.bad_year", f"{name}={raw!r} is not a year", {"name": name, "value": raw})
    return int(raw)


def whole_number(name: str, low: int, high: int) -> int | None:
    """``name=N`` with ``low <= N <= high``, or None when absent (``web.bad_number`` otherwise)."""
    raw = _given(name)
    if raw is None:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(
            "web.bad_number",
            f"{name}={raw!r} is not a whole number from {low} to {high}",
            {"name": name, "value": raw, "low": low, "high": high},
        )
    return int(raw)


def page_number(name: str, *, default: int = 1, most: int | None = None) -> int:
    """``name=N``, a whole number from 1 (to ``most``), or ``default`` when absent."""
    found = whole_number(name, 1, most or 10**9)
    return default if found is None else found


def moment(name: str) -> datetime | None:
    """``name=`` an ISO 8601 date and time with its UTC offset (``2026-03-10T12:00:00+00:00``),
    or None when absent. A time without an offset names no instant and is refused."""
    raw = _given(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise BadParameter(
            "web.bad_moment",
            f"{name}={raw!r} is not a date and time with a UTC offset",
            {"name": name, "value": raw},
        )
    return value


def check_language() -> None:
    """``lang`` must be one we have texts in (before each page: the 400 page itself is then in the
    default language)."""
    wanted = requested_language()
    if wanted is not None and wanted not in LANGUAGES:
        raise BadParameter(
            "web.bad_language",
            f"lang={wanted!r} is not one of {', '.join(LANGUAGES)}",
            {"value": wanted, "choices": ", ".join(LANGUAGES)},
        )


def link(endpoint: str, **params: Any) -> str:
    """``url_for`` keeping the reader's ``lang`` (when they chose one); None values are left out."""
    args = {k: v for k, v in params.items() if v is not None}
    wanted = requested_language()
    if wanted in LANGUAGES and "lang" not in args:
        args["lang"] = wanted
    return url_for(endpoint, **args)


def language_link(language: str) -> str:
    """This page, with the same parameters, in ``language``."""
    args: dict[str, Any] = dict(request.view_args or {})
    args.update((k, v) for k, v in request.args.items() if k != "lang")
    args["lang"] = language
    return url_for(request.endpoint or "dashboard.index", **args)


def number(value: int | float | None) -> str:
    """A figure as the reader writes it: Vietnamese 1.234.567 and 66,7; English 1,234,567 and 66.7."""
    if value is None:
        return "—"
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}".removesuffix(".0")
    if translator().language == "vi":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def when(value: str | datetime | None, *, time: bool = True) -> str:
    """A moment as the reader writes it, in the archive's time zone (``[package] timezone``):
    Vietnamese 07/03/2026 14:05, English 2026-03-07 14:05."""
    if value is None or value == "":
        return "—"
    moment_ = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment_.tzinfo is not None:
        moment_ = moment_.astimezone(ZoneInfo(context().settings.package.timezone))
    day_part = "%d/%m/%Y" if translator().language == "vi" else "%Y-%m-%d"
    return moment_.strftime(day_part + (" %H:%M" if time else ""))


def term(group: str, value: str | None) -> str:
    """A term of the catalog (an outcome, a file role, a validity) in the reader's language: the
    ``web.<group>.<value>`` text, else the term itself."""
    if not value:
        return "—"
    return translator().text(f"web.{group}.{value.replace(' ', '_').replace('-', '_')}", default=value)


def template_helpers() -> dict[str, Any]:
    """Names every template can use: ``t`` (coded texts), ``link``, the archive's name, ``number``
    (a figure as the reader writes it) and ``raw`` (as the CSV and ``data-value`` have it)."""
    t = translator()
    settings = context().settings
    return {
        "t": t.text,
        "language": t.language,
        "languages": LANGUAGES,
        "link": link,
        "language_link": language_link,
        "number": number,
        "when": when,
        "term": term,
        "raw": raw,
        "archive_name": settings.archive.name or t.text("web.unnamed_archive"),
        "actor": current_actor(),
        "may": may,
    }


__all__ = [
    "BadParameter",
    "check_language",
    "day",
    "language_link",
    "link",
    "moment",
    "number",
    "page_number",
    "template_helpers",
    "term",
    "when",
    "year",
]
