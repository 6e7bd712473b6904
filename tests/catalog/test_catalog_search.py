"""The public catalog's search (``repository.catalog.catalog_search`` under
``workflows.access.public.PUBLIC``) on SQLite FTS5 and PostgreSQL GIN: diacritics, quoted phrases,
file text, facets over public rows only, paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from preservation.planning.text import search_form
from repository.catalog import catalog_search as catalog_search_module
from repository.catalog import records_store as store
from repository.catalog.catalog_search import CatalogPage, Filters, catalog_search
from repository.catalog.file_text import FileText
from repository.catalog.models import Aip, AipStatus
from repository.catalog.public_records import DOCUMENT, DOSSIER, PublicRecord, refresh_public_records
from repository.catalog.records import Document, DocumentFile, Dossier
from repository.catalog.search import EVERYTHING, search
from tests.public_seed import CLOSED_CODES, OPEN_CODE, secret_words, seed
from workflows.access.public import PUBLIC


@pytest.fixture
def catalog(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    seed(sessions)
    return sessions


def run(sessions: sessionmaker[Session], text: str, **kw: object) -> CatalogPage:
    with sessions() as s:
        return catalog_search(s, text, visible=PUBLIC, **kw)  # type: ignore[arg-type]


def codes(page: CatalogPage) -> list[str]:
    return [h.record.code if isinstance(h.record, Dossier) else h.record.doc_code or "#" for h in page.hits]


def test_words_ignore_diacritics_and_find_titles_codes_and_file_text(catalog: sessionmaker[Session]) -> None:
    page = run(catalog, "quyet dinh")
    assert page.total == 1 and page.hits[0].kind == "document"
    assert isinstance(page.hits[0].record, Document)
    assert page.hits[0].record.title == "Quyết định phê duyệt dự án đầu tư xây dựng trụ sở"
    # "Đà Nẵng" is only in the decision's text layer
    assert [h.record.title for h in run(catalog, "DA NANG").hits] == [page.hits[0].record.title]
    # a mã tài liệu starts with its mã hồ sơ
    assert codes(run(catalog, "H49.64.33.2001.160")) == [OPEN_CODE, f"{OPEN_CODE}.0000003"]
    assert codes(run(catalog, "an giang tru so")) == [OPEN_CODE]  # the hồ sơ's title, every word


def test_a_quoted_phrase_must_be_written_as_in_the_record(catalog: sessionmaker[Session]) -> None:
    assert run(catalog, '"Quyết định phê duyệt"').total == 1
    assert run(catalog, '"quyết định PHÊ DUYỆT"').total == 1  # case aside
    assert run(catalog, '"Quyet dinh phe duyet"').total == 0  # diacritics count
    assert run(catalog, '"phê duyệt Quyết định"').total == 0  # order counts
    assert run(catalog, '"thành phố Đà Nẵng"').total == 1  # in the file text, as written
    assert run(catalog, '"thanh pho Da Nang"').total == 0


def test_closed_records_are_found_by_operators_and_never_by_the_public(
    catalog: sessionmaker[Session],
) -> None:
    for word in secret_words():
        assert run(catalog, word).total == 0, word
        with catalog() as s:
            assert catalog_search(s, word, visible=EVERYTHING).total >= 1, word
    for code in CLOSED_CODES:
        assert run(catalog, code).total == 0


def test_browse_counts_and_facets_count_public_records_only(catalog: sessionmaker[Session]) -> None:
    page = run(catalog, "")
    # two open hồ sơ; their public tài liệu: decision and photo of the first, none of the second
    # (its decision is Mật, its photo on the restriction list)
    assert page.total == 4
    assert {(f.value, f.count) for f in page.facets["type"]} == {("dossier", 2), ("doc", 1), ("pic", 1)}
    assert [(f.value, f.label, f.count) for f in page.facets["fonds"]] == [
        ("AG01", "Phông UBND tỉnh An Giang", 4)
    ]
    assert [(f.value, f.count) for f in page.facets["agency"]] == [("H49.64.33", 4)]
    assert {(f.value, f.count) for f in page.facets["year"]} == {("2001", 3), ("2003", 1)}
    assert run(catalog, "", filters=Filters(type="pic")).total == 1
    assert run(catalog, "", filters=Filters(year=2003)).total == 1
    assert run(catalog, "", filters=Filters(fonds="XX")).total == 0
    assert run(catalog, "", filters=Filters(agency="H49.64.33", type="dossier")).total == 2


def test_paging_is_stable(sessions: sessionmaker[Session]) -> None:
    seed(sessions, extra_open=5)
    first, second = run(sessions, "", limit=4), run(sessions, "", limit=4, offset=4)
    assert first.total == second.total == 7 + 2 * 6  # 7 open hồ sơ, 2 public tài liệu in each but one
    seen = codes(first) + codes(second)
    assert len(set(seen)) == 8 and [h.kind for h in first.hits] == ["dossier"] * 4


def test_counting_stops_past_the_limit_and_facets_are_then_not_counted(
    catalog: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_search_module, "COUNT_LIMIT", 3)
    page = run(catalog, "")  # four public records
    assert (page.total, page.exact, page.facets) == (4, False, {})
    assert len(page.hits) == 4 and [h.kind for h in page.hits] == [
        "dossier",
        "dossier",
        "document",
        "document",
    ]
    narrowed = run(catalog, "", filters=Filters(type="dossier"))
    assert (narrowed.total, narrowed.exact) == (2, True) and narrowed.facets["type"][0].count == 2


def test_file_text_search_under_the_public_rule_hides_closed_files(catalog: sessionmaker[Session]) -> None:
    """``kholuu search --public`` asks the same rule: the text of a closed tài liệu's file is not found."""
    with catalog() as s:
        assert [h.kind for h in search(s, "da nang", visible=PUBLIC).hits] == ["file"]
        for word in secret_words():
            assert search(s, word, visible=PUBLIC).hits == [], word
            assert search(s, word, visible=EVERYTHING).hits, word


