"""Cron expressions keep crontab(5)'s weekdays: ``0 2 * * 6`` is Saturday, not Sunday."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from repository.crontab import CronError, apscheduler_fields, weekdays

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def next_run(expression: str) -> datetime:
    trigger = CronTrigger.from_crontab(apscheduler_fields(expression), timezone=ZONE)
    start = datetime(2026, 12, 7, 12, 0, tzinfo=ZONE)  # a Monday
    fire = trigger.get_next_fire_time(None, start)
    assert fire is not None
    return fire


@pytest.mark.parametrize(
    ("expression", "weekday"),
    [
        ("0 2 * * 6", "Saturday"),
        ("0 2 * * sat", "Saturday"),
        ("0 2 * * 0", "Sunday"),
        ("0 2 * * 7", "Sunday"),
    ],
)
def test_the_scheduled_day_is_the_one_crontab_means(expression: str, weekday: str) -> None:
    assert next_run(expression).strftime("%A") == weekday


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", ["mon", "tue", "wed", "thu", "fri"]),
        ("mon-fri", ["mon", "tue", "wed", "thu", "fri"]),
        ("*/2", ["sun", "tue", "thu", "sat"]),
        ("0,6", ["sun", "sat"]),
        ("5-7", ["sun", "fri", "sat"]),
        ("1-5/2", ["mon", "wed", "fri"]),
    ],
)
def test_lists_ranges_and_steps_select_crontabs_days(field: str, days: list[str]) -> None:
    assert weekdays(field) == days


@pytest.mark.parametrize("expression", ["0 2 * *", "0 2 * * 8", "0 2 * * funday", "0 2 * * 5-1"])
def test_a_bad_expression_names_the_problem(expression: str) -> None:
    with pytest.raises(CronError):
        apscheduler_fields(expression)
