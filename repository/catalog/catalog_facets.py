"""The facets of a public catalog search (type, phông, agency, year): counted over the bounded
rows of a search, named for the reader, the largest first. Split from :mod:`catalog_search`,
which finds the rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from repository.catalog.records import Fonds, SourceAgency

RECORD_TYPES = ("dossier", "doc", "pic", "media")

FACET_LIMIT = 50


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


GROUPED = ("type", "fonds_id", "agency_id", "year")


def facets_in_one_pass(session: Session, hits: Any) -> dict[str, list[FacetValue]]:
    """PostgreSQL: the total and every facet's counts from one scan of the hits (GROUPING SETS)."""
    columns = [hits.c[name] for name in GROUPED]
    rows = session.execute(
        select(*columns, *[func.grouping(c) for c in columns], func.count()).group_by(
            func.grouping_sets(*columns, tuple_())
        )
    ).all()
    counts: dict[str, dict[Any, int]] = {name: {} for name in GROUPED}
    for row in rows:
        values, grouped, count = row[:4], row[4:8], int(row[8])
        if all(grouped):
            continue  # the grand total: counted already
        index = list(grouped).index(0)
        if values[index] is not None:
            counts[GROUPED[index]][values[index]] = count
    return named_facets(session, counts)


def named_facets(session: Session, counts: dict[str, dict[Any, int]]) -> dict[str, list[FacetValue]]:
    """Facet values with their labels, most frequent first (years newest first)."""
    result: dict[str, list[FacetValue]] = {}
    result["type"] = [FacetValue(t, t, counts["type"][t]) for t in RECORD_TYPES if t in counts["type"]]
    fonds = dict(
        (i, (c, n))
        for i, c, n in session.execute(
            select(Fonds.id, Fonds.code, Fonds.name).where(Fonds.id.in_(list(counts["fonds_id"])))
        )
    )
    result["fonds"] = _top([FacetValue(*fonds[i], k) for i, k in counts["fonds_id"].items() if i in fonds])
    agencies = dict(
        (i, (c, n))
        for i, c, n in session.execute(
            select(SourceAgency.id, SourceAgency.organ_id, SourceAgency.name).where(
                SourceAgency.id.in_(list(counts["agency_id"]))
            )
        )
    )
    result["agency"] = _top(
        [FacetValue(*agencies[i], k) for i, k in counts["agency_id"].items() if i in agencies]
    )
    years = sorted(counts["year"].items(), reverse=True)[:FACET_LIMIT]
    result["year"] = [FacetValue(str(y), str(y), k) for y, k in years]
    return result


def _top(values: list[FacetValue]) -> list[FacetValue]:
    return sorted(values, key=lambda v: (-v.count, v.value))[:FACET_LIMIT]


def facet_counts(session: Session, hits: Any) -> dict[str, list[FacetValue]]:
    result: dict[str, list[FacetValue]] = {}
    types = session.execute(select(hits.c.type, func.count()).group_by(hits.c.type)).all()
    by_type = {str(t): int(n) for t, n in types}
    result["type"] = [FacetValue(t, t, by_type[t]) for t in RECORD_TYPES if t in by_type]
    fonds = session.execute(
        select(Fonds.code, Fonds.name, func.count())
        .join(hits, hits.c.fonds_id == Fonds.id)
        .group_by(Fonds.code, Fonds.name)
        .order_by(func.count().desc(), Fonds.code)
        .limit(FACET_LIMIT)
    ).all()
    result["fonds"] = [FacetValue(c, n, int(k)) for c, n, k in fonds]
    agencies = session.execute(
        select(SourceAgency.organ_id, SourceAgency.name, func.count())
        .join(hits, hits.c.agency_id == SourceAgency.id)
        .group_by(SourceAgency.organ_id, SourceAgency.name)
        .order_by(func.count().desc(), SourceAgency.organ_id)
        .limit(FACET_LIMIT)
    ).all()
    result["agency"] = [FacetValue(c, n, int(k)) for c, n, k in agencies]
    years = session.execute(
        select(hits.c.year, func.count())
        .where(hits.c.year.is_not(None))
        .group_by(hits.c.year)
        .order_by(hits.c.year.desc())
        .limit(FACET_LIMIT)
    ).all()
    result["year"] = [FacetValue(str(y), str(y), int(k)) for y, k in years]
    return result


__all__ = [
    "FACET_LIMIT",
    "GROUPED",
    "RECORD_TYPES",
    "FacetValue",
    "facet_counts",
    "facets_in_one_pass",
    "named_facets",
]
