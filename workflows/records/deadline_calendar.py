"""The calendar of the thu nộp procedure: working days, months, and the archive's day.

TT 05/2025/TT-BNV as transcribed [S] counts procedural deadlines in calendar days (confirm a
receipt, decide) or in working days (reply to a registration); a working day is Monday to Friday
and not one of ``records.holidays``. TT 05 dates are days at the archive (+07:00), so a moment is
turned into the archive's day before any counting. Apart from :mod:`workflows.records.deadlines`
(the report) because the transfer steps, the held records and the KPIs all count days this way.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    """Monday to Friday and not a configured holiday (Bộ luật Lao động: Saturday and Sunday are
    the weekly rest days of public bodies; public holidays come from ``records.holidays``)."""
    return day.weekday() < 5 and day not in set(holidays)


def add_working_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The day ``days`` working days after ``start`` (``start`` itself does not count: a
    registration received on a Friday with 7 working days to answer is due on the Tuesday of the
    week after next, holidays aside). ``days = 0`` gives ``start``."""
    off = set(holidays)
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            left -= 1
    return day


def add_months(day: date, months: int) -> date:
    """Same day of the month ``months`` later, clamped to the month's last day (31/1 + 1 → 28/2)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def archive_day(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of ``moment`` at the archive (TT 05 dates are in +07:00)."""
    return moment.astimezone(tz).date()


def end_of_day(day: date, tz: tzinfo) -> datetime:
    """The first instant after ``day`` at the archive, in UTC: "on or before day" is ``< this``."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)


__all__ = ["add_months", "add_working_days", "add_years", "archive_day", "end_of_day", "is_working_day"]
