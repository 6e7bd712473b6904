"""The hostile corpus: every case is made at run time by a generator (nothing hostile is stored in the
repository) and carries what must happen to it.

A case is refused with a named code, or accepted with a recorded warning (or, where that is the
right answer, accepted as it is: ``Outcome.ACCEPTED``). The test modules of this folder each hold a
list of cases checked at the level that decides them (the unpacker, the package reader, the
validator, the characterizer); ``test_end_to_end.py`` sends a few through ``kholuu ingest`` on both
catalogs. ``python -m tests.hostile.corpus`` prints the inventory that docs/reliability.md shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Outcome(StrEnum):
    REFUSED = "refused"
    WARNED = "accepted with a warning"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
        id: unique over the whole corpus (the pytest id).
        kind: its line in the inventory.
        build: makes the input under the given folder and returns its path.
        code: the reason code expected (the error's, or the finding's for a warning); empty for
            ``Outcome.ACCEPTED``.
        outcome: refused, or accepted with or without a warning.
    """

    id: str
    kind: str
    build: Callable[[Path], Path]
    code: str = ""
    outcome: Outcome = Outcome.REFUSED


def all_cases() -> list[Case]:
    """Every case of the corpus, module by module."""
    from tests.hostile import (
        test_containers,
        test_encodings,
        test_office_bombs,
        test_packages,
        test_truncated,
        test_xml,
    )

    return [
        *test_containers.CASES,
        *test_office_bombs.CASES,
        *test_xml.CASES,
        *test_packages.CASES,
        *test_encodings.CASES,
        *test_truncated.CASES,
    ]


def inventory(cases: list[Case]) -> list[tuple[str, int, str]]:
    """(kind, count, the outcomes with their codes) in the order the kinds first appear."""
    rows: dict[str, list[Case]] = {}
    for case in cases:
        rows.setdefault(case.kind, []).append(case)
    out = []
    for kind, members in rows.items():
        by_outcome: dict[str, set[str]] = {}
        for c in members:
            by_outcome.setdefault(c.outcome.value, set()).add(c.code)
        text = "; ".join(
            f"{outcome}: {', '.join(f'`{c}`' for c in sorted(codes) if c) or '—'}"
            for outcome, codes in sorted(
                by_outcome.items(), key=lambda kv: list(Outcome).index(Outcome(kv[0]))
            )
        )
        out.append((kind, len(members), text))
    return out


def inventory_table(cases: list[Case]) -> str:
    lines = ["| Kind | Cases | Expected outcome (reason codes) |", "|---|---:|---|"]
    lines += [f"| {kind} | {count} | {text} |" for kind, count, text in inventory(cases)]
    lines.append(f"| **total** | **{len(cases)}** | |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(inventory_table(all_cases()))