def _rule(session: Session) -> set[tuple[int, int]]:
    """The public records as the rule of ``workflows.access.public`` selects them."""
    dossiers = session.scalars(select(Dossier.id).where(PUBLIC.dossiers()))
    documents = session.scalars(select(Document.id).join(Document.dossier).where(PUBLIC.documents()))
    return {(DOSSIER, i) for i in dossiers} | {(DOCUMENT, i) for i in documents}


def _kept(session: Session) -> set[tuple[int, int]]:
    return {(k, i) for k, i in session.execute(select(PublicRecord.kind, PublicRecord.record_id))}


def test_public_records_kept_by_the_database_are_the_rule(catalog: sessionmaker[Session]) -> None:
    with catalog.begin() as s:
        kept = _kept(s)
        assert kept == _rule(s) and len(kept) == 4
        s.execute(delete(PublicRecord))  # a catalog that lost the table: the refresh rebuilds it
        assert refresh_public_records(s) == 4 and _kept(s) == kept


def test_every_change_that_closes_a_record_hides_it_in_the_same_transaction(
    catalog: sessionmaker[Session],
) -> None:
    """A restriction, Mật, a change of level, an AIP leaving the holdings, a superseding hồ sơ: the
    public search stops showing the record before the transaction commits, and the table the
    search reads stays the rule after each step."""
    steps: list[tuple[str, Callable[[Session, Dossier], object]]] = [
        ("restricted", lambda s, d: store.restrict(s, dossier_id=d.id, **DECISION)),
        ("Mật", lambda s, d: setattr(d, "mode", "03")),
        ("tài liệu Mật", lambda s, d: setattr(_decision(d), "mode", "03")),
        ("level 02", lambda s, d: store.change_access(s, dossier_id=d.id, to_mode="02", **DECISION)),
        ("AIP failed", lambda s, d: setattr(s.get(Aip, d.aip_id), "status", AipStatus.FAILED)),
        ("superseded", lambda s, d: setattr(d, "superseded_by_id", d.id)),
    ]
    for name, close in steps:
        with catalog() as s, s.begin():
            assert run_in(s, "quyet dinh").total == 1, name
            dossier = s.scalars(select(Dossier).where(Dossier.code == OPEN_CODE)).one()
            close(s, dossier)
            s.flush()
            page = run_in(s, "quyet dinh")  # the decision's title; "tài liệu Mật" closes it alone
            assert (page.total, page.hits) == (0, []), name
            assert run_in(s, "an giang tru so").total == (0 if name != "tài liệu Mật" else 1), name
            assert _kept(s) == _rule(s), name
            s.rollback()
    with catalog.begin() as s:  # lifted: public again at once
        dossier = s.scalars(select(Dossier).where(Dossier.code == OPEN_CODE)).one()
        restriction = store.restrict(s, dossier_id=dossier.id, **DECISION)
        s.flush()
        assert run_in(s, "quyet dinh").total == 0
        store.lift_restriction(
            s, restriction.id, decision_number="13/QĐ", by="lưu trữ viên", at=datetime.now(UTC)
        )
        s.flush()
        assert run_in(s, "quyet dinh").total == 1 and _kept(s) == _rule(s)


