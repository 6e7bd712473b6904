"""The public records: one row per public hồ sơ and tài liệu, kept in step by the database.

``public_record`` is the public rule (``workflows.access.public``) evaluated ahead, so that the
public catalog's search reads one table with one index instead of evaluating the rule per row
over four tables (at a million files the difference is most of the time of a search,
bench/bench_public_search.py). It holds what search needs: the record (``kind`` 0 hồ sơ, 1 tài
liệu, and its id), its hồ sơ, the facet keys and, on PostgreSQL, ``record_fts_vector``: the
record's words (for a tài liệu, with the words of its files' texts) and one lexeme per facet
value (:func:`facet_lexemes`).

It is never written by the application. Migration ``0012_public_search`` defines the rule as the
view ``public_record_rule`` and triggers on ``dossier``, ``document``, ``access_restriction``,
``aip`` (and, for the words of files' texts a tài liệu's PostgreSQL vector holds, ``file_text``
and ``document_file``) that re-copy the affected rows from it in the statement that changed
them: a restriction, a change of mức độ tiếp cận (giải mật, Mật) or an AIP leaving the holdings
takes effect in the same transaction, and a record the rule closes is never a row here, not even for a moment.
:func:`refresh_public_records` copies the whole view again (``kholuu rebuild-catalog`` and
``kholuu reindex`` run it; also after bulk loads that bypass triggers).
"""

from __future__ import annotations

from sqlalchemy import Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from repository.catalog.base import Base

DOSSIER, DOCUMENT = 0, 1
RULE_VIEW = "public_record_rule"


class PublicRecord(Base):
    """A public hồ sơ (``kind`` 0) or tài liệu (``kind`` 1) with its facet keys."""

    __tablename__ = "public_record"

    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dossier_id: Mapped[int] = mapped_column(Integer, index=True)  # the hồ sơ itself, for kind 0
    type: Mapped[str] = mapped_column(String(10))  # dossier | doc | pic | media
    fonds_id: Mapped[int | None] = mapped_column(Integer)
    agency_id: Mapped[int | None] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer)


def facet_lexemes(
    *,
    type: str | None = None,
    fonds_id: int | None = None,
    agency_id: int | None = None,
    year: int | None = None,
) -> list[str]:
    """The PostgreSQL lexemes a public record carries for these facet values (``@tdoc``, ``@f12``,
    ``@a7``, ``@y1990``): folded words hold letters and digits only, so none is ever a word."""
    values = (("t", type), ("f", fonds_id), ("a", agency_id), ("y", year))
    return [f"@{key}{value}" for key, value in values if value is not None]


def refresh_public_records(session: Session) -> int:
    """Copy the whole rule view into ``public_record`` again; returns the rows. The caller commits.

    On PostgreSQL the tables the rule reads are analyzed first: after a bulk load or a rebuild
    they may have no statistics yet, and the planner then joins a million tài liệu row by row
    (measured: more than 15 minutes for 1 000 000 against seconds)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE dossier, document, access_restriction, aip, document_file, file_text"))
    session.execute(text("DELETE FROM public_record"))
    session.execute(text(f"INSERT INTO public_record SELECT * FROM {RULE_VIEW}"))
    return int(session.execute(text("SELECT count(*) FROM public_record")).scalar_one())


__all__ = ["DOCUMENT", "DOSSIER", "RULE_VIEW", "PublicRecord", "facet_lexemes", "refresh_public_records"]
