"""Retention schedules (bảng thời hạn lưu trữ): loaded from TOML data files and listed.

A schedule file is its own small format (a ``[schedule]`` header and ``[[items]]`` checked against
the TT 05 maintenance codes and their numbers of years), so its reading and checking live apart from
the other reference data in :mod:`repository.catalog.records_import`. A file with one bad key is
refused whole and every bad key is named. Functions take a session and never commit (style guide
item 20).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalog.records import RetentionItem, RetentionSchedule
from repository.catalog.records_core import (
    MAINTENANCE_YEARS,
    OTHER_PERIOD,
    PERMANENT,
    Problem,
    RecordsError,
    _nfc,
    _refuse_file,
    maintenance_codes,
)

_SCHEDULE_KEYS = {"code", "name", "legal_basis", "valid_from", "valid_to"}
_ITEM_KEYS = {"item_code", "title", "maintenance", "years", "legal_basis", "notes"}


def _key_problem(key: str, *, code: str, message: str, **params: Any) -> Problem:
    return Problem(code=code, message=f"{key}: {message}", params={"key": key, **params}, key=key)


def _text_key(
    table: Mapping[str, Any],
    key: str,
    where: str,
    problems: list[Problem],
    *,
    required: bool = True,
    max_length: int | None = None,
) -> str:
    value = table.get(key)
    if value is None:
        if required:
            problems.append(_key_problem(f"{where}.{key}", code="records.toml_missing", message="is missing"))
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(
            _key_problem(
                f"{where}.{key}", code="records.toml_bad_type", message="must be text", expected="text"
            )
        )
        return ""
    if max_length is not None and len(value) > max_length:
        problems.append(
            _key_problem(
                f"{where}.{key}",
                code="records.toml_too_long",
                message=f"longer than {max_length}",
                max=max_length,
            )
        )
    return _nfc(value)


def _date_key(table: Mapping[str, Any], key: str, where: str, problems: list[Problem]) -> date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        problems.append(
            _key_problem(
                f"{where}.{key}",
                code="records.toml_bad_type",
                message="must be a date (2022-12-31)",
                expected="date",
            )
        )
        return None
    return value


def _item(raw: Any, index: int, problems: list[Problem]) -> RetentionItem | None:
    where = f"items[{index}]"
    if not isinstance(raw, dict):
        problems.append(
            _key_problem(where, code="records.toml_bad_type", message="must be a table", expected="[[items]]")
        )
        return None
    before = len(problems)
    for key in sorted(set(raw) - _ITEM_KEYS):
        problems.append(
            _key_problem(f"{where}.{key}", code="records.toml_unknown_key", message="unknown key")
        )
    item_code = _text_key(raw, "item_code", where, problems, max_length=50)
    title = _text_key(raw, "title", where, problems)
    maintenance = _text_key(raw, "maintenance", where, problems)
    years = raw.get("years")
    if maintenance and maintenance not in maintenance_codes():
        problems.append(
            _key_problem(
                f"{where}.maintenance",
                code="records.toml_bad_code",
                message=f"{maintenance!r} is not a TT 05 maintenance code",
                value=maintenance,
                codes=list(maintenance_codes()),
            )
        )
    elif years is not None and (not isinstance(years, int) or isinstance(years, bool) or years <= 0):
        problems.append(
            _key_problem(
                f"{where}.years",
                code="records.toml_bad_type",
                message="must be a number of years",
                expected="years > 0",
            )
        )
    elif maintenance == PERMANENT and years is not None:
        problems.append(
            _key_problem(
                f"{where}.years",
                code="records.retention_permanent_years",
                message="a permanent item (01) has no number of years",
            )
        )
    elif maintenance == OTHER_PERIOD and years is None:
        problems.append(
            _key_problem(
                f"{where}.years",
                code="records.retention_years_missing",
                message="maintenance 07 (khác) needs its number of years",
            )
        )
    elif maintenance in MAINTENANCE_YEARS:
        expected = MAINTENANCE_YEARS[maintenance]
        if years is not None and years != expected:
            problems.append(
                _key_problem(
                    f"{where}.years",
                    code="records.retention_years_mismatch",
                    message=f"maintenance {maintenance} means {expected} years, not {years}",
                    maintenance=maintenance,
                    years=years,
                    expected=expected,
                )
            )
        years = expected
    legal_basis = _text_key(raw, "legal_basis", where, problems, required=False)
    notes = _text_key(raw, "notes", where, problems, required=False)
    if len(problems) > before:
        return None
    return RetentionItem(
        item_code=item_code,
        title=title,
        maintenance=maintenance,
        years=years,
        legal_basis=legal_basis,
        notes=notes,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed data file, or ``records.toml_unreadable`` naming why it cannot be read."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RecordsError(
            code="records.toml_unreadable",
            message=f"cannot read {path}: {exc}",
            params={"path": str(path), "reason": str(exc)},
        ) from exc


def _header(data: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """The ``[schedule]`` table's fields (code, name, legal basis, period); bad keys go to ``problems``."""
    for key in sorted(set(data) - {"schedule", "items"}):
        problems.append(_key_problem(key, code="records.toml_unknown_key", message="unknown key"))
    header = data.get("schedule")
    if not isinstance(header, dict):
        problems.append(_key_problem("schedule", code="records.toml_missing", message="is missing"))
        header = {}
    for key in sorted(set(header) - _SCHEDULE_KEYS):
        problems.append(
            _key_problem(f"schedule.{key}", code="records.toml_unknown_key", message="unknown key")
        )
    fields: dict[str, Any] = {
        "code": _text_key(header, "code", "schedule", problems, max_length=100),
        "name": _text_key(header, "name", "schedule", problems),
        "legal_basis": _text_key(header, "legal_basis", "schedule", problems),
        "valid_from": _date_key(header, "valid_from", "schedule", problems),
        "valid_to": _date_key(header, "valid_to", "schedule", problems),
    }
    valid_from, valid_to = fields["valid_from"], fields["valid_to"]
    if valid_from and valid_to and valid_to < valid_from:
        problems.append(
            _key_problem(
                "schedule.valid_to",
                code="records.bad_period",
                message="ends before it starts",
                start=valid_from.isoformat(),
                end=valid_to.isoformat(),
            )
        )
    return fields


