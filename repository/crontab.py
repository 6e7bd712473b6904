"""Cron expressions as an operator writes them, for APScheduler.

APScheduler 3's ``CronTrigger.from_crontab`` counts a numeric weekday from Monday = 0, while every
crontab(5) an operator has met counts from Sunday = 0 (7 is Sunday too): ``0 2 * * 6`` would audit
on Sunday instead of Saturday. :func:`apscheduler_fields` rewrites the day-of-week field into names
with crontab(5)'s meaning, so the settings file means what it says whichever way it is written.
"""

from __future__ import annotations

import re

#: crontab(5) day numbers: 0 and 7 are Sunday.
_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ITEM = re.compile(r"(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?")


class CronError(ValueError):
    """A cron expression that is not five fields or whose day-of-week field cannot be read."""


def _day(token: str) -> int:
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise CronError(f"day of week {token} is not 0-7")
        return number % 7
    if token[:3] in _NAMES:
        return _NAMES.index(token[:3])
    raise CronError(f"day of week {token!r} is neither 0-7 nor a name (mon, tue, …)")


def weekdays(field: str) -> list[str]:
    """The days a crontab(5) day-of-week field selects, as names in week order (Sunday first).

    Handles lists, ranges (``1-5``, ``mon-fri``), steps (``*/2``, ``1-5/2``) and names.
    """
    days: set[int] = set()
    for item in field.lower().split(","):
        match = _ITEM.fullmatch(item.strip())
        if match is None:
            raise CronError(f"day-of-week item {item!r} is not a number, name, range or step")
        step = int(match["step"] or 1)
        if step < 1:
            raise CronError(f"step {step} in {item!r} must be at least 1")
        span = match["range"]
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            start, end = span.split("-")
            first, last = _day(start), (7 if end == "7" else _day(end))
            if last < first:
                raise CronError(f"range {span!r} runs backwards")
        else:
            first = last = _day(span)
            if match["step"]:
                last = 6
        days.update(n % 7 for n in range(first, last + 1, step))
    return [_NAMES[n] for n in sorted(days)]


def apscheduler_fields(expression: str) -> str:
    """The same schedule written for ``CronTrigger.from_crontab``: the weekday field as names.

    Raises:
        CronError: not five fields, or a day-of-week field that cannot be read.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r} has {len(fields)} fields; a cron expression has five")
    if fields[4] != "*":
        fields[4] = ",".join(weekdays(fields[4]))
    return " ".join(fields)