def test_facets_filter_inside_the_search(catalog: sessionmaker[Session]) -> None:
    assert codes(run(catalog, "quyet dinh", filters=Filters(year=2001, type="doc"))) == [
        f"{OPEN_CODE}.0000003"
    ]
    assert run(catalog, "quyet dinh", filters=Filters(year=2003)).total == 0
    assert run(catalog, "quyet dinh", filters=Filters(type="pic")).total == 0
    assert run(catalog, "da nang", filters=Filters(fonds="AG01", agency="H49.64.33")).total == 1  # file text
    assert run(catalog, "da nang", filters=Filters(year=2003)).total == 0
    page = run(catalog, "an giang")
    assert {(f.value, f.count) for f in page.facets["type"]} == {("dossier", 1)}


def _text_of(session: Session, title_word: str) -> FileText:
    """The text row of the file carrying the tài liệu whose title holds ``title_word``."""
    return session.scalars(
        select(FileText)
        .join(DocumentFile, DocumentFile.file_uuid == FileText.file_uuid)
        .join(Document, Document.id == DocumentFile.document_id)
        .where(Document.title_search.contains(title_word))
    ).one()


def _set_text(row: FileText, text: str) -> None:
    row.text, row.text_folded = text, search_form(text)


def test_file_text_words_follow_the_text_and_the_rule_in_the_same_transaction(
    catalog: sessionmaker[Session],
) -> None:
    """A word only in a file's text (OCR, text layer) is found while its tài liệu is public, the
    moment the text is written, and never once the tài liệu is closed; a closed tài liệu's new
    text is never found. (On PostgreSQL the words are in ``public_record``'s vector, kept by
    triggers on ``file_text`` and ``document_file``.)"""
    with catalog() as s, s.begin():
        closed = _text_of(s, "argontitle")  # a tài liệu Mật in an open hồ sơ
        _set_text(closed, "Báo cáo heliumtext về thành phố Huế")
        opened = _text_of(s, "quyet dinh phe duyet")
        _set_text(opened, "Biên bản neonword nghiệm thu")
        s.flush()
        assert run_in(s, "heliumtext").total == 0 and run_in(s, '"thành phố Huế"').total == 0
        assert catalog_search(s, "heliumtext", visible=EVERYTHING).total == 1
        assert codes(run_in(s, "neonword")) == [f"{OPEN_CODE}.0000003"]
        assert run_in(s, '"Biên bản neonword"').total == 1 and run_in(s, '"Bien ban neonword"').total == 0
        assert run_in(s, "da nang").total == 0  # the text it replaced
        assert _kept(s) == _rule(s)
        decision = _decision(s.scalars(select(Dossier).where(Dossier.code == OPEN_CODE)).one())
        decision.mode = "03"
        s.flush()
        assert run_in(s, "neonword").total == 0 and run_in(s, '"Biên bản neonword"').total == 0
        decision.mode = "01"
        s.flush()
        assert run_in(s, "neonword").total == 1
        assert not any(h.record is decision for h in run_in(s, '"đường vào trụ sở"').hits)
        photo = _text_of(s, "le khoi cong")
        s.add(DocumentFile(document_id=decision.id, file_uuid=photo.file_uuid, path="2.jpg"))
        s.flush()  # the decision is now carried by the photo's file too: its text is the decision's
        assert any(h.record is decision for h in run_in(s, '"đường vào trụ sở"').hits)
        assert _kept(s) == _rule(s)
        s.delete(opened)
        s.flush()
        assert run_in(s, "neonword").total == 0 and _kept(s) == _rule(s)
        s.rollback()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has no such vector
def test_public_vectors_kept_by_triggers_equal_a_refresh(catalog: sessionmaker[Session]) -> None:
    """PostgreSQL only: SQLite searches file text in its own FTS5 index, not in this vector."""
    with catalog.begin() as s:
        vectors = "SELECT kind, record_id, record_fts_vector::text FROM public_record ORDER BY 1, 2"
        kept = s.execute(text(vectors)).all()
        refresh_public_records(s)
        assert s.execute(text(vectors)).all() == kept
        assert any("nang" in v for _, _, v in kept)  # the decision's text layer


def _decision(dossier: Dossier) -> Document:
    return next(d for d in dossier.documents if d.title.startswith("Quyết định"))


def run_in(session: Session, text: str, **kw: object) -> CatalogPage:
    return catalog_search(session, text, visible=PUBLIC, **kw)  # type: ignore[arg-type]


DECISION: dict[str, Any] = {
    "decision_number": "12/QĐ-LTLS",
    "decision_date": date(2025, 1, 10),
    "reason": "Thông tin cá nhân",
    "by": "lưu trữ viên",
}
