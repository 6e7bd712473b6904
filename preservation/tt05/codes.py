"""The structure of TT 05 / NĐ 30 codes: mã hồ sơ, mã gói tin, mã lưu trữ tài liệu.

A code is an identifier the archive files records under, searches and hands on to the national
database; a ``fileCode`` such as ``'; DROP TABLE dossier;--`` or one whose year is 3024 must not be
taken in (issue 11 item 22). The grammar of each part is data (``config/tt05/codes.toml``), because
the circular names the parts and their lengths but not every character they may hold.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from preservation.findings import Severity
from preservation.tt05.tables import DEFAULT_DIR, TablesError


@dataclass(frozen=True)
class CodeRules:
    """``config/tt05/codes.toml``, compiled."""

    characters: re.Pattern[str]
    organ_id: re.Pattern[str]
    year_min: int
    notation: re.Pattern[str]
    notation_max: int
    submission_count: re.Pattern[str]
    ordinal_digits: int
    doc_code_prefix: Severity


def load_code_rules(path: Path = DEFAULT_DIR / "codes.toml") -> CodeRules:
    """Read and compile the code rules.

    Raises:
        TablesError: the file is missing, not TOML, or a rule is not a valid expression.
    """
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        severity = Severity(str(data.get("doc_code_prefix", "error")))
        return CodeRules(
            characters=re.compile(str(data["characters"])),
            organ_id=re.compile(str(data["organ_id"])),
            year_min=int(data["year_min"]),
            notation=re.compile(str(data["notation"])),
            notation_max=int(data["notation_max"]),
            submission_count=re.compile(str(data["submission_count"])),
            ordinal_digits=int(data["ordinal_digits"]),
            doc_code_prefix=severity,
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError, TypeError, re.error) as exc:
        raise TablesError(f"{path}: {exc}") from exc


@cache
def shipped_code_rules() -> CodeRules:
    """The rules in ``config/tt05/codes.toml``, read once per process."""
    return load_code_rules()


@dataclass(frozen=True)
class CodeProblem:
    """Why a code is refused: ``kind`` is ``characters``, ``structure`` or ``year``."""

    kind: str
    detail: str
    params: dict[str, str | int] = field(default_factory=dict)


def characters_problem(code: str, rules: CodeRules) -> CodeProblem | None:
    if rules.characters.fullmatch(code):
        return None
    bad = sorted({c for c in code if not rules.characters.fullmatch(c)})
    shown = " ".join(repr(c) for c in bad[:10])
    return CodeProblem("characters", shown, {"chars": shown})


def dossier_code_problem(code: str, rules: CodeRules, *, today: date | None = None) -> CodeProblem | None:
    """Why ``code`` is not a mã hồ sơ (agency id . year . số và ký hiệu), or None."""
    problem = characters_problem(code, rules)
    if problem is not None:
        return problem
    parts = code.split(".")
    year_seen: str | None = None
    for i in range(1, len(parts) - 1):
        organ, year, notation = ".".join(parts[:i]), parts[i], ".".join(parts[i + 1 :])
        if not (rules.organ_id.fullmatch(organ) and len(year) == 4 and year.isdigit()):
            continue
        year_seen = year
        if rules.notation.fullmatch(notation) and len(notation) <= rules.notation_max:
            return _year_problem(year, rules, today)
    if year_seen is not None:
        return CodeProblem("structure", "the số và ký hiệu after the year is not a number and ký hiệu")
    return CodeProblem("structure", "not <agency id>.<year>.<số và ký hiệu>")


def package_code_problem(code: str, rules: CodeRules, *, today: date | None = None) -> CodeProblem | None:
    """Why ``code`` is not a SIP_tailieu mã gói tin (agency id . year . count . ordinal), or None."""
    problem = characters_problem(code, rules)
    if problem is not None:
        return problem
    parts = code.split(".")
    if len(parts) >= 4:
        organ, year, count, ordinal = ".".join(parts[:-3]), parts[-3], parts[-2], parts[-1]
        if (
            rules.organ_id.fullmatch(organ)
            and len(year) == 4
            and year.isdigit()
            and rules.submission_count.fullmatch(count)
            and len(ordinal) == rules.ordinal_digits
            and ordinal.isdigit()
        ):
            return _year_problem(year, rules, today)
    return CodeProblem("structure", "not <agency id>.<year>.<số lần nộp lưu>.<số thứ tự>")


def _year_problem(year: str, rules: CodeRules, today: date | None) -> CodeProblem | None:
    current = (today or date.today()).year
    if rules.year_min <= int(year) <= current:
        return None
    return CodeProblem(
        "year",
        f"{year} is not between {rules.year_min} and {current}",
        {"year": year, "min": rules.year_min, "max": current},
    )
