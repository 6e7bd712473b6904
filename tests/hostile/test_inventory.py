"""The corpus holds at least 150 distinct cases, each with its expected outcome, and the inventory
in docs/reliability.md is the one the corpus makes (``python -m tests.hostile.corpus``)."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.hostile.corpus import Outcome, all_cases, inventory_table


def test_at_least_150_distinct_cases_each_with_its_outcome() -> None:
    cases = all_cases()
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids) >= 150
    for c in cases:
        assert (c.code == "") == (c.outcome is Outcome.ACCEPTED), c.id


def test_the_documented_inventory_is_the_corpus() -> None:
    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert inventory_table(all_cases()) in doc, "run python -m tests.hostile.corpus and paste its table"