def _items(data: Mapping[str, Any], problems: list[Problem]) -> list[RetentionItem]:
    """The ``[[items]]``, each checked; a repeated item code is named with the index it repeats."""
    raw_items = data.get("items", [])
    if not isinstance(raw_items, list) or not raw_items:
        problems.append(_key_problem("items", code="records.toml_missing", message="no [[items]]"))
        raw_items = []
    items: list[RetentionItem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        item = _item(raw, index, problems)
        item_code = (
            _nfc(raw["item_code"]) if isinstance(raw, dict) and isinstance(raw.get("item_code"), str) else ""
        )
        if item_code in seen:
            problems.append(
                _key_problem(
                    f"items[{index}].item_code",
                    code="records.retention_duplicate_item",
                    message=f"{item_code!r} is also items[{seen[item_code]}]",
                    value=item_code,
                    other=seen[item_code],
                )
            )
            continue
        if item_code:
            seen[item_code] = index
        if item is not None:
            items.append(item)
    return items


def load_retention_schedule(session: Session, path: Path) -> RetentionSchedule:
    """Load a bảng thời hạn lưu trữ from a TOML data file (config/retention/*.toml).

    Schedules are data, never code (vn-standards.md §3.1: each ministry issues its own under Luật
    Lưu trữ 2024, and the general one's status after 01/7/2025 is unverified). Loading a file whose
    schedule code exists replaces that schedule's header and items within the caller's transaction.

    Raises:
        RecordsError: ``records.file_invalid`` listing every bad key, or ``records.toml_unreadable``.
    """
    path = Path(path)
    data = _read_toml(path)
    problems: list[Problem] = []
    fields = _header(data, problems)
    items = _items(data, problems)
    if problems:
        raise _refuse_file(path, problems)
    schedule = session.scalars(
        select(RetentionSchedule).where(RetentionSchedule.code == fields["code"])
    ).first()
    if schedule is None:
        schedule = RetentionSchedule(code=fields["code"])
        session.add(schedule)
    else:
        schedule.items.clear()
        session.flush()  # the old items go before the new ones arrive (unique item codes)
    schedule.name, schedule.legal_basis = fields["name"], fields["legal_basis"]
    schedule.valid_from, schedule.valid_to = fields["valid_from"], fields["valid_to"]
    schedule.source_file = str(path)
    schedule.items.extend(items)
    session.flush()
    return schedule


def list_schedules(session: Session) -> list[RetentionSchedule]:
    return list(session.scalars(select(RetentionSchedule).order_by(RetentionSchedule.code)))
